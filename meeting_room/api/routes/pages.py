"""The web pages: one shared layout around each page's markup, and the static assets.

Every asset is served from the package (the rooms are offline: no CDN). The pages carry no data;
their scripts read the JSON API and follow the meeting WebSocket, so access control stays in one
place (the API), and a page opened without a session sends the person to the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files as package_files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from meeting_room.api.headers import PAGE_CSP

router = APIRouter(include_in_schema=False)
_WEB = package_files("meeting_room") / "web"


@cache
def _page(name: str, title: str) -> str:
    layout = (_WEB / "layout.html").read_text(encoding="utf-8")
    main = (_WEB / "pages" / f"{name}.html").read_text(encoding="utf-8")
    return layout.replace("{title}", title).replace("{script}", name).replace("{main}", main)


def _html(name: str, title: str) -> HTMLResponse:
    return HTMLResponse(_page(name, title), headers={"Content-Security-Policy": PAGE_CSP})


# path -> (page, title). The meeting id in a path is read by the page's script, not here.
PAGES = {
    "/": ("login", "Đăng nhập"),
    "/meetings": ("meetings", "Cuộc họp"),
    "/chair/{meeting_id}": ("chair", "Bàn điều hành"),
    "/member/{meeting_id}": ("member", "Đại biểu"),
    "/clerk": ("clerk", "Lưu trữ và tra cứu"),
    "/clerk/{meeting_id}": ("record", "Hồ sơ cuộc họp"),
    "/admin": ("admin", "Quản trị"),
    "/hall/{meeting_id}": ("hall", "Màn hình hội trường"),
    "/prepare/new": ("prepare", "Chuẩn bị cuộc họp"),
    "/prepare/{meeting_id}": ("prepare", "Chuẩn bị cuộc họp"),
}


def _route(name: str, title: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return _html(name, title)

    return page


for _path, (_name, _title) in PAGES.items():
    router.add_api_route(_path, _route(_name, _title), methods=["GET"], name=f"page_{_name}")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")
