from __future__ import annotations

from steadfast_shared.http.app import new_router

router = new_router("/v1/reports", tags=["reports"])
