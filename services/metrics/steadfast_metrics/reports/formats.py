"""The board report's formats and how a request chooses one: ``?format=`` when given, else the ``Accept``
header (its q-values; JSON wins a tie, ``*/*`` and no header at all), else a 406 problem when the header
accepts none of them."""

from __future__ import annotations

from enum import StrEnum

from steadfast_shared.errors import SteadfastError


class ReportFormat(StrEnum):
    json = "json"
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"
    csv = "csv"


#: Each format's media type, in the order a tie between them is decided (JSON first).
MEDIA_TYPES: dict[ReportFormat, str] = {
    ReportFormat.json: "application/json",
    ReportFormat.html: "text/html",
    ReportFormat.pdf: "application/pdf",
    ReportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.csv: "text/csv",
}


class NotAcceptable(SteadfastError):
    """The ``Accept`` header names none of the media types the report is answered in."""

    status = 406
    code = "not_acceptable"
    title = "Not acceptable"


def _ranges(accept: str) -> dict[str, float]:
    """Each media range of an ``Accept`` header with its q-value (the highest, if named twice)."""
    found: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        found[media] = max(quality, found.get(media, 0.0))
    return found


def _quality(media_type: str, ranges: dict[str, float]) -> float:
    """The q-value the most specific range matching ``media_type`` gives it (RFC 9110, 12.5.1)."""
    kind = media_type.split("/", 1)[0]
    for candidate in (media_type, f"{kind}/*", "*/*"):
        if candidate in ranges:
            return ranges[candidate]
    return 0.0


def choose_format(requested: ReportFormat | None, accept: str | None) -> ReportFormat:
    """The format to answer in: ``requested`` (``?format=``) when given, else the one ``accept``
    prefers; JSON when there is no header or it names nothing (an empty header)."""
    if requested is not None:
        return requested
    ranges = _ranges(accept or "")
    if not ranges:
        return ReportFormat.json
    best, quality = ReportFormat.json, 0.0
    for fmt, media_type in MEDIA_TYPES.items():
        found = _quality(media_type, ranges)
        if found > quality:
            best, quality = fmt, found
    if quality <= 0:
        offered = ", ".join(MEDIA_TYPES.values())
        raise NotAcceptable(
            f"the board report is answered as {offered}; the Accept header takes none of them "
            "(or ask with ?format=json, html, pdf, xlsx or csv)",
            available=list(MEDIA_TYPES.values()),
        )
    return best
