"""Every page a service serves loads nothing from another host (councils' networks often block CDNs):
``/docs`` and ``/redoc`` of each service name only the service's own paths, each of which answers; the
vendored files (``make assets``, tools/vendor_assets.py) are the ones their manifests record, each
package beside its licence; and the compiled GOV.UK stylesheet carries no GOV.UK font or crest."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.http.app import create_app
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.settings import Environment
from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition as staff

REPO = Path(__file__).resolve().parents[2]
SERVICES: dict[str, ServiceDefinition] = {
    "staff": staff,
    "caseload": caseload,
    "audit": audit,
    "metrics": metrics,
}
#: The pages need no database: nothing connects until the lifespan starts.
UNUSED_DATABASE = "sqlite+aiosqlite:///unused.db"
PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")

SHARED_VENDOR = REPO / "shared/steadfast_shared/http/static/vendor"
DASHBOARD_VENDOR = REPO / "services/metrics/steadfast_metrics/dashboard/static/vendor"
BROWSER_TESTS_VENDOR = REPO / "tests/browser/vendor"
#: Each vendored package: where it is, its licence, the major version asked for, and a phrase of the
#: licence's text.
VENDORED: dict[str, tuple[Path, str, int, str]] = {
    "swagger-ui-dist": (SHARED_VENDOR, "Apache-2.0", 5, "Apache License"),
    "redoc": (SHARED_VENDOR, "MIT", 2, "Permission is hereby granted, free of charge"),
    "govuk-frontend": (DASHBOARD_VENDOR, "MIT", 5, "Permission is hereby granted, free of charge"),
    "chart.js": (DASHBOARD_VENDOR, "MIT", 4, "Permission is hereby granted, free of charge"),
    "axe-core": (BROWSER_TESTS_VENDOR, "MPL-2.0", 4, "Mozilla Public License"),
}
GOVUK_CSS = DASHBOARD_VENDOR / "govuk-frontend" / "govuk-frontend.min.css"

CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


def app_of(definition: ServiceDefinition) -> Any:
    settings = definition.settings_class(environment=Environment.test, database_url=UNUSED_DATABASE)
    return create_app(definition, settings)


@pytest_asyncio.fixture(loop_scope="session", params=sorted(SERVICES))
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_of(SERVICES[request.param]))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class References(HTMLParser):
    """What a page names: each ``src``, ``href`` and ``spec-url`` attribute, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "spec-url"} and value is not None:
                self.urls.append(value)
        self._in_script = tag == "script" and not any(name == "src" for name, _ in attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


#: An absolute URL (``scheme://``) or a protocol-relative one (``//host``) inside a script.
SCRIPT_URL = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s'"`)]+""", re.IGNORECASE)
#: The document Swagger UI is told to load (``url: '...'``).
SWAGGER_DOCUMENT = re.compile(r"""\burl:\s*'([^']*)'""")


def same_origin(url: str) -> bool:
    """A path on the service itself: no scheme, no host (``data:`` URIs count as the page's own)."""
    if url.startswith("data:"):
        return True
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(folder: Path) -> dict[str, dict[str, Any]]:
    document = json.loads((folder / "MANIFEST.json").read_text())
    return {entry["name"]: entry for entry in document["packages"]}


def shipped_files(folder: Path) -> list[str]:
    """Every file a manifest lists (paths from its folder)."""
    return [f["path"] for entry in manifest(folder).values() for f in entry["files"]]


# ---- the pages


@pytest.mark.parametrize("page", PAGES)
async def test_the_api_pages_name_only_the_services_own_paths(client: httpx.AsyncClient, page: str) -> None:
    answer = await client.get(page)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    found = references(answer.text)
    if page != "/docs/oauth2-redirect":
        assert found.urls, f"{page} names no script or stylesheet"
    for url in found.urls:
        assert same_origin(url), f"{page} names {url}, not a path on the service"
    for script in found.inline_scripts:
        for url in SCRIPT_URL.findall(script):
            assert urlsplit(url).netloc == "testserver", f"an inline script of {page} names {url}"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_everything_the_api_pages_load_answers(client: httpx.AsyncClient, page: str) -> None:
    found = references((await client.get(page)).text)
    loaded = [url for url in found.urls if not url.startswith("data:")]
    for script in found.inline_scripts:
        loaded += SWAGGER_DOCUMENT.findall(script)
    assert any(url.endswith(".js") for url in loaded), f"{page} loads no script"
    assert "/openapi.json" in loaded, f"{page} is not given the service's document"
    for url in loaded:
        answer = await client.get(url)
        assert answer.status_code == 200, f"{page} loads {url}: {answer.status_code}"
        suffix = posixpath.splitext(urlsplit(url).path)[1]
        content_type = answer.headers["content-type"].split(";")[0].strip()
        assert content_type in CONTENT_TYPES[suffix], f"{url} answers {content_type}"
        assert answer.content, f"{url} is empty"


async def test_swagger_ui_sends_the_document_to_no_online_validator(client: httpx.AsyncClient) -> None:
    """Swagger UI's default shows a badge fetched from validator.swagger.io with the document's URL."""
    page = (await client.get("/docs")).text
    assert '"validatorUrl": null' in page
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in page


async def test_behind_a_path_prefix_the_pages_name_paths_under_it() -> None:
    """Served under ``/staff`` (``uvicorn --root-path /staff`` behind a proxy): as ASGI says, the
    request's path keeps the prefix, and ``root_path`` names it."""
    transport = httpx.ASGITransport(app=app_of(staff), root_path="/staff")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for page in ("/staff/docs", "/staff/redoc"):
            answer = await http.get(page)
            assert answer.status_code == 200
            found = references(answer.text)
            assert found.urls
            for url in found.urls:
                assert url.startswith("/staff/"), f"{page} names {url} outside the prefix"
                assert (await http.get(url)).status_code == 200, url


async def test_the_api_pages_are_not_in_the_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not {p for p in paths if p.startswith(("/docs", "/redoc", "/_assets"))}


async def test_every_shared_vendored_file_is_served_by_every_service(client: httpx.AsyncClient) -> None:
    for path in shipped_files(SHARED_VENDOR):
        answer = await client.get(f"/_assets/vendor/{path}")
        assert answer.status_code == 200, path
        assert answer.content == (SHARED_VENDOR / path).read_bytes()


async def test_the_dashboards_vendored_files_are_served_at_static() -> None:
    transport = httpx.ASGITransport(app=app_of(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for path in shipped_files(DASHBOARD_VENDOR):
            answer = await http.get(f"/static/vendor/{path}")
            assert answer.status_code == 200, path
            assert answer.content == (DASHBOARD_VENDOR / path).read_bytes()
            suffix = posixpath.splitext(path)[1]
            if suffix in CONTENT_TYPES:
                assert answer.headers["content-type"].split(";")[0] in CONTENT_TYPES[suffix], path


@pytest.mark.integration
async def test_the_running_service_serves_its_pages_and_files(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    """With its lifespan started (database, relay), as `make run` serves it."""
    service = await start_service(metrics, consumers_enabled=False, snapshot_interval_days=0)
    for url in (
        "/docs",
        "/redoc",
        "/_assets/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/vendor/govuk-frontend/govuk-frontend.min.css",
        "/static/vendor/chart.js/chart.umd.min.js",
    ):
        answer = await service.http.get(url)
        assert answer.status_code == 200, url
    assert (await service.http.get("/v1/kpis")).status_code == 401, "the API still wants a token"


# ---- the vendored files


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_each_vendored_file_is_the_one_its_manifest_records(name: str) -> None:
    folder, licence, major, _ = VENDORED[name]
    entry = manifest(folder)[name]
    assert entry["licence"] == licence
    assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), "an exact version"
    assert int(entry["version"].split(".")[0]) == major
    assert entry["source"] == f"https://registry.npmjs.org/{name}/-/{name}-{entry['version']}.tgz"
    assert entry["integrity"].startswith("sha512-")
    listed = {f["path"] for f in entry["files"]}
    for file in entry["files"]:
        path = folder / file["path"]
        assert path.is_file(), f"{file['path']} is missing"
        assert sha256(path) == file["sha256"], f"{file['path']} differs from the file `make assets` wrote"
        assert path.stat().st_size == file["bytes"]
    on_disk = {p.relative_to(folder).as_posix() for p in (folder / name).rglob("*") if p.is_file()}
    assert on_disk == listed, "files the manifest does not list, or listed files missing"


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_each_vendored_package_has_its_licence_beside_it(name: str) -> None:
    folder, _, _, phrase = VENDORED[name]
    entry = manifest(folder)[name]
    assert entry["licence_files"], f"{name} has no licence file"
    listed = {f["path"] for f in entry["files"]}
    texts = []
    for licence in entry["licence_files"]:
        assert licence.startswith(f"{name}/")
        assert licence in listed
        texts.append((folder / licence).read_text(encoding="utf-8"))
    assert any(phrase in text for text in texts), f"no licence file of {name} says {phrase!r}"


def test_each_manifest_lists_only_the_packages_vendored_there() -> None:
    for folder in (SHARED_VENDOR, DASHBOARD_VENDOR, BROWSER_TESTS_VENDOR):
        expected = {name for name, (where, *_) in VENDORED.items() if where == folder}
        assert set(manifest(folder)) == expected
        folders = {p.name for p in folder.iterdir() if p.is_dir()}
        assert folders == expected, f"{folder}: folders of packages no manifest lists"


#: ``url(...)`` in a stylesheet: quoted (either quote) or not.
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)


def test_the_govuk_stylesheet_has_no_govuk_font_and_names_no_missing_file() -> None:
    css = GOVUK_CSS.read_text(encoding="utf-8-sig")
    assert ".govuk-button" in css, "not GOV.UK Frontend's compiled styles"
    assert "gds transport" not in css.lower()
    assert "@font-face" not in css.lower()
    assert "font-family:arial,sans-serif" in css
    shipped = {p.relative_to(GOVUK_CSS.parent).as_posix() for p in GOVUK_CSS.parent.rglob("*")}
    for match in CSS_URL.finditer(css):
        url = next(g for g in match.groups() if g is not None)
        if url.startswith("data:"):
            continue
        assert not urlsplit(url).scheme, f"url({url}) names another host"
        assert not url.startswith("/"), f"url({url}) is not relative to the stylesheet"
        resolved = posixpath.normpath(url.split("?")[0].split("#")[0])
        assert resolved in shipped, f"url({url}) names a file not shipped"


def test_no_govuk_brand_file_is_shipped() -> None:
    """The crest, the crown logo, the GOV.UK favicons and icons, and the GDS Transport font files."""
    files = [p.name.lower() for p in (DASHBOARD_VENDOR / "govuk-frontend").rglob("*") if p.is_file()]
    assert sorted(files) == ["govuk-frontend.min.css", "govuk-frontend.min.js", "license.txt"]
