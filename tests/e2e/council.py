"""A realistic small council for the end-to-end tests, as the three services' CSV extracts, and an
independent calculation of the KPIs of SPEC section 3 straight from those rows.

The calculation here is written from the SPEC's words, on the raw CSV rows, sharing no code with the
metrics service (not its engine, not its date helpers' callers): the end-to-end test compares the two.
Only the bank-holiday calendar is shared (``holidays``, the maintained library both sides take it from).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays
from dateutil.relativedelta import relativedelta

ROLES_HOLDING = {"social_worker", "senior_social_worker", "consultant_practitioner"}
TEAMS = ("ACIN1", "PC3")
D = date.fromisoformat


@dataclass
class Council:
    workers: list[dict[str, str]] = field(default_factory=list)
    episodes: list[dict[str, str]] = field(default_factory=list)
    allocations: list[dict[str, str]] = field(default_factory=list)
    assessments: list[dict[str, str]] = field(default_factory=list)
    visits: list[dict[str, str]] = field(default_factory=list)
    reviews: list[dict[str, str]] = field(default_factory=list)
    iro_visits: list[dict[str, str]] = field(default_factory=list)
    audits: list[dict[str, str]] = field(default_factory=list)

    def csv(self, kind: str) -> str:
        rows: list[dict[str, str]] = getattr(self, "episodes" if kind == "children" else kind)
        columns = list(rows[0])
        lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]
        return "\n".join(lines) + "\n"


def build_council(seed: int = 20150302) -> Council:
    """About 30 workers in two teams and 120 children over 2014-15, with handovers, a leaver, NQSWs,
    students, agency staff, A-B-A allocations, children with 4+ workers, late assessments across bank
    holidays, CP and CLA visits in and out of time, reviews with and without IRO visits, and audits (full,
    dip samples, moderated)."""
    rng = random.Random(seed)
    council = Council()
    roles = (
        ["social_worker"] * 14
        + ["senior_social_worker"] * 4
        + ["consultant_practitioner"] * 3
        + ["practice_manager"] * 2
        + ["independent_reviewing_officer"] * 2
        + ["student"] * 3
    )
    for n, role in enumerate(roles, start=1):
        team = TEAMS[n % 2]
        start = D("2013-01-07") + timedelta(days=rng.randrange(0, 500))
        end = ""
        if n in (3, 9):  # two leavers: one on 2015-03-02 (an as_of), one earlier
            end = "2015-03-02" if n == 3 else "2014-12-15"
        asye = ""
        if role == "social_worker" and n in (2, 6, 10, 12):
            asye = ["2014-03-02", "2014-09-01", "2014-12-01", "2015-03-02"][(n // 4) % 4 if n != 12 else 0]
            start = min(start, D(asye))
        council.workers.append(
            {
                "external_id": f"W{n:03d}",
                "display_name": f"Worker {n}",
                "role": role,
                "employment_type": rng.choice(["permanent"] * 6 + ["fixed_term", "agency", "agency"]),
                "fte": rng.choice(["1.0", "1.0", "1.0", "0.8", "0.5"]),
                "team": team,
                "start_date": start.isoformat(),
                "end_date": end,
                "leaving_reason": "resignation" if end else "",
                "asye_start": asye,
                "protected_development_pct": str(rng.choice([10, 15, 20])) if asye else "",
                "swe_registration_number": f"SW{n:06d}" if role != "student" else "",
                "swe_registration_expiry": "2016-03-31" if role != "student" else "",
            }
        )
    holders = [w for w in council.workers if w["role"] in ROLES_HOLDING | {"student"}]
    for c in range(1, 121):
        child = f"C{c:04d}"
        first = D("2014-04-01") + timedelta(days=rng.randrange(0, 300))
        kind = rng.choice(["cin", "cin", "cp", "cla", "assessment"])
        closed = rng.random() < 0.2
        closes = first + timedelta(days=rng.randrange(30, 200)) if closed else None
        council.episodes.append(_episode(child, kind, first, closes))
        if not closed and rng.random() < 0.25:  # a step up: cin -> cp on the same day the cin ends
            stepped = first + timedelta(days=rng.randrange(20, 120))
            council.episodes[-1]["episode_end"] = stepped.isoformat()
            council.episodes.append(_episode(child, "cp", stepped, None))
        if c % 17 == 0:  # a child with both cp and cla
            council.episodes.append(_episode(child, "cla", first + timedelta(days=7), None))
        # allocations: a run of workers, handovers on the same day (half-open)
        day = first
        chain = rng.choice([1, 1, 2, 2, 3, 4, 5])
        previous = None
        for k in range(chain):
            # a few busy workers hold many of the children (so some are over their limit)
            worker = rng.choice(holders[:4]) if rng.random() < 0.3 else rng.choice(holders)
            if c % 11 == 0 and k == 2 and previous is not None:  # A, B, A
                worker = council.allocations[-2]["_worker"]  # type: ignore[assignment]
            nxt = day + timedelta(days=rng.randrange(20, 90))
            last = k == chain - 1
            council.allocations.append(
                {
                    "child_external_id": child,
                    "worker_external_id": worker["external_id"] if isinstance(worker, dict) else worker,
                    "start_date": day.isoformat(),
                    "end_date": "" if last and not closed else nxt.isoformat(),
                    "_worker": worker,  # type: ignore[dict-item]
                }
            )
            previous = worker
            day = nxt
        if kind == "assessment" or c % 5 == 0:
            started = first + timedelta(days=rng.randrange(0, 20))
            took = rng.choice([30, 40, 44, 45, 46, 50, 62, 65, 70])
            done = _add_working_days(started, took) if rng.random() < 0.85 else None
            council.assessments.append(
                {
                    "external_id": f"A{c:04d}",
                    "child_external_id": child,
                    "start_date": started.isoformat(),
                    "completed_date": done.isoformat() if done else "",
                }
            )
        visit = first
        while True:
            visit += timedelta(days=rng.choice([5, 9, 12, 14, 20, 30, 45]))
            if visit > D("2015-07-01"):
                break
            council.visits.append(
                {
                    "child_external_id": child,
                    "visit_date": visit.isoformat(),
                    "visit_type": kind if kind in ("cp", "cla", "cin") else "other",
                }
            )
        review = first
        for _ in range(4):
            review += timedelta(days=rng.choice([60, 90, 120, 180]))
            if review > D("2015-07-01"):
                break
            council.reviews.append({"child_external_id": child, "review_date": review.isoformat()})
            if rng.random() < 0.6:
                iro = review + timedelta(days=rng.choice([0, 10, 40, 80]))
                council.iro_visits.append({"child_external_id": child, "visit_date": iro.isoformat()})
    for allocation in council.allocations:
        del allocation["_worker"]
    for a in range(1, 61):
        child = f"C{rng.randrange(1, 121):04d}"
        worker = rng.choice(holders)
        grade = rng.choice(["outstanding", "good", "good", "requires_improvement", "inadequate"])
        council.audits.append(
            {
                "external_id": f"AU{a:03d}",
                "child_external_id": child,
                "worker_external_id": worker["external_id"],
                "team": worker["team"],
                "audit_type": "dip_sample" if a % 4 == 0 else "full",
                "completed_date": (D("2014-06-01") + timedelta(days=rng.randrange(0, 400))).isoformat(),
                "overall_grade": grade,
                "contact_grade": rng.choice(["", "good", "outstanding", "requires_improvement"]),
                "moderated_grade": rng.choice(["", "", "", "good", "inadequate"]),
            }
        )
    return council


def _episode(child: str, kind: str, start: date, end: date | None) -> dict[str, str]:
    return {
        "external_id": child,
        "episode_type": kind,
        "episode_start": start.isoformat(),
        "episode_end": end.isoformat() if end else "",
    }


_BANK = holidays.country_holidays("GB", subdiv="ENG", years=range(2012, 2019))


def _working(day: date) -> bool:
    return day.weekday() < 5 and day not in _BANK


def _add_working_days(start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if _working(day):
            n -= 1
    return day


def _working_days_between(a: date, b: date) -> int:
    return sum(1 for k in range(1, (b - a).days + 1) if _working(a + timedelta(days=k)))


def _active(start: str, end: str, day: date) -> bool:
    return D(start) <= day and (not end or day < D(end))


def _pct(num: float, den: float) -> float | None:
    return None if den == 0 else 100 * num / den


def expected_kpis(council: Council, as_of: date, window_days: int = 182) -> dict[str, float | None]:
    """The KPIs of SPEC section 3 (those the CSV extracts feed), as the SPEC words them."""
    window_start = as_of - timedelta(days=window_days - 1)
    in_post = [w for w in council.workers if _active(w["start_date"], w["end_date"], as_of)]
    qualified = [w for w in in_post if w["role"] != "student"]

    def nqsw(w: dict[str, str]) -> bool:
        if w["role"] == "student" or not w["asye_start"]:
            return False
        start = D(w["asye_start"])
        return start <= as_of < start + relativedelta(months=12)

    worker_of_row = {w["external_id"]: w for w in council.workers}

    def caseload(worker_id: str) -> int:
        return len(
            {
                a["child_external_id"]
                for a in council.allocations
                if a["worker_external_id"] == worker_id and _active(a["start_date"], a["end_date"], as_of)
            }
        )

    holding = [w for w in qualified if w["role"] in ROLES_HOLDING]

    def capacity(w: dict[str, str]) -> float:
        weight = 0.5 if w["role"] == "consultant_practitioner" else 1.0
        return float(w["fte"]) * weight * (0.9 if nqsw(w) else 1.0)

    out: dict[str, float | None] = {}
    fte_q = sum(float(w["fte"]) for w in qualified)
    fte_perm = sum(float(w["fte"]) for w in qualified if w["employment_type"] != "agency")
    out["permanent_rate"] = _pct(fte_perm, fte_q)
    total_capacity = sum(capacity(w) for w in holding)
    out["average_caseload"] = (
        sum(caseload(w["external_id"]) for w in holding) / total_capacity if total_capacity else None
    )
    over = [w for w in holding if caseload(w["external_id"]) > int(capacity(w) * 16)]
    out["workers_over_caseload_limit"] = _pct(len(over), len(holding))
    heads = [w for w in in_post if nqsw(w) or w["role"] == "student"]
    out["nqsw_student_average_caseload"] = (
        sum(caseload(w["external_id"]) for w in heads) / len(heads) if heads else None
    )
    nq = [
        float(w["protected_development_pct"]) for w in qualified if nqsw(w) and w["protected_development_pct"]
    ]
    out["nqsw_protected_development_pct"] = sum(nq) / len(nq) if nq else None

    full = [
        a
        for a in council.audits
        if a["audit_type"] == "full" and window_start <= D(a["completed_date"]) <= as_of
    ]
    grades = [a["moderated_grade"] or a["overall_grade"] for a in full]
    out["audits_good_or_better_pct"] = _pct(sum(g in ("outstanding", "good") for g in grades), len(grades))
    out["audits_inadequate_pct"] = _pct(sum(g == "inadequate" for g in grades), len(grades))
    contact = [a["contact_grade"] for a in full if a["contact_grade"]]
    out["audits_contact_good_or_better_pct"] = _pct(
        sum(g in ("outstanding", "good") for g in contact), len(contact)
    )
    done = [
        a
        for a in council.assessments
        if a["completed_date"] and window_start <= D(a["completed_date"]) <= as_of
    ]
    out["assessments_within_45_days_pct"] = _pct(
        sum(_working_days_between(D(a["start_date"]), D(a["completed_date"])) <= 45 for a in done), len(done)
    )

    children = sorted({e["external_id"] for e in council.episodes})
    statutory = 0
    in_time = 0
    at_most_3 = 0
    open_children = 0
    for child in children:
        episodes = [e for e in council.episodes if e["external_id"] == child]
        active = [e for e in episodes if _active(e["episode_start"], e["episode_end"], as_of)]
        if not active:
            continue
        open_children += 1
        visits = [D(v["visit_date"]) for v in council.visits if v["child_external_id"] == child]
        checks = []
        for kind in ("cp", "cla"):
            of_kind = [e for e in active if e["episode_type"] == kind]
            if not of_kind:
                continue
            start = min(D(e["episode_start"]) for e in of_kind)
            seen = [v for v in visits if start <= v <= as_of]
            reference = max(seen) if seen else start
            due = _add_working_days(reference, 10) if kind == "cp" else reference + timedelta(days=42)
            checks.append(as_of <= due)
        if checks:
            statutory += 1
            in_time += all(checks)
        # the continuous run of episodes back from the active ones
        run_start = min(D(e["episode_start"]) for e in active)
        changed = True
        while changed:
            changed = False
            for e in episodes:
                s, end = D(e["episode_start"]), e["episode_end"]
                if s < run_start and (not end or D(end) >= run_start):
                    run_start, changed = s, True
        workers = {
            a["worker_external_id"]
            for a in council.allocations
            if a["child_external_id"] == child
            and D(a["start_date"]) <= as_of
            and (not a["end_date"] or D(a["end_date"]) > run_start)
        }
        at_most_3 += len(workers) <= 3
    out["statutory_visits_in_time_pct"] = _pct(in_time, statutory)
    out["children_with_at_most_3_workers_pct"] = _pct(at_most_3, open_children)

    held = 0
    with_visit = 0
    for review in council.reviews:
        day = D(review["review_date"])
        if not window_start <= day <= as_of:
            continue
        earlier = [
            D(r["review_date"])
            for r in council.reviews
            if r["child_external_id"] == review["child_external_id"] and D(r["review_date"]) < day
        ]
        if not earlier:
            continue
        previous = max(earlier)
        held += 1
        with_visit += any(
            v["child_external_id"] == review["child_external_id"] and previous < D(v["visit_date"]) < day
            for v in council.iro_visits
        )
    out["iro_midway_visit_pct"] = _pct(with_visit, held)

    agency = sum(float(w["fte"]) for w in qualified if w["employment_type"] == "agency")
    employed = fte_perm
    out["agency_rate"] = _pct(agency, agency + employed)
    year_ago = as_of - relativedelta(years=1) + timedelta(days=1)
    leavers = [
        w
        for w in council.workers
        if w["role"] != "student"
        and w["employment_type"] != "agency"
        and w["end_date"]
        and year_ago <= D(w["end_date"]) <= as_of
    ]
    out["turnover_rate"] = _pct(sum(float(w["fte"]) for w in leavers), employed)
    del worker_of_row
    return out
