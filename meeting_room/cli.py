"""The ``meeting-room`` command line."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import select

from meeting_room import __version__
from meeting_room.access import Actor
from meeting_room.auth import actor_of, new_password
from meeting_room.db import tables as t
from meeting_room.errors import MeetingRoomError, SettingsError, from_validation
from meeting_room.roles import Role
from meeting_room.settings import Settings, load_settings
from voting import VotingError

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(fn: F) -> F:
    """Print domain errors in Vietnamese and English instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MeetingRoomError, VotingError, ValidationError) as exc:
            err = from_validation(exc) if isinstance(exc, ValidationError) else exc
            click.echo(f"Lỗi: {err.message_vi}\nError: {err.message_en}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    return load_settings(ctx.obj.get("config"), **overrides)


@click.group()
@click.version_option(__version__, prog_name="meeting-room")
@click.option("--config", type=click.Path(path_type=Path), help="TOML settings file (or MEETING_ROOM_CONFIG).")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Phòng họp thông minh — on-premises meeting room server."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="TCP port (default 8000).")
@click.pass_context
@_friendly
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the server: migrate the database, then serve HTTP and WebSockets."""
    import uvicorn

    from meeting_room.api import create_app
    from meeting_room.server import ensure_first_admin, open_store

    settings = _settings(ctx, host=host, port=port)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.check_port_free()
    click.echo(f"Dữ liệu / data: {settings.data_dir.resolve()}  ({settings.effective_database_url.split(':')[0]})")
    store = open_store(settings)
    first = ensure_first_admin(store)
    if first is not None:
        bar = "=" * 72
        click.echo(
            f"{bar}\nLần chạy đầu tiên: đã tạo tài khoản quản trị (chỉ hiện MỘT lần, hãy ghi lại)\n"
            f"First start: an administrator account was created (shown ONCE, write it down)\n"
            f"  tên đăng nhập / username: {first.username}\n  mật khẩu / password:      {first.password}\n{bar}"
        )
    url = f"http://{'[' + settings.host + ']' if ':' in settings.host else settings.host}:{settings.port}/"
    click.echo(f"Mở trình duyệt / open in a browser: {url}   (API: {url}docs)")
    uvicorn.run(create_app(settings, store), host=settings.host, port=settings.port, log_level=settings.log_level)


@main.command()
@click.pass_context
@_friendly
def migrate(ctx: click.Context) -> None:
    """Apply database migrations (serve does this too)."""
    from meeting_room.server import open_store

    open_store(_settings(ctx))
    click.echo("Cơ sở dữ liệu đã cập nhật / database is up to date")


@main.command()
@click.pass_context
@_friendly
def verify(ctx: click.Context) -> None:
    """Check the event log's hash chain and recount every closed poll from its stored ballots."""
    from meeting_room.server import open_store
    from meeting_room.services.polls import verify_polls

    store = open_store(_settings(ctx))
    report = store.verify()
    if report.ok:
        click.echo(f"OK: {report.events} sự kiện, chuỗi băm nguyên vẹn / {report.events} events, hash chain intact")
        click.echo(f"head {report.head}")
    else:
        click.echo(
            f"HỎNG tại sự kiện {report.broken_at} / BROKEN at event {report.broken_at}: {report.problem}\n"
            f"({report.events} sự kiện đầu hợp lệ / the first {report.events} events are intact)",
            err=True,
        )
    audit = verify_polls(store)
    if audit.ok:
        click.echo(f"OK: kiểm lại {audit.checked} phiên biểu quyết, kết quả khớp / {audit.checked} polls recounted, results match")
    for problem in audit.problems:
        click.echo(f"SAI LỆCH / MISMATCH: {problem}", err=True)
    if not (report.ok and audit.ok):
        sys.exit(1)


@main.command()
@click.pass_context
@_friendly
def rebuild(ctx: click.Context) -> None:
    """Rebuild the read models by replaying every event."""
    from meeting_room.server import open_store

    count = open_store(_settings(ctx)).rebuild()
    click.echo(f"Đã dựng lại từ {count} sự kiện / rebuilt from {count} events")


@main.group()
def admin() -> None:
    """Administrator accounts."""


@admin.command("create")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
@_friendly
def admin_create(ctx: click.Context, username: str, full_name: str, password_stdin: bool) -> None:
    """Create an administrator (a random password is printed unless --password-stdin)."""
    from meeting_room.server import open_store
    from meeting_room.services.members import create_member

    store = open_store(_settings(ctx))
    password = sys.stdin.readline().rstrip("\n") if password_stdin else new_password()
    create_member(store, None, full_name=full_name, roles=[Role.ADMIN], username=username, password=password)
    click.echo(f"Đã tạo quản trị viên / administrator created: {username.strip().lower()}")
    if not password_stdin:
        click.echo(f"mật khẩu / password: {password}")


def _operator(store: Any) -> Actor:
    """The CLI runs with the server's own authority: it acts as the oldest active administrator."""
    with store.read() as session:
        for member in session.scalars(select(t.Member).where(t.Member.active.is_(True)).order_by(t.Member.created_at)):
            if Role.ADMIN.value in member.roles:
                return actor_of(member)
    raise SettingsError(
        "Chưa có quản trị viên; chạy `meeting-room admin create` hoặc khởi động máy chủ một lần",
        "No administrator yet; run `meeting-room admin create` or start the server once",
    )


@main.command()
@click.pass_context
@_friendly
def demo(ctx: click.Context) -> None:
    """Load a small demo body: members, a room, a scheduled meeting with an agenda."""
    from meeting_room.demo import load_demo
    from meeting_room.server import ensure_first_admin, open_store

    settings = _settings(ctx)
    store = open_store(settings)
    first = ensure_first_admin(store)
    if first is not None:
        click.echo(f"Quản trị viên / administrator: {first.username} / {first.password}")
    result = load_demo(store, _operator(store), timezone=settings.timezone)
    click.echo("Đã nạp dữ liệu mẫu / demo loaded. Tài khoản / accounts:")
    for username, password, name in result.logins:
        click.echo(f"  {username:<12} {password}  {name}")
    click.echo(f"Cuộc họp mẫu / demo meeting: {result.meeting_id}")


if __name__ == "__main__":
    main()
