"""Pages of a list endpoint: ``limit`` and ``offset`` in; the list's total and where the next page
starts in response headers.

The body stays the JSON list it always was, so a caller that reads only the body keeps working (it
gets the first ``DEFAULT_LIMIT``); ``X-Total-Count`` says how many match in all, and
``Link: <…>; rel="next"`` (RFC 8288, a path relative to the server) the next page, absent on the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000  # bounded like every integer a client sends

T = TypeVar("T")

# For a route's ``responses=``: the headers appear in the OpenAPI description of every paged list.
PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One page of the list",
        "headers": {
            "X-Total-Count": {"description": "How many items match in all (every page)", "schema": {"type": "integer"}},
            "Link": {
                "description": 'The next page: `</api/…?offset=100&limit=100>; rel="next"`; absent on the last page',
                "schema": {"type": "string"},
            },
        },
    }
}


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _page(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT})"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip (the next page: the `Link` header)"),
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(_page)]


def fetch_page(session: Session, query: Select[T], page: Page, request: Request, response: Response) -> list[T]:
    """One page of ``query``'s rows (it must be ordered), with the paging headers set on ``response``."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(page.limit).offset(page.offset)))
    set_headers(response, request, page, total)
    return rows


def page_of(items: list[T], page: Page, request: Request, response: Response) -> list[T]:
    """One page of a list already filtered in memory, with the same headers as ``fetch_page``."""
    set_headers(response, request, page, len(items))
    return items[page.offset : page.offset + page.limit]


def set_headers(response: Response, request: Request, page: Page, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)
    if page.offset + page.limit < total:
        url = request.url.include_query_params(offset=page.offset + page.limit, limit=page.limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
