"""The SSDA903 social worker episodes file (children looked after return), read and written.

Pure functions: the file's columns, its row model, the one place the 903 codes meet Steadfast's, and
how a child's allocations become the file's episodes. The column layout is DfE's, as the 2024
specification copied in ``returns/spec/ssda903-2024.yml`` has it (``SocialWorker``):
``CHILD, DOB, SW_ID, SW_DECOM, SW_DEC, SW_REASON``, dates ``DD/MM/YYYY``.

- ``CHILD`` is the child's ``external_id``; ``SW_ID`` the worker's ``external_id`` (see
  :func:`sw_id` for the ``XX`` prefix the DfE's rule asks of an id that is not a registration number).
- ``SW_DECOM`` / ``SW_DEC`` are the allocation's ``start_date`` / ``end_date``. Both files and
  Steadfast use the handover day as the end of one episode and the start of the next (Steadfast's
  intervals are half-open), so the dates are copied as they are.
- ``SW_REASON`` (why the child's social worker changed) is stored as the allocation's ``reason``:
  Steadfast's codes *are* the 903 codes (:class:`~steadfast_shared.codes.AllocationChangeReason`).
- ``DOB``: only the year of birth is kept; the date is never stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, StringConstraints

from steadfast_shared.codes import AllocationChangeReason
from steadfast_shared.schemas import Input

#: The file's columns, in the DfE's order.
COLUMNS: tuple[str, ...] = ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON")

#: The 903 reason codes, each as Steadfast stores it: the one place the two code lists meet.
REASONS: dict[str, AllocationChangeReason] = {code.value: code for code in AllocationChangeReason}

#: The reason written for the child's first social worker when none was recorded: "first contact".
FIRST_CONTACT = AllocationChangeReason.FCONTA
#: The reason written for a later change of worker when none was recorded.
UNRECORDED_CHANGE = AllocationChangeReason.OTHERS

#: The prefixes the DfE accepts at the start of a social worker id (rule SW02): a Social Work England
#: registration number begins ``SW``; ``XX`` marks the council's own id for a worker.
SW_ID_PREFIXES = ("SW", "XX")
LOCAL_ID_PREFIX = "XX"
#: The shortest social worker id the DfE accepts (rule SW02 from 2025-26).
MIN_SW_ID_LENGTH = 4


def _reason(value: object) -> object:
    """A reason cell as a code: trimmed and upper-cased (``pcchan `` is ``PCCHAN``)."""
    return value.strip().upper() if isinstance(value, str) else value


Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SocialWorkerEpisodeRow(Input):
    """One row of the 903 social worker episodes file (the column names are the DfE's)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    CHILD: Reference
    DOB: date | None = None
    SW_ID: Reference
    SW_DECOM: date
    SW_DEC: date | None = None
    SW_REASON: Annotated[AllocationChangeReason | None, BeforeValidator(_reason)] = None


def sw_id(worker_external_id: str) -> str:
    """The worker's id as the file writes it: the ``external_id`` when it already has the form the DfE
    accepts (``SW...``, ``XX...``, at least four characters), else ``XX`` followed by it."""
    if worker_external_id[:2].upper() in SW_ID_PREFIXES and len(worker_external_id) >= MIN_SW_ID_LENGTH:
        return worker_external_id
    return LOCAL_ID_PREFIX + worker_external_id


def worker_references(value: str) -> tuple[str, ...]:
    """The worker external ids a file's ``SW_ID`` may name, in the order they are tried: the id as it is,
    then without the ``XX`` that :func:`sw_id` put in front of a local id."""
    if value[:2].upper() == LOCAL_ID_PREFIX and len(value) > 2:
        return (value, value[2:])
    return (value,)


def collection_year(year: int) -> tuple[date, date]:
    """The first and last days of the collection year that ends on 31 March ``year``."""
    return date(year - 1, 4, 1), date(year, 3, 31)


def uk_date(day: date | None) -> str:
    return "" if day is None else day.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class WorkerAllocation:
    """What the export reads of an allocation."""

    worker_id: uuid.UUID
    worker_external_id: str
    start_date: date
    end_date: date | None
    reason: AllocationChangeReason | None


@dataclass(frozen=True, slots=True)
class SocialWorkerEpisode:
    """One row of the file: who was the child's social worker over ``[start, end)``."""

    worker_external_id: str
    start: date
    end: date | None
    reason: AllocationChangeReason


def social_worker_timeline(allocations: Iterable[WorkerAllocation]) -> list[SocialWorkerEpisode]:
    """A child's allocations as one social worker at a time, earliest first.

    The file has one social worker per day, Steadfast may hold two allocations at once (a handover
    recorded late, a co-worker). On each day the child's social worker is the worker of the active
    allocation that began last (on the same day: the one that ends later, then the worker's id), so
    a handover ends the earlier allocation's episode, and an earlier worker who still holds the child
    when a later one's allocation ends is the child's social worker again. Days with no allocation are
    gaps (the file shows them; nothing is invented). Each episode keeps its allocation's reason; an
    episode with none is the first contact when it is the child's first, otherwise an unrecorded
    change (``OTHERS``)."""
    held = sorted(
        allocations,
        key=lambda a: (a.start_date, a.end_date or date.max, a.worker_external_id),
    )
    points = sorted({a.start_date for a in held} | {a.end_date for a in held if a.end_date is not None})
    # Each span between two consecutive start or end days belongs to one allocation (or to none).
    pieces: list[list[Any]] = []
    for index, day in enumerate(points):
        following = points[index + 1] if index + 1 < len(points) else None
        active = [a for a in held if a.start_date <= day and (a.end_date is None or day < a.end_date)]
        if not active:
            continue
        current = active[-1]  # sorted by start, then end: the one begun last (and ending last)
        if pieces and pieces[-1][0] is current and pieces[-1][2] == day:
            pieces[-1][2] = following
        else:
            pieces.append([current, day, following])
    episodes: list[SocialWorkerEpisode] = []
    for allocation, start, end in pieces:
        if episodes and episodes[-1].worker_external_id == allocation.worker_external_id:
            previous = episodes[-1]
            if previous.end == start:  # the same worker again from the day the last allocation ended
                episodes[-1] = SocialWorkerEpisode(
                    previous.worker_external_id, previous.start, end, previous.reason
                )
                continue
        if start == allocation.start_date and allocation.reason is not None:
            reason = allocation.reason
        else:
            reason = FIRST_CONTACT if not episodes else UNRECORDED_CHANGE
        episodes.append(SocialWorkerEpisode(allocation.worker_external_id, start, end, reason))
    return episodes


def episodes_in_year(
    episodes: Sequence[SocialWorkerEpisode], first: date, last: date
) -> list[SocialWorkerEpisode]:
    """The episodes the return for the year ``[first, last]`` holds: those under way on some day of it.

    An episode that ended after 31 March was still open then, and is written open (no ``SW_DEC``)."""
    kept = []
    for episode in episodes:
        if episode.start > last or (episode.end is not None and episode.end <= first):
            continue
        end = episode.end if episode.end is not None and episode.end <= last else None
        kept.append(SocialWorkerEpisode(episode.worker_external_id, episode.start, end, episode.reason))
    return kept


def file_rows(child_external_id: str, episodes: Iterable[SocialWorkerEpisode]) -> list[tuple[str, ...]]:
    """The file's rows for one child (``DOB`` left empty: Steadfast holds only the year of birth)."""
    return [
        (child_external_id, "", sw_id(e.worker_external_id), uk_date(e.start), uk_date(e.end), e.reason.value)
        for e in episodes
    ]
