"""The answers of the returns' imports beyond the CSV imports' own (``ImportResult``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from steadfast_shared.imports import ImportResult


class SheetReport(BaseModel):
    sheet: str
    annex_a_list: int = Field(description="the Annex A list the sheet holds")
    rows: int = 0
    ignored_columns: list[str] = Field(
        default_factory=list, description="columns of Ofsted's layout not imported"
    )
    unknown_columns: list[str] = Field(
        default_factory=list, description="columns not in Ofsted's layout: ignored"
    )
    warnings: list[str] = Field(
        default_factory=list, description="cells read as empty (an Excel error such as #N/A)"
    )


class AnnexAResult(ImportResult):
    """The Annex A import's answer: each record written (``key`` names the sheet and the kind of
    record), each row refused (``column`` names the sheet and the column), and per sheet what was read."""

    as_of: date
    sheets: list[SheetReport] = Field(default_factory=list)
    ignored_sheets: list[str] = Field(default_factory=list, description="sheets of lists not imported")
