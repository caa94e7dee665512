from __future__ import annotations

from pathlib import Path

from steadfast_shared.http.app import new_router

#: The dashboard's own stylesheets, scripts and the vendored libraries (``static/vendor/``).
STATIC = Path(__file__).resolve().parent / "static"

router = new_router("", tags=["dashboard"])
