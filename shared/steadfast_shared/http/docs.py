"""Every service's API pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), from files it serves itself.

FastAPI's own pages load their scripts, stylesheet, favicon and fonts from CDNs, which councils'
networks often block (the page is then blank). The app factory builds FastAPI without them and calls
:func:`install_docs`, which serves the same pages with every file from ``static/vendor/`` (written by
`make assets`, ``tools/vendor_assets.py``), mounted at ``/_assets``: nothing is loaded from another
host. Swagger UI's online validator (a badge fetched from validator.swagger.io, given the document's
URL) is switched off.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: The shared library's own static files (``vendor/``: see ``tools/vendor_assets.py``).
STATIC = Path(__file__).resolve().parent / "static"
#: Where they are served, in every service (the metrics service's dashboard has ``/static``).
ASSETS_PREFIX = "/_assets"

SWAGGER_JS = "vendor/swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui-dist/swagger-ui.css"
FAVICON = "vendor/swagger-ui-dist/favicon-32x32.png"
REDOC_JS = "vendor/redoc/redoc.standalone.js"

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc`` on ``app`` (built with ``docs_url=None``
    and ``redoc_url=None``) and the files they load under ``/_assets``.

    Every URL the pages name is a path on the service, under the request's ``root_path`` when the
    service is mounted behind a prefix (as FastAPI's own pages do)."""
    app.mount(ASSETS_PREFIX, StaticFiles(directory=STATIC), name="assets")
    openapi_url = app.openapi_url or "/openapi.json"

    def asset(root_path: str, name: str) -> str:
        return f"{root_path}{ASSETS_PREFIX}/{name}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root_path + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=asset(root_path, SWAGGER_JS),
            swagger_css_url=asset(root_path, SWAGGER_CSS),
            swagger_favicon_url=asset(root_path, FAVICON),
            oauth2_redirect_url=root_path + OAUTH2_REDIRECT_URL,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root_path + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(root_path, REDOC_JS),
            redoc_favicon_url=asset(root_path, FAVICON),
            with_google_fonts=False,
        )

    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_URL, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)
