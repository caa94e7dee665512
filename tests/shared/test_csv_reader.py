"""The CSV reader: rows numbered as a spreadsheet shows them, and recovery from a malformed row."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pydantic import BaseModel

from steadfast_shared.codes import EmploymentType, EpisodeType, Role
from steadfast_shared.imports.normalise import CellNormaliser, DateFormat, Normalisation
from steadfast_shared.imports.reader import (
    MAX_ROW_BYTES,
    BadRecord,
    Record,
    UnsupportedEncoding,
    codec_name,
    read_records,
)


def rows(data: bytes, encoding: str = "utf-8") -> list[tuple[int, int, object]]:
    out: list[tuple[int, int, object]] = []
    for r in read_records(io.BytesIO(data), encoding):
        out.append((r.row, r.line, r.cells if isinstance(r, Record) else r.reason))
    return out


def test_a_quoted_newline_keeps_one_row_and_the_rows_after_it_keep_their_numbers() -> None:
    data = b'a,b\n1,"two\nlines"\n3,x\n'
    assert rows(data) == [(1, 1, ["a", "b"]), (2, 2, ["1", "two\nlines"]), (3, 4, ["3", "x"])]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c", "\x1d", "\x1e", "\x0b"])
def test_characters_that_splitlines_treats_as_line_ends_stay_in_their_cell(separator: str) -> None:
    data = f"a,b\n1,x{separator}y\n2,z\n".encode()
    assert rows(data) == [(1, 1, ["a", "b"]), (2, 2, ["1", f"x{separator}y"]), (3, 3, ["2", "z"])]


def test_windows_line_ends_and_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbfa,b\r\n1,2\r\n"
    assert rows(data) == [(1, 1, ["a", "b"]), (2, 2, ["1", "2"])]


def test_a_bad_byte_far_into_the_file_is_reported_on_its_own_row() -> None:
    lines = [b"a,b\n"] + [f"{i},ok\n".encode() for i in range(2, 3000)] + [b"3000,Zo\xeb\n", b"3001,ok\n"]
    result = rows(b"".join(lines))
    assert result[2998] == (2999, 2999, ["2999", "ok"])
    assert result[2999] == (3000, 3000, "not_utf8")
    assert result[3000] == (3001, 3001, ["3001", "ok"])


def test_the_same_bytes_read_as_windows_1252() -> None:
    text = "Zo\u00eb \u2013 \u2018caf\u00e9\u2019"
    data = f"a,b\n1,{text}\n".encode("cp1252")
    assert rows(data, "windows-1252") == [(1, 1, ["a", "b"]), (2, 2, ["1", text])]


def test_an_undefined_windows_1252_byte_is_named() -> None:
    [*_, (row, _, reason)] = rows(b"a,b\n1,\x81\n", "windows-1252")
    assert (row, reason) == (2, "not_decodable")


def test_a_stray_quote_is_one_bad_row_and_the_rows_after_it_are_read() -> None:
    data = b'a,b\n1,ok\n2,"never closed\n3,ok\n4,ok\n'
    assert rows(data) == [
        (1, 1, ["a", "b"]),
        (2, 2, ["1", "ok"]),
        (3, 3, "malformed_csv"),
        (4, 4, ["3", "ok"]),
        (5, 5, ["4", "ok"]),
    ]


def test_a_quote_followed_by_text_is_one_bad_row() -> None:
    data = b'a,b\n1,"x"y\n2,ok\n'
    assert rows(data) == [(1, 1, ["a", "b"]), (2, 2, "malformed_csv"), (3, 3, ["2", "ok"])]


def test_a_very_long_line_is_one_bad_row_read_in_bounded_pieces() -> None:
    data = b"a,b\n1," + b"x" * (MAX_ROW_BYTES * 10) + b"\n2,ok\n"
    assert rows(data) == [(1, 1, ["a", "b"]), (2, 2, "row_too_long"), (3, 3, ["2", "ok"])]


def test_a_cell_longer_than_the_cell_limit_says_so() -> None:
    data = b'a,b\n1,"' + b"x" * 200_000 + b'"\n2,ok\n'
    result = list(read_records(io.BytesIO(data)))
    bad = result[1]
    assert isinstance(bad, BadRecord)
    assert bad.reason == "malformed_csv"
    assert "longer than" in bad.message
    assert isinstance(result[2], Record)
    assert result[2].cells == ["2", "ok"]


def test_nul_bytes_are_kept_for_the_row_model_to_refuse() -> None:
    assert rows(b"a,b\n1,x\x00y\n") == [(1, 1, ["a", "b"]), (2, 2, ["1", "x\x00y"])]


@pytest.mark.parametrize("label", ["utf-16", "utf-32", "utf-16-le", "no-such-charset"])
def test_encodings_the_reader_cannot_split_exactly_are_refused(label: str) -> None:
    with pytest.raises(UnsupportedEncoding):
        codec_name(label)


@pytest.mark.parametrize(
    ("label", "name"), [("UTF-8", "utf-8"), ("windows-1252", "cp1252"), ("latin1", "iso8859-1")]
)
def test_common_charset_labels(label: str, name: str) -> None:
    assert codec_name(label) == name


class ExampleRow(BaseModel):
    role: Role
    employment_type: EmploymentType | None = None
    episode_type: EpisodeType | None = None
    start_date: date
    end_date: date | None = None


def normalise(
    raw: dict[str, str | None], date_format: DateFormat = DateFormat.iso
) -> tuple[dict, Normalisation]:
    report = Normalisation(encoding="utf-8", date_format=date_format)
    return CellNormaliser(ExampleRow, date_format, report)(dict(raw)), report


def test_labels_become_codes_and_the_answer_counts_them() -> None:
    report = Normalisation(encoding="utf-8", date_format=DateFormat.iso)
    normaliser = CellNormaliser(ExampleRow, DateFormat.iso, report)
    for _ in range(3):
        raw = normaliser(
            {"role": "Social Worker", "employment_type": "Agency", "episode_type": "Child Protection"}
        )
    assert raw == {"role": "social_worker", "employment_type": "agency", "episode_type": "cp"}
    assert [(c.column, c.value, c.normalised_to, c.rows) for c in report.codes] == [
        ("role", "Social Worker", "social_worker", 3),
        ("employment_type", "Agency", "agency", 3),
        ("episode_type", "Child Protection", "cp", 3),
    ]
    advanced, _ = normalise({"role": "Advanced Practitioner"})
    assert advanced["role"] == "consultant_practitioner"


def test_a_label_that_matches_no_code_is_left_for_the_row_model_to_refuse() -> None:
    raw, report = normalise({"role": "Team Manager"})
    assert raw == {"role": "Team Manager"}
    assert report.codes == []


def test_uk_dates_only_when_the_import_says_so() -> None:
    raw, report = normalise({"start_date": "31/03/2015", "end_date": "1/4/2016 00:00"}, DateFormat.uk)
    assert raw == {"start_date": "2015-03-31", "end_date": "2016-04-01"}
    assert report.dates_converted == 2
    iso, _ = normalise({"start_date": "2015-03-31"}, DateFormat.uk)
    assert iso["start_date"] == "2015-03-31"
    ambiguous, report = normalise({"start_date": "03/04/2015"})
    assert ambiguous["start_date"] == "03/04/2015"
    assert report.dates_converted == 0
    impossible, _ = normalise({"start_date": "31/02/2015"}, DateFormat.uk)
    with pytest.raises(ValueError, match="start_date"):
        ExampleRow.model_validate({"role": "student", **impossible})
