"""Bulk CSV imports (SPEC section 4): streamed, upserting, atomic or partial, with precise row errors."""

from steadfast_shared.imports.csv import (
    Importer,
    ImportMode,
    ImportResult,
    RowError,
    RowOutcome,
    run_import,
)

__all__ = ["ImportMode", "ImportResult", "Importer", "RowError", "RowOutcome", "run_import"]
