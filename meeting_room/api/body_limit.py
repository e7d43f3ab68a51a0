"""Refuse request bodies over a limit before they fill memory (JSON routes are read whole)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting_room.api.errors import error_body


class BodyLimit:
    """Pure ASGI middleware. ``limit_for(method, path)`` gives (bytes accepted, limit to tell people); a body
    over it is refused by its Content-Length, or while it streams in without one. In the second case
    the app sees the client disconnect, and whatever it tries to answer is dropped."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], tuple[int, int]]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, shown = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, shown)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await self._refuse(send, shown)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except ClientDisconnect:
            if not refused:
                raise
            # the app read on past the limit and met the disconnect this middleware made up: the 413
            # is the whole story, not a traceback in the log for every oversized upload

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        size = f"{limit / (1 << 20):g} MB" if limit >= 1 << 20 else f"{limit // 1024} KB"
        body = json.dumps(
            error_body(
                "request_too_large",
                f"Nội dung gửi lên quá lớn; giới hạn là {size}",
                f"The request body is too large; the limit is {size}",
                {"limit": limit},
            ),
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
