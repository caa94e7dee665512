"""Pausing Python's cyclic garbage collector over work that makes many objects in no cycle.

Each collection the allocations set off walks every object made since the last one, so work that makes
a few hundred thousand short-lived rows (a bulk import's batch: the rows, their events and envelopes,
the records written; a day's facts in the metrics service, a million small records) spends a large
share of its time in collections that find nothing. Reference
counting frees those objects all the same; the collector runs again when the last overlapping pause
ends. A pause should cover bounded work (one batch, not a whole file), so that whatever cycles the work
does make are collected between pauses and memory stays flat.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """The pauses now open (they may overlap: concurrent requests, and work in worker threads), and
    whether the collector ran before the first of them."""

    lock = threading.Lock()
    open = 0
    resume = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector paused inside the block (and any overlapping block, in any thread)."""
    with _Pauses.lock:
        if _Pauses.open == 0:
            _Pauses.resume = gc.isenabled()
            gc.disable()
        _Pauses.open += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.open -= 1
            if _Pauses.open == 0 and _Pauses.resume:
                gc.enable()
