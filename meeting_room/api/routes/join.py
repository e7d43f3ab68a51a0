"""Opening an invitation link. The link first shows a page that names the meeting and the person,
with one button; only that button's POST uses the link. A chat app's preview or a mail scanner
fetches the link before the person does (GET), and spending the link's one opening on that left the
person with "already used"."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from meeting_room.api.deps import SESSION_COOKIE, StoreDep, runtime_of
from meeting_room.api.headers import PAGE_CSP
from meeting_room.errors import MeetingRoomError
from meeting_room.services import invitations

router = APIRouter(tags=["calls"])
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def _page(heading: str, body: str, status: int) -> HTMLResponse:
    page = (
        "<!doctype html><html lang='vi'><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Liên kết mời — Phòng họp thông minh</title><link rel='stylesheet' href='/static/app.css'><link rel='icon' href='data:,'>"
        f"<main><section class='card login'><h1>{heading}</h1>{body}</section></main>"
    )
    # the link is the credential: nothing keeps the page. (Its address goes to no other site: every answer's
    # Referrer-Policy is same-origin; no-referrer would make the button's POST send "Origin: null", refused.)
    headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
    return HTMLResponse(page, status_code=status, headers=headers)


def _refused(exc: MeetingRoomError) -> HTMLResponse:
    body = (f"<p>{html.escape(exc.message_vi)}</p><p lang='en' class='en'>{html.escape(exc.message_en)}</p>"
            "<p><a class='button' href='/'>Đăng nhập / Log in</a></p>")  # fmt: skip
    return _page("Không mở được liên kết mời", body, 410)


def _someone_else(opening: invitations.Opening) -> str:
    """Said before the tap: opening the link replaces the session of whoever is logged in here (on a
    shared office computer a walk-through became the invited member without a word)."""
    if opening.logged_in_as is None:
        return ""
    who, invited = html.escape(opening.logged_in_as), html.escape(opening.full_name)
    return (
        f"<p class='why' id='someone-else' role='alert'>Trình duyệt này đang đăng nhập là <b>{who}</b>. Chạm “Vào cuộc họp” sẽ "
        f"đăng xuất {who} và vào họp với tư cách <b>{invited}</b>: nếu bạn không phải {invited}, đừng chạm. "
        f"<span class='en'>This browser is logged in as {who}; the button logs them out and joins as {invited}.</span></p>"
    )


def _when(starts_at: datetime, zone: ZoneInfo) -> str:
    local = starts_at.astimezone(zone)
    return f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y, %H:%M}"


@router.get("/join/{token}", response_model=None)
def look(token: str, store: StoreDep, request: Request) -> Response:
    """The invitation's page: whose it is and for which meeting, with a button that opens it. Reading
    it uses nothing. The browser that opened the link before goes straight to the meeting."""
    try:
        opening = invitations.look(store, token, request.cookies.get(SESSION_COOKIE))
    except MeetingRoomError as exc:
        return _refused(exc)
    if opening.opened_here:
        return RedirectResponse(f"/member/{opening.meeting_id}", status_code=303)
    zone = ZoneInfo(runtime_of(request).settings.timezone)
    body = (
        f"<p>Kính gửi <b>{html.escape(opening.full_name)}</b>, bạn được mời dự họp trực tuyến: "
        "<span class='en'>you are invited to take part online in:</span></p>"
        f"<p class='big'><b>{html.escape(opening.title)}</b><br>{_when(opening.starts_at, zone)}</p>"
        + _someone_else(opening)
        + f"<form method='post' action='/join/{html.escape(token)}' id='join-form'><p><button type='submit' class='primary big' id='join'>"
        "<span>Vào cuộc họp <span class='en'>Join the meeting</span></span></button></p></form>"  # one line of text, not two columns
        "<p class='muted'>Liên kết chỉ mở được trên một trình duyệt: hãy chạm nút trên máy bạn dùng để họp. "
        "<span class='en'>The link opens in one browser only: tap the button on the device you will use.</span></p>"
    )
    body += "<script type='module' src='/static/join.js'></script>"
    return _page("Lời mời dự họp <span class='en'>Invitation</span>", body, 200)


@router.post("/join/{token}", response_model=None)
def join(token: str, store: StoreDep, request: Request) -> Response:
    """Open an invitation link: logged in for that meeting only, then on its member page (once: another browser gets 410)."""
    settings = runtime_of(request).settings
    try:
        login, meeting_id = invitations.redeem(store, token, settings.session_hours, request.cookies.get(SESSION_COOKIE))
    except MeetingRoomError as exc:
        return _refused(exc)
    response = RedirectResponse(f"/member/{meeting_id}", status_code=303)
    if login is None:  # the browser that opened it before: its session continues
        return response
    max_age = max(60, int((login.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE, login.token, max_age=max_age, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )
    return response
