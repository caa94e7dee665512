"""The browser tests' fixtures: ``make run`` as a new user starts it (the embedded default, on an empty
``var/``, so the demo council loads), and headless Chromium driven by Playwright.

Chromium is Debian's ``chromium`` (or ``STEADFAST_CHROMIUM``); ``make test`` stops before pytest with
the install command when it is missing (``tools/browser_check.py``), so these tests never skip. Each
page's screenshot is saved under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from steadfast_shared.embedded.demo.loader import DemoState
from steadfast_shared.embedded.runner import DEMO_ENV, discover_services
from tests.e2e.embedded import EmbeddedRun
from tools.browser_check import INSTALL, chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
#: axe-core, vendored with its licence (tools/vendor_assets.py): injected into every page checked.
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
DEMO_LOAD_TIMEOUT = 240.0


class DemoSite:
    """The running embedded system with the demo council loaded: its URLs and a full-scope token."""

    def __init__(self, run: EmbeddedRun) -> None:
        self.run = run
        self.token = run.token()

    @property
    def dashboard(self) -> str:
        return self.run.url("metrics")

    def url(self, service: str) -> str:
        return self.run.url(service)

    async def api(self, service: str, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url(service), timeout=60) as client:
            return await client.get(path, headers={"Authorization": f"Bearer {self.token}"})


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def demo_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoSite]:
    """``make run`` on an empty ``var/``: every service, the broker, the demo council loaded."""
    var = tmp_path_factory.mktemp("browser") / "var"
    run = EmbeddedRun(var, discover_services())
    run.env[DEMO_ENV] = "1"
    run.start()
    try:
        await run.wait_ready()
        deadline = time.monotonic() + DEMO_LOAD_TIMEOUT
        while True:
            state = DemoState.read(var / "demo-council.json")
            if state is not None and state.loaded:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the demo council did not load in {DEMO_LOAD_TIMEOUT}s:\n{run.log()}")
            assert run.process is not None
            assert run.process.poll() is None, run.log()
            await asyncio.sleep(0.5)
        yield DemoSite(run)
    finally:
        if run.process is not None:
            await run.stop("sigterm")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium()
    if executable is None:  # make test checked before pytest; a bare `pytest` run fails here, never skips
        pytest.fail(f"the browser tests need Chromium: {INSTALL}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def signed_in(browser: Browser, demo_site: DemoSite) -> AsyncIterator[Page]:
    """A page of a browser that signed in on the sign-in page with ``make token``'s token."""
    context: BrowserContext = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.console_errors = problems  # type: ignore[attr-defined]
    await page.goto(demo_site.dashboard + "/")
    assert "/sign-in" in page.url
    await page.fill("#token", demo_site.token)
    await page.click("button[type=submit]:has-text('Sign in')")
    await page.wait_for_url(demo_site.dashboard + "/")
    try:
        yield page
    finally:
        await context.close()


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def axe_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical violations of WCAG 2.2 A and AA on the page as it is."""
    # Evaluated over the DevTools protocol, not as a <script>: the page's CSP admits no inline script.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
