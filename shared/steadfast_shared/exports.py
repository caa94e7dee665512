"""Formula cells, and CSV exports that a spreadsheet opens without running anything in them.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula, and one that begins with a tab or a carriage return may be read the same way
once the spreadsheet trims it: ``=HYPERLINK("https://...", "Open")`` in a worker's name becomes a link
in the manager's export (OWASP, *CSV Injection*). A number is data, though: ``-1`` and ``+44`` are
not formulas, nor is an ISO date, which begins with its year.

- Imports *report* such cells (:func:`is_formula`, used by :mod:`steadfast_shared.imports.csv`) and
  store them as given: ``- visited at home`` is a note, not an attack, and refusing it would refuse
  councils' real data.
- Exports *neutralise* them (:func:`neutralise`): the cell is written with a leading ``'``, which a
  spreadsheet shows as text and does not display, so ``=1+1`` is shown as ``=1+1``, never as ``2``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

#: The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would run ``value`` as a formula: it begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return, and it is not a plain number (``-1``, ``+0.5``, ``-1e3``)."""
    return bool(value) and value[0] in FORMULA_TRIGGERS and _NUMBER.fullmatch(value) is None


def neutralise(value: str) -> str:
    """``value`` as a spreadsheet shows it without running it: a formula cell gets a leading ``'``."""
    return "'" + value if is_formula(value) else value


def cell_text(value: Any) -> str:
    """A value as a CSV cell: empty for None, ISO for dates, the code for a code, and text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (header row first, CRLF line ends as RFC 4180 has them) with every cell
    converted by :func:`cell_text`, so no cell of it runs as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    return out.getvalue()
