"""The dashboard's route class: the API's transaction handling (one commit per request), with the
answers a person needs instead of problem+json: the way to the sign-in page when there is no valid
token, and an error page that says what was wrong (and which field) with the problem's status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from steadfast_metrics.dashboard.rendering import render
from steadfast_metrics.dashboard.session import SignInNeeded
from steadfast_shared.errors import SteadfastError
from steadfast_shared.http.routing import TransactionalRoute


class DashboardRoute(TransactionalRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded as needed:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                location = "/sign-in?" + urlencode({"next": target, "reason": needed.reason})
                return RedirectResponse(location, status_code=303)
            except SteadfastError as error:
                return _error_page(request, error.status, error.title, error.detail, error.errors)
            except RequestValidationError as invalid:
                errors = [
                    {"field": ".".join(str(p) for p in e["loc"][1:]) or "request", "reason": e["msg"]}
                    for e in invalid.errors()
                ]
                return _error_page(request, 422, "The page's address is not valid", None, errors)

        return route_handler


def _error_page(
    request: Request, status: int, title: str, detail: str | None, errors: list[dict[str, Any]]
) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail, "errors": errors},
        viewer=None,
        status_code=status,
    )
