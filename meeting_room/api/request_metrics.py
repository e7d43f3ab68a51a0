"""Every HTTP request gets an id (the client's ``X-Request-ID`` when it is a plain token, else a new
one) that its log lines carry and its response returns, and is counted for ``/metrics`` by route
template (never by raw path: ids in paths would make one series per meeting)."""

from __future__ import annotations

import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting_room.operations.logs import request_id
from meeting_room.operations.metrics import HTTP_ERRORS, HTTP_REQUESTS, HTTP_SECONDS

HEADER = "x-request-id"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER.encode()), "")
        rid = given if _TOKEN.fullmatch(given) else secrets.token_hex(8)
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "other"  # a label per made-up method would grow without end
            HTTP_REQUESTS.labels(method, route, f"{status // 100}xx").inc()
            HTTP_SECONDS.labels(method).observe(time.perf_counter() - started)
            if status >= 500:
                HTTP_ERRORS.labels(route).inc()
            request_id.reset(token)
