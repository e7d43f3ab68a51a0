"""Refuse requests that a page from another origin makes on the session cookie (CSRF, cross-site
WebSocket hijacking). Pure ASGI middleware, one rule for every route:

- a state-changing HTTP request (POST, PUT, PATCH, DELETE) and every WebSocket (stream, call, live
  audio) that sends an ``Origin`` must send the server's own: scheme, host and port;
- one without an ``Origin`` is accepted only when it is not authenticated by the session cookie (a
  programme with a Bearer header or ``?token=``, which no other site's page can hold; browsers
  always send ``Origin`` on these requests). Logging in takes no credentials, so a stale cookie
  riding along does not count there.

The server's own origin is the request's scheme (``https`` by default; ``wss`` counts as ``https``)
and its ``Host`` header. Refusals are 403 with a bilingual error; a WebSocket is accepted, told the
error and closed with 4403, as every other refusal of this API's sockets.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from meeting_room.api.deps import SESSION_COOKIE
from meeting_room.api.errors import error_body
from meeting_room.errors import PermissionDeniedError

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SECURE = {"https": True, "wss": True, "http": False, "ws": False}
_REFUSED = (
    "Yêu cầu từ trang của nguồn khác bị từ chối (Origin phải trùng với máy chủ: giao thức, tên máy và cổng)",
    "Request from another origin refused (Origin must match this server: scheme, host and port)",
)
_NO_CREDENTIALS = frozenset({"/api/auth/login"})  # a stale cookie riding along is not used there
_CLOSE_REASON = "Nguồn kết nối không được phép / Cross-origin connection refused"


def _origin(secure: bool, netloc: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return ("https" if secure else "http", parts.hostname.lower(), port or (443 if secure else 80))


def own_origin(scope: Scope, headers: Headers) -> tuple[str, str, int] | None:
    secure = _SECURE.get(scope.get("scheme", "http"), False)
    return _origin(secure, headers.get("host", ""))


def origin_of(value: str) -> tuple[str, str, int] | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        return None
    return _origin(parts.scheme == "https", parts.netloc)


def refused(scope: Scope) -> str | None:
    """Why this request must be refused (the Origin it sent), or None."""
    if scope["type"] not in ("http", "websocket") or (scope["type"] == "http" and scope["method"] not in STATE_CHANGING):
        return None
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None:
        bearer = headers.get("authorization", "").lower().startswith("bearer ") or (
            scope["type"] == "websocket" and "token" in QueryParams(scope.get("query_string", b""))
        )  # a programme's own credential (browsers always send Origin on sockets and state changes)
        cookie = not bearer and SESSION_COOKIE in cookie_parser(headers.get("cookie", ""))
        return "(none)" if cookie and scope["path"] not in _NO_CREDENTIALS else None
    mine = own_origin(scope, headers)
    return None if mine is not None and origin_of(origin) == mine else origin


class SameOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = refused(scope)
        if origin is None:
            await self.app(scope, receive, send)
            return
        error = error_body(PermissionDeniedError.code, *_REFUSED, {"origin": origin})
        if scope["type"] == "http":
            body = json.dumps(error, ensure_ascii=False).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        message = {"kind": "error", "type": "error", "error": {k: v for k, v in error["error"].items() if k != "details"}}
        await send({"type": "websocket.send", "text": json.dumps(message, ensure_ascii=False)})
        await send({"type": "websocket.close", "code": 4403, "reason": _CLOSE_REASON})
