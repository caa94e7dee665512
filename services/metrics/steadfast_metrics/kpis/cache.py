"""Today's answers without scanning history on every request.

Computing the KPIs loads the dated facts of one day and runs the engine over them. The values of a
(day, team, strategy version) are kept, tagged with the projections' revision (which every applied
event bumps): a request reuses them while the revision is unchanged, or while they are younger than
``kpi_cache_seconds`` when events keep arriving, so a steady stream of events cannot make every read
recompute. Every answer carries ``freshness.computed_at`` and the revision, so a reader sees exactly how
fresh it is. Statuses are never cached: they are judged against the strategy at read time.

While one request recomputes an answer (or reloads a day's facts), every other request for it is
answered at once from the previous one, with that one's ``computed_at`` and revision: no request waits
on a recompute another has started. Only when there is no previous answer do they wait, and then they
share the one computation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.kpis.catalogue import KpiValue

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    value: T
    revision: int
    computed_at: datetime
    stored: float


class _Lru(Generic[T]):
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[object, ...], Entry[T]] = OrderedDict()

    def get(self, key: tuple[object, ...], revision: int, max_age: float) -> Entry[T] | None:
        """The entry, unless it is stale (computed at another revision, and older than ``max_age``)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.revision != revision and time.monotonic() - entry.stored > max_age:
            return None  # kept, to be served while it is recomputed
        self.entries.move_to_end(key)
        return entry

    def previous(self, key: tuple[object, ...]) -> Entry[T] | None:
        """The entry, however stale."""
        return self.entries.get(key)

    def put(self, key: tuple[object, ...], value: T, revision: int, computed_at: datetime) -> Entry[T]:
        entry = Entry(value, revision, computed_at, time.monotonic())
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return entry


class KpiCache:
    """Per process: the facts of the last few days asked for, and the values computed from them."""

    def __init__(self, max_age_seconds: float, facts_entries: int = 2, value_entries: int = 512) -> None:
        self.max_age = max_age_seconds
        self.facts: _Lru[Facts] = _Lru(facts_entries)
        self.values: _Lru[Mapping[str, KpiValue]] = _Lru(value_entries)
        self._locks: dict[tuple[object, ...], asyncio.Lock] = {}

    def being_computed(self, *key: object) -> bool:
        """Whether a request of this process is computing ``key`` now."""
        lock = self._locks.get(key)
        return lock is not None and lock.locked()

    @contextlib.asynccontextmanager
    async def computing(self, *key: object) -> AsyncIterator[None]:
        """One computation of ``key`` at a time in this process: requests that arrive while the facts
        of a day are being loaded wait for them, then find them cached, instead of loading them again."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]

    def get_facts(self, as_of: date, window_days: int, revision: int) -> Entry[Facts] | None:
        return self.facts.get((as_of, window_days), revision, self.max_age)

    def previous_facts(self, as_of: date, window_days: int) -> Entry[Facts] | None:
        """The day's facts as last loaded, while another request reloads them; None if that is not the
        case (nothing is reloading them, or they were never loaded)."""
        if not self.being_computed("facts", as_of, window_days):
            return None
        return self.facts.previous((as_of, window_days))

    def previous_values(
        self, as_of: date, team: str | None, strategy_version: int
    ) -> Entry[Mapping[str, KpiValue]] | None:
        """The values as last computed, while another request recomputes them (else None)."""
        if not self.being_computed("values", as_of, team, strategy_version):
            return None
        return self.values.previous((as_of, team, strategy_version))

    def put_facts(
        self, as_of: date, window_days: int, revision: int, facts: Facts, at: datetime
    ) -> Entry[Facts]:
        return self.facts.put((as_of, window_days), facts, revision, at)

    def get_values(
        self, as_of: date, team: str | None, strategy_version: int, revision: int
    ) -> Entry[Mapping[str, KpiValue]] | None:
        return self.values.get((as_of, team, strategy_version), revision, self.max_age)

    def put_values(
        self,
        as_of: date,
        team: str | None,
        strategy_version: int,
        revision: int,
        values: Mapping[str, KpiValue],
        at: datetime,
    ) -> Entry[Mapping[str, KpiValue]]:
        return self.values.put((as_of, team, strategy_version), values, revision, at)
