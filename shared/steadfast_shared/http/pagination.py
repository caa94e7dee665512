"""Cursor (keyset) pagination: stable under inserts, and cheap at any depth.

A list endpoint orders by a unique key (for example ``(external_id, id)``); the cursor is the opaque,
URL-safe encoding of the last row's key. ``paginate`` fetches ``limit + 1`` rows to know whether there
is a next page.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from steadfast_shared.errors import ValidationFailed

T = TypeVar("T")
S = TypeVar("S")

MAX_LIMIT = 500


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    cursor: Annotated[str | None, Query(description="the next_cursor of the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page; null on the last"
    )


def _encode(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [
            v.isoformat() if isinstance(v, date | datetime) else str(v) if isinstance(v, uuid.UUID) else v
            for v in values
        ]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError("wrong shape")
        values: list[Any] = []
        for column, value in zip(columns, raw, strict=True):
            python_type = column.type.python_type
            if value is None:
                values.append(None)
            elif python_type is datetime:
                values.append(datetime.fromisoformat(value))
            elif python_type is date:
                values.append(date.fromisoformat(value))
            elif python_type is uuid.UUID:
                values.append(uuid.UUID(value))
            else:
                values.append(python_type(value))
        return values
    except (ValueError, TypeError, json.JSONDecodeError, NotImplementedError) as exc:
        raise ValidationFailed.field(
            "cursor", "invalid_cursor", "the cursor is not one this API issued"
        ) from exc


async def paginate(
    session: AsyncSession,
    query: Select[Any],
    *,
    key_columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    key_of: Callable[[Any], Sequence[Any]],
    params: PageParams,
    to_item: Callable[[Any], S],
) -> Page[S]:
    """One page of ``query`` (scalars) ordered by ``key_columns`` ascending, after ``params.cursor``."""
    if params.cursor:
        values = _decode(params.cursor, key_columns)
        bound = [literal(v, type_=c.type) for c, v in zip(key_columns, values, strict=True)]
        query = query.where(tuple_(*key_columns) > tuple_(*bound))
    query = query.order_by(*key_columns).limit(params.limit + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = _encode(key_of(rows[params.limit - 1])) if len(rows) > params.limit else None
    return Page[S](items=[to_item(r) for r in rows[: params.limit]], next_cursor=next_cursor)
