"""Pausing the cyclic garbage collector: overlapping pauses (concurrent loads, imports) keep it paused
until the last ends, and it is left as it was found."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from steadfast_shared.collector import collection_paused


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_enabled")
def test_overlapping_pauses_resume_the_collector_when_the_last_ends() -> None:
    first = collection_paused()
    second = collection_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends before the second (concurrent requests)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_resumes_when_the_work_raises() -> None:
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_pauses_in_many_threads_at_once_keep_it_paused_until_the_last_ends() -> None:
    # The KPI engine and the watch lists run in worker threads (kpis.service.off_the_loop): their
    # pauses overlap in any order.
    start = threading.Barrier(8)
    seen_enabled: list[bool] = []

    def work() -> None:
        start.wait()
        for _ in range(2000):
            with collection_paused():
                seen_enabled.append(gc.isenabled())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not any(seen_enabled)
    assert gc.isenabled()
