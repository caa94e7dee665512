"""The dashboard as a browser meets it, over HTTP: signing in with a token, the overview's tiles against
the API's figures for the same day and team, a KPI's trend and table, a team's caseloads, the watch
lists, the strategy form (its scope, CSRF token and stale-version check), and the pages' headers.

The browser tests (``tests/browser``) drive the same pages in Chromium; these pin the server's answers.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest_asyncio

from steadfast_metrics.bootstrap import definition
from steadfast_metrics.dashboard.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from steadfast_shared.testing import ServiceClient
from tests.metrics.test_kpis_api import AS_OF, READ, WRITE, by_id, get_kpis, seed, worked_example


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Any) -> ServiceClient:
    service: ServiceClient = await start_service(
        definition, consumers_enabled=False, snapshot_interval_days=0
    )
    await seed(service, *worked_example())
    return service


class Elements(HTMLParser):
    """Every element's tag and attributes, and the text inside each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.elements.append((tag, found))
        if tag not in {"input", "meta", "link", "br", "img"}:
            self._open.append(found.get("id"))
            if found.get("id"):
                self.text_by_id[found["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in {"input", "meta", "link", "br", "img"}:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for opened in self._open:
            if opened:
                self.text_by_id[opened] += data

    def having(self, attribute: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.elements if attribute in attrs]

    def text(self, element_id: str) -> str:
        return " ".join(self.text_by_id[element_id].split())


async def signed_in(service: ServiceClient, *scopes: str) -> dict[str, str]:
    """The cookies of a browser that signed in with a token carrying ``scopes``."""
    page = await service.http.get("/sign-in?next=/")
    assert page.status_code == 200
    csrf = page.cookies[CSRF_COOKIE]
    answer = await service.http.post(
        "/sign-in",
        data={"token": service.token(*scopes), CSRF_FIELD: csrf, "next": "/"},
        cookies={CSRF_COOKIE: csrf},
    )
    assert answer.status_code == 303, answer.text
    return {SESSION_COOKIE: answer.cookies[SESSION_COOKIE], CSRF_COOKIE: csrf}


async def test_a_page_without_a_token_leads_to_the_sign_in_page_and_back(metrics: ServiceClient) -> None:
    answer = await metrics.http.get(f"/kpis/permanent_rate?as_of={AS_OF}")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query)["next"] == [f"/kpis/permanent_rate?as_of={AS_OF}"]

    page = await metrics.http.get(answer.headers["location"])
    csrf = page.cookies[CSRF_COOKIE]
    signed = await metrics.http.post(
        "/sign-in",
        data={"token": metrics.token(*READ), CSRF_FIELD: csrf, "next": f"/kpis/permanent_rate?as_of={AS_OF}"},
        cookies={CSRF_COOKIE: csrf},
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/kpis/permanent_rate?as_of={AS_OF}"
    cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie


async def test_sign_in_refuses_a_bad_token_a_token_without_the_scope_and_a_foreign_next(
    metrics: ServiceClient,
) -> None:
    page = await metrics.http.get("/sign-in?next=//evil.example/")
    csrf = page.cookies[CSRF_COOKIE]
    assert 'name="next" value="/"' in page.text  # a foreign "next" becomes the overview
    bad = await metrics.http.post(
        "/sign-in", data={"token": "not-a-jwt", CSRF_FIELD: csrf}, cookies={CSRF_COOKIE: csrf}
    )
    assert bad.status_code == 401
    assert "This token does not sign you in" in bad.text
    assert SESSION_COOKIE not in bad.cookies
    unscoped = await metrics.http.post(
        "/sign-in", data={"token": metrics.token("staff:read"), CSRF_FIELD: csrf}, cookies={CSRF_COOKIE: csrf}
    )
    assert unscoped.status_code == 403
    assert "metrics:read" in unscoped.text
    forged = await metrics.http.post(
        "/sign-in", data={"token": metrics.token(*READ), CSRF_FIELD: "x" * 43}, cookies={CSRF_COOKIE: csrf}
    )
    assert forged.status_code == 403


async def test_the_overview_tiles_show_the_api_figures_for_the_day_and_team(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    for team in (None, "ACIN1", "PC3"):
        query = f"as_of={AS_OF}" + (f"&team={team}" if team else "")
        page = await metrics.http.get(f"/?{query}", cookies=cookies)
        assert page.status_code == 200, page.text
        api = by_id(await get_kpis(metrics, query))
        shown = {
            tile["data-kpi"]: tile
            for tile in Elements(page.text).having("data-kpi")
            if tile.get("id", "").startswith("tile-")
        }
        assert set(shown) == set(api)
        values = {attrs["data-value"] for attrs in Elements(page.text).having("data-value")}
        for kpi_id, answer in api.items():
            expected = "" if answer["value"] is None else str(answer["value"])
            assert expected in values, (team, kpi_id)
    council = by_id(await get_kpis(metrics))["average_caseload"]["value"]
    team = by_id(await get_kpis(metrics, f"as_of={AS_OF}&team=ACIN1"))["average_caseload"]["value"]
    assert council != team  # switching team changes what the tiles show


async def test_a_kpi_page_has_the_definition_the_trend_table_and_the_forecast(metrics: ServiceClient) -> None:
    for weeks_back in (3, 2, 1, 0):
        day = AS_OF - timedelta(weeks=weeks_back)
        taken = await metrics.http.post(f"/v1/snapshots?as_of={day}", headers=metrics.auth(*WRITE))
        assert taken.status_code == 201, taken.text
    cookies = await signed_in(metrics, *READ)
    page = await metrics.http.get(f"/kpis/average_caseload?as_of={AS_OF}", cookies=cookies)
    assert page.status_code == 200, page.text
    html = Elements(page.text)
    api = (
        await metrics.http.get(f"/v1/kpis/average_caseload?as_of={AS_OF}", headers=metrics.auth(*READ))
    ).json()
    assert html.text("kpi-value") == f"{api['value']:.1f}"
    assert "children allocated to case-holding workers" in page.text
    (chart,) = [a for a in html.having("data-chart")]
    assert chart["role"] == "img"
    history = (
        await metrics.http.get(f"/v1/kpis/average_caseload/history?to={AS_OF}", headers=metrics.auth(*READ))
    ).json()
    rows = [t for t, a in html.elements if t == "tr"]
    assert len(history["points"]) == 4
    assert len(rows) >= 1 + 4  # the header row and one row per snapshot
    assert "Forecast at" in page.text


async def test_the_team_page_shows_each_workers_caseload_against_their_limit(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    page = await metrics.http.get(f"/teams/PC3?as_of={AS_OF}", cookies=cookies)
    assert page.status_code == 200, page.text
    rows = {a["data-worker"]: int(a["data-caseload"]) for a in Elements(page.text).having("data-worker")}
    # C (consultant practitioner) 6, D (NQSW) 7, F (student) 3; E is a practice manager: no bar.
    assert rows == {"C": 6, "D": 7, "F": 3}
    assert "NQSW" in page.text
    assert "Student" in page.text
    over = await metrics.http.get(f"/teams/ACIN1?as_of={AS_OF}", cookies=cookies)
    first = Elements(over.text).having("data-worker")[0]
    assert (first["data-worker"], first["data-caseload"]) == ("A", "18")  # over their limit of 16: first
    assert "Over by 2" in over.text


async def test_the_watch_lists_count_as_the_api_does_and_a_list_sorts_and_pages(
    metrics: ServiceClient,
) -> None:
    cookies = await signed_in(metrics, *READ)
    page = await metrics.http.get(f"/watch-lists?as_of={AS_OF}", cookies=cookies)
    api = (await metrics.http.get(f"/v1/watch-lists?as_of={AS_OF}", headers=metrics.auth(*READ))).json()
    html = Elements(page.text)
    for listed in api["lists"]:
        assert any(a.get("data-list") == listed["name"] for a in html.having("data-list"))
    overdue = next(w for w in api["lists"] if w["name"] == "children-with-overdue-visits")
    assert overdue["count"] > 2
    first = await metrics.http.get(
        f"/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=2&sort=days_overdue&order=asc",
        cookies=cookies,
    )
    assert first.status_code == 200, first.text
    assert f"{overdue['count']} on the list" in first.text
    assert 'aria-sort="ascending"' in first.text
    assert 'rel="next"' in first.text
    unknown = await metrics.http.get(
        f"/watch-lists/children-with-overdue-visits?as_of={AS_OF}&sort=colour", cookies=cookies
    )
    assert unknown.status_code == 422
    assert "sort" in unknown.text


async def test_changing_a_target_needs_the_scope_the_forms_token_and_the_current_version(
    metrics: ServiceClient,
) -> None:
    reader = await signed_in(metrics, *READ)
    refused = await metrics.http.get("/strategy/targets/permanent_rate", cookies=reader)
    assert refused.status_code == 403

    writer = await signed_in(metrics, *WRITE)
    form_page = await metrics.http.get("/strategy/targets/permanent_rate", cookies=writer)
    assert form_page.status_code == 200, form_page.text
    version = next(a["value"] for a in Elements(form_page.text).having("name") if a["name"] == "version")
    fields = {
        "direction": "at_least",
        "milestone_date": ["2016-03-31", "2017-03-31"],
        "milestone_value": ["70", "85"],
        "tolerance_pct": "",
        "note": "board, December: a staged target",
        "version": version,
    }
    no_token = await metrics.http.post("/strategy/targets/permanent_rate", data=fields, cookies=writer)
    assert no_token.status_code == 403
    invalid = await metrics.http.post(
        "/strategy/targets/permanent_rate",
        data={**fields, "milestone_value": ["seventy", "85"], CSRF_FIELD: writer[CSRF_COOKIE]},
        cookies=writer,
    )
    assert invalid.status_code == 422, invalid.text
    assert "Milestone 1: the value must be a number" in invalid.text
    for number in ("nan", "1e400"):  # floats Python reads, but no milestone can be (a 500 before)
        odd = await metrics.http.post(
            "/strategy/targets/permanent_rate",
            data={**fields, "milestone_value": [number, "85"], CSRF_FIELD: writer[CSRF_COOKIE]},
            cookies=writer,
        )
        assert odd.status_code == 422, (number, odd.text)
        assert "Milestone 1: the value must be a number" in odd.text
    saved = await metrics.http.post(
        "/strategy/targets/permanent_rate", data={**fields, CSRF_FIELD: writer[CSRF_COOKIE]}, cookies=writer
    )
    assert saved.status_code == 303, saved.text
    strategy = (await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))).json()
    assert strategy["version"] == int(version) + 1
    assert strategy["note"] == "board, December: a staged target"
    assert strategy["document"]["targets"]["permanent_rate"]["milestones"] == [
        {"date": "2016-03-31", "value": 70.0},
        {"date": "2017-03-31", "value": 85.0},
    ]
    stale = await metrics.http.post(
        "/strategy/targets/permanent_rate", data={**fields, CSRF_FIELD: writer[CSRF_COOKIE]}, cookies=writer
    )
    assert stale.status_code == 412
    shown = await metrics.http.get("/strategy?changed=permanent_rate", cookies=writer)
    assert "85.0% by 31 March 2017" in shown.text


async def test_pages_load_only_the_services_own_files_and_are_never_cached(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    page = await metrics.http.get(f"/?as_of={AS_OF}", cookies=cookies)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    for attrs in Elements(page.text).having("src") + Elements(page.text).having("href"):
        url = attrs.get("src") or attrs.get("href") or ""
        assert not urlsplit(url).netloc, url
    for asset in ("/static/dashboard.css", "/static/dashboard.js"):
        assert (await metrics.http.get(asset)).status_code == 200


async def test_a_bad_date_or_unknown_kpi_is_a_page_that_says_so(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    bad = await metrics.http.get("/?as_of=2015-02-30", cookies=cookies)
    assert bad.status_code == 422
    assert "as_of" in bad.text
    unknown = await metrics.http.get("/kpis/happiness", cookies=cookies)
    assert unknown.status_code in (404, 422)
    assert "text/html" in unknown.headers["content-type"]


async def test_signing_out_forgets_the_token(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    out = await metrics.http.post("/sign-out", data={CSRF_FIELD: cookies[CSRF_COOKIE]}, cookies=cookies)
    assert out.status_code == 303
    cleared = next(h for h in out.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "Max-Age=0" in cleared or "expires=" in cleared.lower()


async def test_the_board_report_opens_from_the_dashboard_in_each_format(metrics: ServiceClient) -> None:
    cookies = await signed_in(metrics, *READ)
    overview = await metrics.http.get(f"/?as_of={AS_OF}", cookies=cookies)
    links = [
        a["href"] for a in Elements(overview.text).having("href") if a["href"].startswith("/reports/board")
    ]
    assert links == [
        "/reports/board?month=2015-03",
        "/reports/board?month=2015-03&format=pdf",
        "/reports/board?month=2015-03&format=xlsx",
        "/reports/board?month=2015-03&format=csv",
    ]
    page = await metrics.http.get(links[0], cookies=cookies)
    assert page.status_code == 200, page.text
    assert "<h1>Programme board report, March 2015</h1>" in page.text
    api = (
        await metrics.http.get("/v1/reports/board?month=2015-03&format=html", headers=metrics.auth(*READ))
    ).text
    assert page.text.split("<h1>", 1)[1].split("</h1>")[0] == api.split("<h1>", 1)[1].split("</h1>")[0]
    pdf = await metrics.http.get(links[1], cookies=cookies)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="board-report-2015-03-' in pdf.headers["content-disposition"]
    anonymous = await metrics.http.get(links[1])
    assert anonymous.status_code == 303  # to the sign-in page, never the report
