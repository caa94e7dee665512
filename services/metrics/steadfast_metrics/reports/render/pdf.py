"""The board report as a PDF (fpdf2, its core font Helvetica): the title and month, the KPI table, the
watch lists' counts and a table per team.

The core fonts hold latin-1 only, so every text goes through :func:`latin1` first: a name such as "Zoë"
stays as it is, typographic signs become their ASCII spelling (``≤`` ``<=``, ``…`` ``...``, an en dash
``-``), an accented letter outside latin-1 loses its accent (``Ł`` ``L``, ``ć`` ``c``) and anything else
is a ``?``, so no text can make the rendering fail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace

from steadfast_metrics.reports.render.html import title_of
from steadfast_metrics.reports.render.text import day_text, kpi_lines, month_text, team_lines
from steadfast_metrics.reports.schemas import BoardReport

FONT = "Helvetica"

_REPLACEMENTS = {
    "\u2264": "<=",  # less-than or equal to
    "\u2265": ">=",  # greater-than or equal to
    "\u2260": "!=",  # not equal to
    "\u2026": "...",  # horizontal ellipsis
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark
    "\u201a": ",",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u2022": "*",  # bullet
    "\u2192": "->",  # rightwards arrow
    "\u2190": "<-",  # leftwards arrow
    "\u20ac": "EUR",  # euro sign
    "\u0141": "L",  # latin capital letter l with stroke
    "\u0142": "l",  # latin small letter l with stroke
    "\u0110": "D",  # latin capital letter d with stroke
    "\u0111": "d",  # latin small letter d with stroke
    "\u0126": "H",  # latin capital letter h with stroke
    "\u0127": "h",  # latin small letter h with stroke
    "\u0152": "OE",  # latin capital ligature oe
    "\u0153": "oe",  # latin small ligature oe
    "\u0131": "i",  # latin small letter dotless i
    "\u2122": "(TM)",  # trade mark sign
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u200b": "",  # zero width space
    "\ufeff": "",  # zero width no-break space
}

_HEADINGS = FontFace(emphasis="BOLD", fill_color=(243, 242, 241))


def latin1(text: str) -> str:
    """``text`` in latin-1, as a core font can show it (see the module docstring)."""
    out = []
    for character in text:
        replacement = _REPLACEMENTS.get(character)
        if replacement is not None:
            out.append(replacement)
        elif ord(character) < 256:
            out.append(" " if unicodedata.category(character) == "Cc" else character)
        else:
            decomposed = unicodedata.normalize("NFKD", character)
            kept = "".join(c for c in decomposed if ord(c) < 256 and not unicodedata.combining(c))
            out.append(latin1(kept) if kept else "?")
    return "".join(out)


class _BoardPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="C")


def _table(pdf: FPDF, widths: Sequence[float], rows: Sequence[Sequence[str]]) -> None:
    with pdf.table(
        col_widths=tuple(widths),
        width=sum(widths),
        align="LEFT",
        text_align="LEFT",
        headings_style=_HEADINGS,
        line_height=pdf.font_size * 1.4,
        padding=1,
    ) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(latin1(value))


#: The room a heading needs below it (its table's headings and first rows), else it starts a new page.
_KEEP_WITH_NEXT = 35


def _heading(pdf: FPDF, text: str, size: float = 13) -> None:
    if pdf.will_page_break(_KEEP_WITH_NEXT):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FONT, style="B", size=size)
    pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, size=9)


def board_pdf(report: BoardReport) -> bytes:
    title = title_of(report)
    as_of = day_text(report.as_of)
    pdf = _BoardPdf(orientation="landscape", format="A4")
    pdf.set_title(latin1(title))
    pdf.set_author(latin1(f"Steadfast, {report.council}"))
    pdf.set_lang("en")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    pdf.set_font(FONT, style="B", size=18)
    pdf.multi_cell(0, 9, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    since = day_text(report.previous_as_of) if report.previous_as_of else "no earlier month"
    for line in (
        f"Council: {report.council}. Month: {month_text(report)}. Figures as at {as_of}; changes since "
        f"{since}.",
        f"Strategy version {report.strategy_version}. Computed {report.computed_at:%Y-%m-%d %H:%M} UTC "
        f"(projections revision {report.freshness.revision}).",
    ):
        pdf.multi_cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, f"Key performance indicators at {as_of}")
    _table(
        pdf,
        (78, 28, 55, 42, 26, 48),
        [
            ("KPI", "Value", "Target", "Status", "Change", "Forecast at the target date"),
            *((k.title, k.value, k.target, k.status, k.change, k.forecast) for k in kpi_lines(report)),
        ],
    )

    _heading(pdf, f"Watch lists at {as_of}")
    _table(
        pdf,
        (200, 40),
        [("Watch list", "Count"), *((w.title, str(w.count)) for w in report.watch_lists)],
    )

    _heading(pdf, f"Teams at {as_of}")
    if not report.teams:
        pdf.multi_cell(0, 5, latin1(f"No team had anything to measure at {as_of}."))
    for team in report.teams:
        _heading(pdf, f"Team {team.team}", size=11)
        _table(
            pdf,
            (110, 40, 60),
            [("KPI", "Value", "Status"), *((t.title, t.value, t.status) for t in team_lines(report, team))],
        )
    return bytes(pdf.output())
