"""Formula cells: which cells a spreadsheet would run, and a CSV writer that runs none of them."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from steadfast_shared.codes import Role
from steadfast_shared.exports import cell_text, is_formula, neutralise, write_csv


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        '=HYPERLINK("https://evil.example","Open")',
        "+44 20 7946 0000",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "-",
        "+",
        "=",
        "--",
        "-1-1",
        "- visited at home",
    ],
)
def test_formula_cells(value: str) -> None:
    assert is_formula(value)
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-1",
        "+1",
        "-1.5",
        "+0.5",
        "-.5",
        "-1e3",
        "1e-3",
        "2015-03-31",
        "Amara Okafor",
        "HR-1001",
        "a=b",
        " =1+1",
        "'=1+1",
    ],
)
def test_data_cells(value: str) -> None:
    assert not is_formula(value)
    assert neutralise(value) == value


def test_cells_by_type() -> None:
    assert cell_text(None) == ""
    assert cell_text(-1) == "-1"
    assert cell_text(-0.25) == "-0.25"
    assert cell_text(True) == "true"
    assert cell_text(date(2015, 3, 31)) == "2015-03-31"
    assert cell_text(Role.social_worker) == "social_worker"
    assert cell_text("=1+1") == "'=1+1"


def test_the_writer_quotes_and_neutralises() -> None:
    text = write_csv(["name", "note"], [['=HYPERLINK("x")', 'a "quoted", line\nbreak'], ["-1", None]])
    assert text.startswith("name,note\r\n")
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "note"],
        ['\'=HYPERLINK("x")', 'a "quoted", line\nbreak'],
        ["-1", ""],
    ]
