"""The watch lists as answers: each list computed from the day's facts (the same cached facts the KPIs
use), mapped to its read model, and paged by position (the list is recomputed for each page, in a stable
order, so a page boundary moves only when the facts change between requests)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from pydantic import BaseModel

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.kpis.service import KpiService, off_the_loop
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_metrics.watchlists import lists
from steadfast_metrics.watchlists.schemas import (
    ChildWithManyWorkersRead,
    ChildWithOverdueVisitRead,
    NqswOverProtectedCaseloadRead,
    RegistrationExpiringRead,
    WatchListIndex,
    WatchListPage,
    WatchListSummary,
    WorkerOverLimitRead,
)
from steadfast_shared.errors import NotFound, ValidationFailed
from steadfast_shared.http.pagination import PageParams


@dataclass(frozen=True)
class WatchList:
    name: str
    title: str
    compute: Callable[[Facts, StrategyDocument, date, str | None], Sequence[Any]]
    read: type[BaseModel]
    #: Whether the records name a child (their external id is added from the facts).
    of_children: bool = False


WATCH_LISTS: dict[str, WatchList] = {
    w.name: w
    for w in (
        WatchList(
            "workers-over-caseload-limit",
            "Case-holding workers over their caseload limit, by how much",
            lists.workers_over_limit,
            WorkerOverLimitRead,
        ),
        WatchList(
            "nqsws-over-protected-caseload",
            "Newly qualified social workers holding more than their protected caseload",
            lists.nqsws_over_protected_caseload,
            NqswOverProtectedCaseloadRead,
        ),
        WatchList(
            "children-with-overdue-visits",
            "Children on a CP or CLA plan whose statutory visit is overdue",
            lists.children_with_overdue_visits,
            ChildWithOverdueVisitRead,
            of_children=True,
        ),
        WatchList(
            "children-with-4-or-more-workers",
            "Children with 4 or more social workers in their current run of episodes",
            lists.children_with_4_or_more_workers,
            ChildWithManyWorkersRead,
            of_children=True,
        ),
        WatchList(
            "registrations-expiring",
            "Social Work England registrations expiring soon (or expired) of workers in post",
            lists.registrations_expiring,
            RegistrationExpiringRead,
        ),
    )
}


@dataclass
class WatchListService:
    kpis: KpiService

    async def index(self, as_of: date, team: str | None) -> WatchListIndex:
        facts, strategy, fresh = await self.kpis.day(as_of)
        counts = await off_the_loop(_counts, facts, strategy.document, as_of, team)
        return WatchListIndex(
            as_of=as_of,
            team=team,
            lists=[
                WatchListSummary(name=w.name, title=w.title, count=counts[w.name])
                for w in WATCH_LISTS.values()
            ],
            freshness=fresh,
        )

    async def page(
        self,
        name: str,
        as_of: date,
        team: str | None,
        params: PageParams,
        sort: str | None = None,
        descending: bool = False,
    ) -> WatchListPage[Any]:
        """One page of a list, in the list's own order, or sorted by one of its fields (``sort``; the
        list's order breaks ties)."""
        watch = WATCH_LISTS.get(name)
        if watch is None:
            raise NotFound(f"there is no watch list {name!r}; the lists are: {', '.join(WATCH_LISTS)}")
        facts, strategy, fresh = await self.kpis.day(as_of)
        rows = list(await off_the_loop(watch.compute, facts, strategy.document, as_of, team))
        if sort is not None:
            rows = _sorted(rows, sort, descending)
        start = _offset(params.cursor)
        chosen = rows[start : start + params.limit]
        names = facts.child_external_ids if watch.of_children else {}
        items = [
            watch.read.model_validate(
                {**asdict(r), **({"child_external_id": names.get(r.child_id)} if watch.of_children else {})}
            )
            for r in chosen
        ]
        after = start + len(chosen)
        return WatchListPage[Any](
            name=watch.name,
            title=watch.title,
            as_of=as_of,
            team=team,
            total=len(rows),
            items=items,
            next_cursor=_cursor(after) if after < len(rows) else None,
            freshness=fresh,
        )


def _counts(facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None) -> dict[str, int]:
    return {w.name: len(w.compute(facts, strategy, as_of, team)) for w in WATCH_LISTS.values()}


def _sorted(rows: list[Any], field: str, descending: bool) -> list[Any]:
    if rows and field not in {f.name for f in fields(rows[0])}:
        raise ValidationFailed.field("sort", "unknown_field", f"the list has no field {field!r}")
    present = [r for r in rows if getattr(r, field) is not None]
    missing = [r for r in rows if getattr(r, field) is None]
    return sorted(present, key=lambda r: getattr(r, field), reverse=descending) + missing


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"at:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = raw.partition(":")
        if kind != "at" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed.field(
            "cursor", "invalid_cursor", "the cursor is not one this API gave"
        ) from exc
