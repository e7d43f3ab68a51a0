"""``/docs``: Swagger UI from assets served by this server (the fastapi-offline wheel ships them), never a CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files as package_files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def _csp_for(html: str) -> str:
    """The page's one inline script (Swagger UI's start-up call) allowed by its hash, nothing else inline."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def install(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` (the app is made with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=str(package_files("fastapi_offline") / "static")), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )
    html = bytes(page.body).decode()
    csp = _csp_for(html)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})
