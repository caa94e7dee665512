"""The dashboard's forms: ``application/x-www-form-urlencoded`` bodies read with a cap (the pages sit
outside ``/v1``, where the request guard caps API bodies), and the strategy form turned into a target."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from urllib.parse import parse_qs

from fastapi import Request
from pydantic import ValidationError

from steadfast_metrics.strategy.document import Direction, Milestone, StrategyDocument, Target
from steadfast_shared.errors import PayloadTooLarge, UnsupportedMediaType

#: The largest form body a page takes.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, list[str]]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise UnsupportedMediaType(
            f"send the form as {FORM_TYPE}", errors=[{"field": "content-type", "reason": "unsupported"}]
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(
                f"a form is at most {limit} bytes",
                errors=[{"field": "body", "reason": "too_large", "limit": limit}],
            )
    try:
        return parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnsupportedMediaType(
            "the form is not valid UTF-8 form data", errors=[{"field": "body", "reason": "malformed"}]
        ) from exc


def first(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


class FormErrors(Exception):
    """A form that breaks a rule: each field that is wrong, and why, for the page's error summary."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def target_from_form(form: Mapping[str, list[str]]) -> Target:
    """A KPI's target from the strategy form: direction, tolerance and the milestone rows (blank rows
    are left out)."""
    errors: list[tuple[str, str]] = []
    direction_text = first(form, "direction") or ""
    try:
        direction = Direction(direction_text)
    except ValueError:
        errors.append(("direction", "Choose whether the value is to be at least or at most the target"))
        direction = Direction.at_least
    tolerance: float | None = None
    tolerance_text = (first(form, "tolerance_pct") or "").strip()
    if tolerance_text:
        try:
            tolerance = float(tolerance_text)
            if not math.isfinite(tolerance):
                raise ValueError(tolerance_text)
        except ValueError:
            errors.append(("tolerance_pct", "The near band must be a number, like 5"))
    milestones: list[Milestone] = []
    dates, values = form.get("milestone_date", []), form.get("milestone_value", [])
    for row, (day_text, value_text) in enumerate(zip(dates, values, strict=False), start=1):
        day_text, value_text = day_text.strip(), value_text.strip()
        if not day_text and not value_text:
            continue
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            errors.append((f"milestone_date_{row}", f"Milestone {row}: enter a real date"))
            continue
        try:
            milestones.append(Milestone(date=day, value=float(value_text)))
        except (ValueError, ValidationError):  # not a number, or not a finite one (1e400, nan)
            errors.append((f"milestone_value_{row}", f"Milestone {row}: the value must be a number"))
    if not milestones and not errors:
        errors.append(
            ("milestone_date_1", "Enter at least one milestone: a date and the value to reach by then")
        )
    if errors:
        raise FormErrors(errors)
    try:
        return Target(direction=direction, milestones=milestones, tolerance_pct=tolerance)
    except ValidationError as exc:
        raise FormErrors([(_field(e["loc"]), _message(e["msg"])) for e in exc.errors()]) from exc


def with_target(document: StrategyDocument, kpi_id: str, target: Target) -> StrategyDocument:
    """The document with one KPI's target replaced (``applies_from`` kept from the old target)."""
    old = document.targets.get(kpi_id)
    if old is not None and old.applies_from is not None:
        target = target.model_copy(update={"applies_from": old.applies_from})
    return document.model_copy(update={"targets": {**document.targets, kpi_id: target}})


def _field(location: tuple[int | str, ...]) -> str:
    return "tolerance_pct" if "tolerance_pct" in location else "milestone_date_1"


def _message(message: str) -> str:
    return message.removeprefix("Value error, ").capitalize()
