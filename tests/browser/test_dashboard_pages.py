"""The dashboard in headless Chromium, as the Principal Social Worker meets it after `make run`: the
demo council's tiles against the API's figures, the team and date pickers, a KPI's chart and table, a
team's caseload bars against the caseload service, the board report, keyboard-only use, and axe-core on
every page. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from playwright.async_api import Page

from tests.browser.conftest import DemoSite, axe_violations, screenshot

PAGES = ("/", "/kpis/average_caseload", "/watch-lists", "/strategy", "/strategy/targets/average_caseload")


def shown_values(tiles: list[dict[str, Any]]) -> dict[str, str]:
    return {t["kpi"]: t["value"] for t in tiles}


async def tiles(page: Page) -> list[dict[str, Any]]:
    return await page.eval_on_selector_all(
        "li.sf-tile",
        "els => els.map(e => ({kpi: e.dataset.kpi, value: e.querySelector('.sf-tile__value').dataset.value,"
        " status: e.querySelector('.sf-status').innerText.trim()}))",
    )


def api_values(report: dict[str, Any]) -> dict[str, str]:
    return {k["id"]: "" if k["value"] is None else str(k["value"]) for k in report["kpis"]}


async def test_the_tiles_show_what_the_api_answers_and_the_pickers_change_them(
    signed_in: Page, demo_site: DemoSite
) -> None:
    page = signed_in
    today = date.today().isoformat()
    api = (await demo_site.api("metrics", f"/v1/kpis?as_of={today}")).json()
    shown = await tiles(page)
    assert len(shown) == len(api["kpis"])
    assert shown_values(shown) == api_values(api)
    assert all(t["status"] for t in shown)  # a status in words on every tile
    assert await page.locator("text=Demo data").count() >= 1
    await screenshot(page, "overview")

    teams = await page.eval_on_selector_all("#team option", "os => os.map(o => o.value).filter(v => v)")
    assert len(teams) >= 10
    team = teams[0]
    await page.select_option("#team", team)
    await page.click("button:has-text('Show')")
    await page.wait_for_url(f"**team={team}**")
    team_api = (await demo_site.api("metrics", f"/v1/kpis?as_of={today}&team={team}")).json()
    assert shown_values(await tiles(page)) == api_values(team_api)
    assert api_values(team_api) != api_values(api)

    year_ago = (date.today() - timedelta(days=365)).isoformat()
    await page.fill("#as_of", year_ago)
    await page.click("button:has-text('Show')")
    await page.wait_for_url(f"**as_of={year_ago}**")
    then = (await demo_site.api("metrics", f"/v1/kpis?as_of={year_ago}&team={team}")).json()
    assert shown_values(await tiles(page)) == api_values(then)
    assert api_values(then) != api_values(team_api)


async def test_a_kpi_page_draws_its_chart_and_holds_the_same_figures_in_a_table(
    signed_in: Page, demo_site: DemoSite
) -> None:
    page = signed_in
    await page.click("#tile-permanent_rate h3 a")
    await page.wait_for_url("**/kpis/permanent_rate**")
    drawn = await page.evaluate(
        "() => Chart.getChart(document.getElementById('kpi-chart')).data.datasets[0].data.length"
    )
    history = (await demo_site.api("metrics", f"/v1/kpis/permanent_rate/history?to={date.today()}")).json()
    rows = await page.locator("#kpi-history tbody tr").count()
    assert rows == len(history["points"])
    assert drawn == len([p for p in history["points"] if p["value"] is not None])
    assert rows >= 100  # two years of weekly snapshots
    await screenshot(page, "kpi-permanent-rate")


async def test_the_team_pages_bars_match_the_caseload_service(signed_in: Page, demo_site: DemoSite) -> None:
    page = signed_in
    today = date.today().isoformat()
    teams = await page.eval_on_selector_all("#team option", "os => os.map(o => o.value).filter(v => v)")
    team = teams[0]
    await page.goto(f"{demo_site.dashboard}/teams/{team}?as_of={today}")
    bars = {
        worker: (children, limit)
        for worker, children, limit in await page.eval_on_selector_all(
            "#team-caseloads tbody tr",
            "rows => rows.map(r => { const m = r.querySelector('meter');"
            " return [r.dataset.worker, Number(m.value), m.hasAttribute('high') ? Number(m.high) : null]; })",
        )
    }
    answer = (await demo_site.api("caseload", f"/v1/teams/{team}/caseloads?as_of={today}")).json()
    expected = {w["external_id"]: (w["caseload"], w["limit"]) for w in answer["workers"]}
    assert expected, "the team has case holders"
    # Every case holder the caseload service counts has a bar of their caseload against their limit
    # (the page also shows the team's students, who hold no full caseload).
    assert {w: bars[w] for w in expected} == expected
    await screenshot(page, f"team-{team}")


async def test_the_board_report_opens_from_the_dashboard(signed_in: Page, demo_site: DemoSite) -> None:
    page = signed_in
    month = date.today().strftime("%Y-%m")
    await page.click("a:has-text('open the programme board report')")
    await page.wait_for_url(f"**/reports/board?month={month}")
    heading = await page.inner_text("h1")
    assert "board" in heading.lower()
    report = (await demo_site.api("metrics", f"/v1/reports/board?month={month}")).json()
    text = await page.inner_text("body")
    for kpi in report["kpis"]:
        assert kpi["title"] in text
    await screenshot(page, "board-report")
    async with page.expect_download() as download:
        await page.goto(demo_site.dashboard + "/")
        await page.click("#board-report-links a:has-text('PDF')")
    assert (await download.value).suggested_filename.endswith(".pdf")


async def test_keyboard_alone_reaches_every_control(signed_in: Page, demo_site: DemoSite) -> None:
    page = signed_in
    for path in PAGES:
        await page.goto(demo_site.dashboard + path)
        # Every visible control gets a mark; a radio group is one tab stop (arrow keys move within it).
        controls = await page.evaluate(
            """() => {
                const els = [...document.querySelectorAll(
                    "a[href], button, input:not([type=hidden]), select, textarea")]
                    .filter(e => !e.disabled && e.offsetParent !== null);
                const groups = new Set();
                return els.filter(e => {
                    if (e.type !== "radio") return true;
                    if (groups.has(e.name)) return false;
                    groups.add(e.name);
                    return true;
                }).map((e, i) => { e.dataset.sfControl = e.type === "radio" ? "radio:" + e.name : String(i);
                                   return e.dataset.sfControl; });
            }"""
        )
        reached: set[str] = set()
        # A date input takes three presses (day, month, year): enough presses for each to be one.
        for _ in range(len(controls) * 3 + 5):
            await page.keyboard.press("Tab")
            mark = await page.evaluate(
                "() => { const e = document.activeElement;"
                " return e && e.type === 'radio' ? 'radio:' + e.name : e && e.dataset.sfControl || null; }"
            )
            if mark:
                reached.add(mark)
        assert reached >= set(controls), (path, sorted(set(controls) - reached))


async def test_no_page_has_a_serious_accessibility_violation_or_a_script_error(
    signed_in: Page, demo_site: DemoSite
) -> None:
    page = signed_in
    teams = await page.eval_on_selector_all("#team option", "os => os.map(o => o.value).filter(v => v)")
    for path in (*PAGES, f"/teams/{teams[0]}", "/watch-lists/workers-over-caseload-limit"):
        await page.goto(demo_site.dashboard + path)
        assert await axe_violations(page) == [], path
    await page.goto(demo_site.dashboard + "/sign-in")
    assert await axe_violations(page) == [], "/sign-in"
    assert page.console_errors == []  # type: ignore[attr-defined]


async def test_at_200_percent_zoom_every_page_reflows_without_scrolling_sideways(
    signed_in: Page, demo_site: DemoSite
) -> None:
    # 200 % zoom of a 1280 px window is a 640 CSS px viewport (WCAG 1.4.10 reflow, 1.4.4 resize text).
    page = signed_in
    await page.set_viewport_size({"width": 640, "height": 900})
    teams = await page.eval_on_selector_all("#team option", "os => os.map(o => o.value).filter(v => v)")
    try:
        for path in (*PAGES, f"/teams/{teams[0]}", "/watch-lists/children-with-overdue-visits"):
            await page.goto(demo_site.dashboard + path)
            wide = await page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= 640, (path, wide)
        await page.goto(demo_site.dashboard + "/")
        await screenshot(page, "overview-200-percent")
    finally:
        await page.set_viewport_size({"width": 1280, "height": 900})
