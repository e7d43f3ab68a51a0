"""Dependencies shared by the routers (``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from meeting_room import auth
from meeting_room.access import Actor
from meeting_room.errors import AuthenticationError, PasswordChangeRequiredError, PermissionDeniedError
from meeting_room.files.documents import DocumentFiles
from meeting_room.live.live_sessions import LiveSessions
from meeting_room.live.runtime import Runtime
from meeting_room.settings import Settings
from meeting_room.store import Store

SESSION_COOKIE = "meeting_room_session"


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The server's runtime (stores, live work): the app's one state, set by ``create_app``."""
    runtime: Runtime = conn.app.state.runtime
    return runtime


def get_store(conn: HTTPConnection) -> Store:
    return runtime_of(conn).store


def get_settings(conn: HTTPConnection) -> Settings:
    return runtime_of(conn).settings


def get_files(conn: HTTPConnection) -> DocumentFiles:
    return runtime_of(conn).documents


def live_of(conn: HTTPConnection) -> LiveSessions:
    return runtime_of(conn).live


def token_of(conn: HTTPConnection) -> str | None:
    """Bearer header first (API clients), then ?token= (WebSockets only: a URL is logged and kept in
    histories, so plain HTTP never takes a token from it), then the session cookie (browsers). A
    credential named in the request wins over the cookie riding along: the Origin rule
    (``api.origin``) excuses a socket without Origin for its ?token=, so that token, and nothing the
    cookie holds, is what the socket may use."""
    sent = conn.headers.getlist("authorization")
    if len(sent) > 1:  # a proxy that took the last one would disagree with us (the first) about who calls
        raise AuthenticationError(
            "Yêu cầu có nhiều tiêu đề Authorization; chỉ gửi một", "The request has several Authorization headers; send one"
        )
    header = sent[0] if sent else ""
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if conn.scope["type"] == "websocket" and "token" in conn.query_params:
        return conn.query_params["token"] or None  # even empty: the cookie is not what it named
    return conn.cookies.get(SESSION_COOKIE) or None


def poke_sessions(conn: HTTPConnection) -> None:
    """A session may have ended (logout, password, deactivation, revoked link): its sockets close now."""
    live_of(conn).poke()


def current_actor(conn: HTTPConnection) -> Actor:
    """The caller, read on this thread (a WebSocket's handshake); requests use ``_actor``."""
    return allowed_here(conn, auth.resolve(get_store(conn), _token_required(conn)))


def _token_required(conn: HTTPConnection) -> str:
    token = token_of(conn)
    if token is None:
        raise AuthenticationError("Cần đăng nhập", "Authentication required: log in, then send the session cookie or a Bearer token")
    return token


def allowed_here(conn: HTTPConnection, actor: Actor) -> Actor:
    """What a session may reach: a hall display link its hall, an invitation link its meeting, a
    temporary password only the way to change it."""
    if actor.display and not _on_hall(conn.url.path, actor.only_meeting):
        raise PermissionDeniedError(
            "Liên kết màn hình hội trường chỉ mở màn hình hội trường của cuộc họp đó",
            "A hall display link opens only that meeting's hall display",
            meeting_id=actor.only_meeting,
        )
    if actor.must_change_password and conn.url.path not in _password_paths(actor.member_id):
        raise PasswordChangeRequiredError(
            "Bạn đang dùng mật khẩu tạm thời do quản trị viên cấp; hãy đổi mật khẩu trước khi làm việc khác",
            "You are using a temporary password from an administrator; change your password before anything else",
            change_at=f"/api/members/{actor.member_id}/password",
        )
    if actor.only_meeting is not None and not actor.display and not _within(conn.url.path, actor.only_meeting):
        raise PermissionDeniedError(
            "Liên kết mời chỉ mở được cuộc họp đã mời; hãy đăng nhập bằng tài khoản để xem nội dung khác",
            "An invitation link opens only the meeting it was sent for; log in with your account for anything else",
            meeting_id=actor.only_meeting,
        )
    return actor


def _within(path: str, meeting_id: str) -> bool:
    return path.startswith(f"/api/meetings/{meeting_id}/") or path in (f"/api/meetings/{meeting_id}", "/api/auth/me", "/api/auth/logout")


def _password_paths(member_id: str) -> tuple[str, ...]:
    """What a session with a temporary password may still call: who am I, change it, log out."""
    return ("/api/auth/me", "/api/auth/logout", f"/api/members/{member_id}/password")


def _on_hall(path: str, meeting_id: str | None) -> bool:
    hall = f"/api/meetings/{meeting_id}/hall"
    return path == hall or path.startswith(f"{hall}/")


# The app's own objects, as dependencies: coroutines, so that FastAPI hands them over on the event
# loop instead of a worker thread's round trip per request (a ``def`` dependency runs in the pool).
async def _store(conn: HTTPConnection) -> Store:
    return get_store(conn)


async def _settings(conn: HTTPConnection) -> Settings:
    return get_settings(conn)


async def _files(conn: HTTPConnection) -> DocumentFiles:
    return get_files(conn)


async def _actor(conn: HTTPConnection) -> Actor:
    """The caller: requests that arrive together have their sessions read together (``SessionReader``)."""
    token = _token_required(conn)
    return allowed_here(conn, await runtime_of(conn).sessions.resolve(token))


StoreDep = Annotated[Store, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
FilesDep = Annotated[DocumentFiles, Depends(_files)]
ActorDep = Annotated[Actor, Depends(_actor)]
