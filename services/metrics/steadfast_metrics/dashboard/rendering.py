"""Pages from templates: the Jinja2 environment (autoescaped), the filters that put numbers, statuses and
dates in words, and the headers every page carries (a content security policy that lets the page load
only the service's own files, no caching of figures about children)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from steadfast_metrics.dashboard.session import CSRF_FIELD, Viewer, keep_csrf
from steadfast_metrics.kpis.status import Status, Trend
from steadfast_metrics.settings import MetricsSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Scripts and styles only from the service itself; no frames, no plugins, forms only to itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

#: A status in words and a symbol, never by colour alone; the tag class gives the colour beside them.
STATUS_WORDS: Mapping[Status | None, tuple[str, str, str]] = {
    Status.met: ("Met", "✓", "govuk-tag--green"),
    Status.near: ("Near", "≈", "govuk-tag--yellow"),
    Status.not_met: ("Not met", "✗", "govuk-tag--red"),
    Status.no_data: ("No data", "\N{EN DASH}", "govuk-tag--grey"),
    None: ("Monitoring", "•", "govuk-tag--blue"),
}
TREND_WORDS: Mapping[Trend, tuple[str, str, str]] = {
    Trend.better: ("Better", "▲", "govuk-tag--green"),
    Trend.worse: ("Worse", "▼", "govuk-tag--red"),
    Trend.unchanged: ("Unchanged", "▬", "govuk-tag--grey"),
}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "No data"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "placements":
        return f"{value:.0f}"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:.1f}"


def format_number(value: float | None, places: int = 1) -> str:
    if value is None:
        return "\N{EN DASH}"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.{places}f}"


def format_change(change: float | None, unit: str) -> str:
    """A change in words: "up 2.5 points", "down 0.8", "no change"."""
    if change is None:
        return "no earlier figure"
    if round(change, 2) == 0:
        return "no change"
    amount = f"{abs(change):.1f}" if unit != "score" else f"{abs(change):.2f}"
    points = " points" if unit == "%" else ""
    return f"{'up' if change > 0 else 'down'} {amount}{points}"


def format_day(day: date | None) -> str:
    return day.strftime("%-d %B %Y") if day is not None else "\N{EN DASH}"


def format_moment(moment: datetime | None) -> str:
    return moment.strftime("%-d %B %Y at %H:%M:%S UTC") if moment is not None else "\N{EN DASH}"


def format_cell(value: object) -> str:
    """A table cell: a date in words, nothing as a dash, a code in words."""
    if value is None:
        return "\N{EN DASH}"
    if isinstance(value, date):
        return format_day(value)
    if isinstance(value, float):
        return format_number(value, 2)
    return str(getattr(value, "value", value)).replace("_", " ")


def query(base: Mapping[str, Any], **changes: Any) -> str:
    """``?as_of=...&team=...`` with ``changes`` applied (a None value drops the parameter)."""
    merged = {**base, **changes}
    kept = {k: v for k, v in merged.items() if v is not None and v != ""}
    return "?" + urlencode(kept) if kept else ""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        value=format_value,
        number=format_number,
        change=format_change,
        day=format_day,
        moment=format_moment,
        cell=format_cell,
    )
    env.globals.update(STATUS_WORDS=STATUS_WORDS, TREND_WORDS=TREND_WORDS, query=query, CSRF_FIELD=CSRF_FIELD)
    return env


ENVIRONMENT = _environment()


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    viewer: Viewer | None,
    status_code: int = 200,
) -> HTMLResponse:
    settings: MetricsSettings = request.app.state.settings
    html = ENVIRONMENT.get_template(template).render(
        {
            "request_path": request.url.path,
            "viewer": viewer,
            "demo_council": settings.demo_council,
            "council": settings.council,
            **context,
        }
    )
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    keep_csrf(request, response, viewer)
    return response
