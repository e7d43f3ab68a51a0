"""Headers every response carries: no MIME sniffing, a Content-Security-Policy, HSTS over HTTPS.

Pages get the page policy (scripts and styles from this server only, nothing inline); every other
answer that a browser could render (JSON, text, the API docs excepted) gets a policy that allows
nothing at all. Files (PDF, audio) keep their own type and are never HTML.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts and styles only from this server; style attributes are set through the DOM (CSSOM), which
# a policy without 'unsafe-inline' allows.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
# Anything else a browser might render: nothing runs, nothing loads, nothing frames it.
NONE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000"
# Types a browser opens as a document of its own (a PDF, a player) keep working without a policy.
_OWN_VIEWER = (b"application/pdf", b"audio/", b"video/", b"application/octet-stream", b"application/x-x509-ca-cert")


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to each HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                kind = headers.get("content-type", "").encode()
                if not kind.startswith(_OWN_VIEWER):
                    headers.setdefault("Content-Security-Policy", NONE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
