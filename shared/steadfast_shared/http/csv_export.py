"""Content negotiation for the answers that are also a spreadsheet: JSON by default, CSV on request.

A route that can answer as CSV declares ``responses=CSV_ANSWER`` and, when :func:`wants_csv` says the
client asked for ``text/csv`` (``Accept: text/csv``) over JSON, returns :func:`csv_response`: every
cell goes through :func:`steadfast_shared.exports.write_csv`, so no formula in the data runs when the
file is opened in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from steadfast_shared.exports import write_csv

CSV_MEDIA_TYPE = "text/csv"

#: The OpenAPI ``responses`` of a route that also answers as CSV.
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "JSON, or with `Accept: text/csv` a CSV file (formula cells neutralised with a `'`)",
    }
}


def _preferences(accept: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found[media.lower()] = max(quality, found.get(media.lower(), 0.0))
    return found


def wants_csv(request: Request) -> bool:
    """Whether the client's ``Accept`` prefers ``text/csv`` to JSON (JSON wins a tie and ``*/*``)."""
    preferences = _preferences(request.headers.get("accept", ""))
    csv_quality = preferences.get(CSV_MEDIA_TYPE, preferences.get("text/*", 0.0))
    json_quality = max(
        preferences.get("application/json", 0.0),
        preferences.get("application/*", 0.0),
        preferences.get("*/*", 0.0),
    )
    return csv_quality > 0 and csv_quality > json_quality


def csv_response(
    filename: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    headers: dict[str, str] | None = None,
) -> Response:
    """A ``text/csv`` answer (UTF-8, to be saved as ``filename``) with formula cells neutralised."""
    return Response(
        content=write_csv(columns, rows).encode("utf-8"),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
