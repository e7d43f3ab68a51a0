"""The web pages: one shared layout around each page's markup, and the static assets.

Every asset is served from the package (the rooms are offline: no CDN). Browser libraries (pdf.js)
come from the npm registry at set-up (``meeting_room/web/package.json``, into ``web/node_modules``)
and are served under ``/static/vendor/``; without them the server still starts, says so in its log,
and the pages fall back (documents as a download link). The pages carry no data;
their scripts read the JSON API and follow the meeting WebSocket, so access control stays in one
place (the API), and a page opened without a session sends the person to the login page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from meeting_room.api.headers import PAGE_CSP

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_WEB = package_files("meeting_room") / "web"
# npm package -> what the pages lose without it (said in the start-up warning)
VENDOR = {
    "pdfjs-dist": ("tài liệu chỉ tải về được, không đọc ngay trong trang", "documents are download links, not read in the page"),
    "janus-gateway": ("cuộc họp qua Janus không tham gia được từ trình duyệt", "meetings through Janus cannot be joined from a browser"),
    "webrtc-adapter": ("cuộc họp qua Janus không tham gia được từ trình duyệt", "meetings through Janus cannot be joined from a browser"),
}


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


def vendor_dir(package: str) -> Path | None:
    """Where npm installed ``package`` (scripts/setup.sh), or None when it was not run."""
    path = Path(str(_WEB)) / "node_modules" / package
    return path if (path / "package.json").is_file() else None


def install(app: FastAPI) -> None:
    app.include_router(router)
    for package, (lost_vi, lost_en) in VENDOR.items():  # mounted before /static, which would answer 404
        path = vendor_dir(package)
        if path is None:
            log.warning(
                "Thiếu thư viện trình duyệt %s (chưa chạy npm ci trong meeting_room/web, xem scripts/setup.sh): %s. "
                "Browser library %s is missing (npm ci was not run in meeting_room/web): %s.",
                package, lost_vi, package, lost_en,
            )  # fmt: skip
            continue
        app.mount(f"/static/vendor/{package}", StaticFiles(directory=str(path)), name=f"vendor-{package}")
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")
