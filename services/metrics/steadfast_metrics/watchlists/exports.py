"""A watch list's page as a CSV file (``GET /v1/watch-lists/{name}`` with ``Accept: text/csv``): the
columns of the list's records; the next page's cursor, if any, in a ``Link`` header."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from steadfast_metrics.watchlists.schemas import WatchListPage
from steadfast_metrics.watchlists.service import WATCH_LISTS
from steadfast_shared.http.csv_export import csv_response


def watch_list_csv(request: Request, page: WatchListPage[Any]) -> Response:
    columns = list(WATCH_LISTS[page.name].read.model_fields)
    rows = [[getattr(item, c) for c in columns] for item in page.items]
    headers = {}
    if page.next_cursor is not None:
        headers["Link"] = f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
    return csv_response(f"{page.name}-{page.as_of}.csv", columns, rows, headers)
