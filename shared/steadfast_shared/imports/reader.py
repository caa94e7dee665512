"""Reading a spooled CSV body into numbered records, recovering from a malformed one.

Numbering follows what a spreadsheet shows: the header is row 1 and each record is one row, however
many physical lines its quoted cells span; a blank line is a row too. Each record also carries the
physical line it starts on, for a text editor.

Lines are split on the bytes ``\\n`` / ``\\r\\n`` only, then decoded one by one with the file's
encoding: characters that ``str.splitlines`` would treat as line ends (U+2028, U+0085, form feed...)
stay inside their cell, and a byte that does not decode is reported on the row it is on. Only
encodings in which those bytes mean what they mean in ASCII are accepted (UTF-8, Windows-1252,
ISO 8859-x...), so splitting before decoding is exact.

A record that is not valid CSV (a stray quote, an unclosed quoted cell, a row longer than
:data:`MAX_ROW_BYTES`, an undecodable byte) becomes a :class:`BadRecord` and reading resumes at the
line after the one the bad record began on, so the rows after it are still read and reported.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

#: The longest physical line (and so the longest row) an import accepts.
MAX_ROW_BYTES = 1024 * 1024
#: The longest cell: the csv module's own default, named so the message can say it.
MAX_CELL_CHARS = csv.field_size_limit()

_ASCII_PROBE = '\n\r,"abcAZ09-/:. '


class UnsupportedEncoding(ValueError):
    """The charset names no codec, or one whose line ends, commas and quotes are not ASCII's."""


def codec_name(encoding: str) -> str:
    """The canonical codec name for a charset label, refusing those the reader cannot split exactly."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise UnsupportedEncoding(f"{encoding!r} names no known character encoding") from None
    try:
        ascii_compatible = _ASCII_PROBE.encode(info.name) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        ascii_compatible = False
    if not ascii_compatible:
        raise UnsupportedEncoding(
            f"{encoding!r} is not supported: send the file as UTF-8 (or an ASCII-based encoding such as "
            "windows-1252)"
        )
    return info.name


@dataclass(frozen=True)
class Record:
    row: int
    line: int
    cells: list[str]


@dataclass(frozen=True)
class BadRecord:
    row: int
    line: int
    reason: str
    message: str


class _LineProblem(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class _Lines:
    """The body's physical lines from a byte offset, decoded, counting lines and bytes as it goes."""

    def __init__(self, binary: BinaryIO, encoding: str, offset: int, line: int) -> None:
        self._binary = binary
        self._encoding = encoding
        self.offset = offset
        self.line = line

    def __iter__(self) -> Iterator[str]:
        self._binary.seek(self.offset)
        while True:
            raw = self._binary.readline(MAX_ROW_BYTES + 1)
            if not raw:
                return
            self.line += 1
            self.offset += len(raw)
            if len(raw) > MAX_ROW_BYTES:
                self.offset = _skip_line(self._binary, self.offset)
                raise _LineProblem(
                    "row_too_long", f"line {self.line} is longer than {MAX_ROW_BYTES // 1024} KiB"
                )
            if self.offset == len(raw) and raw.startswith(codecs.BOM_UTF8) and self._encoding == "utf-8":
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode(self._encoding)
            except UnicodeDecodeError as exc:
                label = "UTF-8" if self._encoding == "utf-8" else self._encoding
                hint = (
                    " (a file saved from Excel is often windows-1252: say so with charset=windows-1252)"
                    if self._encoding == "utf-8"
                    else ""
                )
                raise _LineProblem(
                    "not_utf8" if self._encoding == "utf-8" else "not_decodable",
                    f"line {self.line} is not valid {label}: byte 0x{raw[exc.start]:02x} at position "
                    f"{exc.start + 1}{hint}",
                ) from exc


def _skip_line(binary: BinaryIO, offset: int) -> int:
    """The offset after the line that starts at ``offset``, read in bounded pieces."""
    binary.seek(offset)
    while True:
        piece = binary.readline(MAX_ROW_BYTES)
        offset += len(piece)
        if not piece or piece.endswith(b"\n"):
            return offset


def starts_with_bom(binary: BinaryIO) -> bool:
    binary.seek(0)
    found = binary.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    binary.seek(0)
    return found


def read_records(binary: BinaryIO, encoding: str = "utf-8") -> Iterator[Record | BadRecord]:
    """Every row of the body in order (header included, as row 1): a record, or why it is not one."""
    encoding = codec_name(encoding)
    offset, line, row = 0, 0, 0
    while True:
        lines = _Lines(binary, encoding, offset, line)
        reader = csv.reader(lines, dialect="excel", strict=True)
        while True:
            start_offset, start_line = lines.offset, lines.line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, _LineProblem) as exc:
                row += 1
                yield _bad_record(row, start_line, exc)
                # Resume after the line the bad record began on (an unclosed quote swallowed the rest).
                offset, line = _skip_line(binary, start_offset), start_line
                break
            row += 1
            yield Record(row=row, line=start_line, cells=cells)


def _bad_record(row: int, line: int, exc: Exception) -> BadRecord:
    if isinstance(exc, _LineProblem):
        return BadRecord(row=row, line=line, reason=exc.reason, message=exc.message)
    text = str(exc)
    if "field larger than field limit" in text:
        message = (
            f'a cell is longer than {MAX_CELL_CHARS:,} characters: most often a quote (") opens a '
            "cell that is never closed"
        )
    elif "unexpected end of data" in text:
        message = 'a quoted cell is never closed: the quote (") that opens it has no partner'
    else:
        message = f"the row is not valid CSV: {text}"
    return BadRecord(row=row, line=line, reason="malformed_csv", message=message)
