"""The web pages: one shared layout around each page's markup, and the static assets.

Every asset is served from the package (the rooms are offline: no CDN). The pages carry no data;
their scripts read the JSON API and follow the meeting WebSocket, so access control stays in one
place (the API), and a page opened without a session sends the person to the login page.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files as package_files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
_WEB = package_files("meeting_room") / "web"

# Scripts only from this server; inline style attributes are used by the DOM builder for bar widths.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@cache
def _page(name: str, title: str) -> str:
    layout = (_WEB / "layout.html").read_text(encoding="utf-8")
    main = (_WEB / "pages" / f"{name}.html").read_text(encoding="utf-8")
    return layout.replace("{title}", title).replace("{script}", name).replace("{main}", main)


def _html(name: str, title: str) -> HTMLResponse:
    return HTMLResponse(_page(name, title), headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/")
def login_page() -> HTMLResponse:
    return _html("login", "Đăng nhập")


@router.get("/meetings")
def meetings_page() -> HTMLResponse:
    return _html("meetings", "Cuộc họp")


@router.get("/chair/{meeting_id}")
def chair_page(meeting_id: str) -> HTMLResponse:
    return _html("chair", "Bàn điều hành")


@router.get("/member/{meeting_id}")
def member_page(meeting_id: str) -> HTMLResponse:
    return _html("member", "Đại biểu")


@router.get("/clerk")
def clerk_page() -> HTMLResponse:
    return _html("clerk", "Lưu trữ và tra cứu")


@router.get("/clerk/{meeting_id}")
def record_page(meeting_id: str) -> HTMLResponse:
    return _html("record", "Hồ sơ cuộc họp")


@router.get("/admin")
def admin_page() -> HTMLResponse:
    return _html("admin", "Quản trị")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")
