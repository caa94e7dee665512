"""Loading the demo council into running services, as a council's own systems would: over HTTP.

:func:`load_demo` sets the demo strategy (``PUT /v1/strategy``), imports the extracts through the
services' CSV import endpoints (``POST /v1/imports/...``), establishes the posts and records the student
placements through the staff API, waits until the metrics service has applied every event, and then
back-fills a KPI snapshot a week for the two years (``POST /v1/snapshots/range``), so every trend has its
history.

The progress is kept in a state file (``var/demo-council.json`` under ``make run``): the day and seed the
council was generated for (a resumed load generates the same records), the steps done, and ``loaded``
at the end. Every step is idempotent (the imports upsert by key, creates that already happened are
recognised), so a load that was interrupted is finished by running it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from steadfast_shared.dates import today as local_today
from steadfast_shared.embedded.demo.council import HISTORY_DAYS, DemoCouncil, build_demo_council
from steadfast_shared.strategy.document import SHIPPED_STRATEGY, Milestone, Target

#: The services the loader talks to, by name.
SERVICES = ("staff", "caseload", "audit", "metrics")
CASELOAD_FILES = ("children", "allocations", "assessments", "visits", "reviews", "iro_visits")
DEFAULT_SEED = 2015
#: How long the loader waits for the services to learn the workers, and the metrics service to apply
#: every event.
SETTLE_TIMEOUT_SECONDS = 300.0

Say = Callable[[str], None]


class DemoLoadError(RuntimeError):
    """The demo council could not be loaded (an import refused, a service that does not answer)."""


@dataclass
class DemoState:
    """The state file: what was generated, and how far the load got."""

    today: date
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    status: str = "loading"  # loading, loaded
    steps: list[str] = field(default_factory=list)
    started_at: str = ""
    loaded_at: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> DemoState | None:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        raw["today"] = date.fromisoformat(raw["today"])
        return cls(**raw)

    @classmethod
    def begin(cls, path: Path, today: date, seed: int = DEFAULT_SEED, scale: float = 1.0) -> DemoState:
        state = cls(
            today=today, seed=seed, scale=scale, started_at=datetime.now().isoformat(timespec="seconds")
        )
        state.write(path)
        return state

    @property
    def loaded(self) -> bool:
        return self.status == "loaded"

    def write(self, path: Path) -> None:
        raw = asdict(self)
        raw["today"] = self.today.isoformat()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(raw, indent=2) + "\n")
        os.replace(temporary, path)


def demo_strategy(today: date) -> dict[str, Any]:
    """The demo council's strategy: the shipped targets (80 % permanent, caseload 16, 95 % of
    assessments in 45 working days, 80 % of audits good or better, ...), set two years ago for the end of
    the next financial year."""
    year = today.year + (1 if today.month >= 4 else 0)
    deadline = date(year + 1, 3, 31)
    targets: dict[str, Target] = {}
    for kpi, target in SHIPPED_STRATEGY.targets.items():
        milestone = target.milestones[-1]
        targets[kpi] = target.model_copy(
            update={
                "milestones": [Milestone(date=deadline, value=milestone.value)],
                "applies_from": None,
            }
        )
    start = today - timedelta(days=HISTORY_DAYS)
    document = SHIPPED_STRATEGY.model_copy(
        update={
            "name": "Demo council children's social care workforce strategy "
            f"{start.year}-{str(deadline.year)[2:]}",
            "targets": targets,
        }
    )
    return {"document": document.model_dump(mode="json"), "note": "the generated demo council's strategy"}


@dataclass
class LoadReport:
    council: DemoCouncil
    state: DemoState
    imported: dict[str, dict[str, int]] = field(default_factory=dict)
    snapshots: int = 0
    skipped: bool = False


def weekly_days(today: date) -> list[date]:
    """The snapshot days: every week back from ``today`` over the two years, oldest first."""
    return [today - timedelta(weeks=k) for k in range(HISTORY_DAYS // 7, -1, -1)]


async def load_demo(
    clients: Mapping[str, httpx.AsyncClient],
    state_file: Path,
    *,
    today: date | None = None,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    say: Say = lambda _: None,
) -> LoadReport:
    """Load the demo council through ``clients`` (one per service, authorised with every scope).

    A state file that says ``loaded`` makes this do nothing; one that says ``loading`` is resumed with
    the day, seed and scale it holds; with none, one is started for ``today`` (default: today).
    """
    state = DemoState.read(state_file)
    if state is None:
        state = DemoState.begin(state_file, today or local_today(), seed, scale)
    council = build_demo_council(state.today, state.seed, scale=state.scale)
    report = LoadReport(council=council, state=state)
    if state.loaded:
        report.skipped = True
        return report
    loader = _Loader(clients, council, state, state_file, say, report)
    await loader.run()
    return report


class _Loader:
    def __init__(
        self,
        clients: Mapping[str, httpx.AsyncClient],
        council: DemoCouncil,
        state: DemoState,
        state_file: Path,
        say: Say,
        report: LoadReport,
    ) -> None:
        missing = [s for s in SERVICES if s not in clients]
        if missing:
            raise DemoLoadError(f"no client for {', '.join(missing)}")
        self.http = clients
        self.council = council
        self.state = state
        self.state_file = state_file
        self.say = say
        self.report = report
        self.began = time.perf_counter()

    async def run(self) -> None:
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("strategy", self.strategy),
            ("teams", self.teams),
            ("workers", lambda: self.import_file("staff", "workers")),
            ("worker_changes", lambda: self.import_file("staff", "workers", "worker_changes")),
            ("posts", self.posts),
            ("placements", self.placements),
            ("caseload", self.caseload),
            ("audits", lambda: self.import_file("audit", "audits", retry_unknown_workers=True)),
            ("settled", self.settled),
            ("snapshots", self.snapshots),
        ]
        for name, step in steps:
            if name in self.state.steps:
                continue
            began = time.perf_counter()
            await step()
            self.state.steps.append(name)
            self.state.seconds[name] = round(time.perf_counter() - began, 2)
            self.state.write(self.state_file)
            if name == "settled":
                self.say(f"  demo council: records loaded and applied ({self.elapsed()})")
        self.state.status = "loaded"
        self.state.loaded_at = datetime.now().isoformat(timespec="seconds")
        self.state.write(self.state_file)

    def elapsed(self) -> str:
        return f"{time.perf_counter() - self.began:.1f} s"

    # -- the metrics service's strategy -------------------------------------------------------------

    async def strategy(self) -> None:
        http = self.http["metrics"]
        body = demo_strategy(self.council.today)
        current = await http.get("/v1/strategy")
        _check(current, "GET /v1/strategy")
        if current.json()["document"]["name"] == body["document"]["name"]:
            return
        answer = await http.put(
            "/v1/strategy", json=body, headers={"If-Match": current.headers.get("ETag", "")}
        )
        _check(answer, "PUT /v1/strategy")

    # -- staff ----------------------------------------------------------------------------------------

    async def teams(self) -> None:
        http = self.http["staff"]
        for team in self.council.teams:
            answer = await http.post("/v1/teams", json={"code": team.code, "name": team.name})
            if answer.status_code != 409:
                _check(answer, f"POST /v1/teams {team.code}")

    async def posts(self) -> None:
        http = self.http["staff"]
        limit = asyncio.Semaphore(4)

        async def establish(post: Any) -> None:
            async with limit:
                answer = await http.post(
                    "/v1/posts",
                    json={
                        "external_id": post.external_id,
                        "team": post.team,
                        "role": str(post.role),
                        "fte": post.fte,
                        "start_date": post.start_date.isoformat(),
                    },
                )
                held: set[str] = set()
                if answer.status_code == 409:  # established by an earlier, interrupted load
                    existing = await http.get(f"/v1/posts/{post.external_id}")
                    _check(existing, f"GET /v1/posts/{post.external_id}")
                    held = {h["start_date"] for h in existing.json()["holdings"]}
                else:
                    _check(answer, f"POST /v1/posts {post.external_id}")
                for worker, start, end in post.holdings:
                    if start.isoformat() in held:
                        continue
                    body = {"worker": worker, "start_date": start.isoformat()}
                    if end is not None:
                        body["end_date"] = end.isoformat()
                    holding = await http.post(f"/v1/posts/{post.external_id}/holdings", json=body)
                    _check(holding, f"POST /v1/posts/{post.external_id}/holdings")

        await asyncio.gather(*(establish(p) for p in self.council.posts))

    async def placements(self) -> None:
        http = self.http["staff"]
        for p in self.council.placements:
            answer = await http.post(
                "/v1/student-placements",
                json={
                    "external_id": p.external_id,
                    "student": p.student,
                    "university": p.university,
                    "placement": p.placement,
                    "team": p.team,
                    "start_date": p.start_date.isoformat(),
                    "end_date": p.end_date.isoformat(),
                },
            )
            if answer.status_code != 409:
                _check(answer, f"POST /v1/student-placements {p.external_id}")

    # -- caseload and audit ---------------------------------------------------------------------------

    async def caseload(self) -> None:
        for kind in CASELOAD_FILES:
            await self.import_file("caseload", kind, retry_unknown_workers=kind == "allocations")

    async def import_file(
        self, service: str, kind: str, rows: str | None = None, *, retry_unknown_workers: bool = False
    ) -> None:
        """One extract, atomically. A file naming workers the service has not yet learnt from the staff
        events is sent again once it has (atomic mode wrote nothing of it)."""
        body = self.council.csv(rows or kind).encode()
        if not body:
            return
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while True:
            answer = await self.http[service].post(
                f"/v1/imports/{kind}?mode=atomic", content=body, headers={"Content-Type": "text/csv"}
            )
            if answer.status_code == 200:
                counts = answer.json()["counts"]
                self.report.imported[rows or kind] = counts
                return
            errors = answer.json().get("errors", []) if answer.status_code == 422 else []
            waiting = errors and all(e.get("reason") == "unknown_worker" for e in errors)
            if not (retry_unknown_workers and waiting) or time.monotonic() > deadline:
                raise DemoLoadError(
                    f"{service} refused the demo's {rows or kind} extract: {answer.status_code} "
                    f"{answer.text[:2000]}"
                )
            await asyncio.sleep(0.5)

    # -- metrics ----------------------------------------------------------------------------------------

    async def settled(self) -> None:
        """Until every producer's outbox is published and the metrics service has applied it all: no
        backlog on the producers' ``/metrics``, no consumer lag in the KPI answer's freshness, and the
        events applied unchanged for a second."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        previous: int | None = None
        while time.monotonic() < deadline:
            backlog = 0
            for service in ("staff", "caseload", "audit"):
                backlog += await _backlog(self.http[service], service)
            answer = await self.http["metrics"].get("/v1/kpis/permanent_rate")
            _check(answer, "GET /v1/kpis/permanent_rate")
            fresh = answer.json()["freshness"]
            lag = sum(p["lag"] for p in fresh["consumer_lag"])
            applied = sum(s["events_applied"] for s in fresh["sources"])
            if backlog == 0 and lag == 0 and applied == previous and applied > 0:
                return
            previous = applied if backlog == 0 and lag == 0 else None
            await asyncio.sleep(1.0)
        raise DemoLoadError(f"the metrics service did not catch up within {SETTLE_TIMEOUT_SECONDS:.0f} s")

    async def snapshots(self) -> None:
        # Newest first: the recent trend is there first while the older weeks follow.
        for day in reversed(weekly_days(self.council.today)):
            answer = await self.http["metrics"].post(
                "/v1/snapshots", params={"as_of": day.isoformat()}, timeout=600
            )
            _check(answer, "POST /v1/snapshots")
            self.report.snapshots += 1


async def _backlog(http: httpx.AsyncClient, service: str) -> int:
    """``steadfast_outbox_backlog{service=...}`` from the service's Prometheus endpoint (0 if absent)."""
    answer = await http.get("/metrics")
    _check(answer, f"GET {service} /metrics")
    total = 0
    for line in answer.text.splitlines():
        if line.startswith("steadfast_outbox_backlog{") and f'service="{service}"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def _check(answer: httpx.Response, what: str) -> None:
    if answer.status_code >= 400:
        raise DemoLoadError(f"{what}: {answer.status_code} {answer.text[:2000]}")
