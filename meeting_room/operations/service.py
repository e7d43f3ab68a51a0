"""Installing the server as a systemd service on the room's (or a central) server.

``install`` writes the unit, the settings file in ``/etc/meeting-room/`` (never over an operator's
own), creates the system user that owns the data directory (0700), and enables and starts the
unit where systemd runs; ``uninstall`` stops and removes the unit and leaves the data, the settings
and the user. Everything is written under ``root`` ("/" on a real install; a folder in the tests),
so the same code path is what the suite checks with ``systemd-analyze verify``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from meeting_room.errors import SettingsError

UNIT = "meeting-room.service"
LOCAL_DB_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class ServicePlan:
    """What ``install`` writes; every path is as seen on the installed machine (``root`` is prepended)."""

    venv: Path = field(default_factory=lambda: Path(sys.prefix))
    user: str = "meeting-room"
    config: Path = Path("/etc/meeting-room/settings.toml")
    data_dir: Path = Path("/var/lib/meeting-room")
    host: str = "0.0.0.0"
    port: int = 8000
    database_url: str | None = None
    rooms: tuple[Path, ...] = ()
    units_dir: Path = Path("/etc/systemd/system")

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "meeting-room"

    @property
    def local_postgres(self) -> bool:
        if not self.database_url or not self.database_url.startswith("postgresql"):
            return False
        return make_url(self.database_url).host in LOCAL_DB_HOSTS


@dataclass
class InstallReport:
    written: list[Path]
    kept: list[Path]
    steps: list[str]  # what was done, in order, for the operator
    todo: list[str]  # what is left to do by hand (e.g. systemd does not run here)


def systemd_version() -> int | None:
    tool = shutil.which("systemctl") or shutil.which("systemd-analyze")
    if tool is None:
        return None
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"systemd (\d+)", out)
    return int(match.group(1)) if match else None


def systemd_running() -> bool:
    """systemd is PID 1 (its documented test: this directory exists)."""
    return Path("/run/systemd/system").is_dir()


def unit_text(plan: ServicePlan, version: int | None = None) -> str:
    """The server's unit: starts after the network (and a local PostgreSQL), restarts on failure with
    back-off, runs as its own user with the file system read-only but for the data directory."""
    after = ["network-online.target", "time-sync.target"]
    wants = ["network-online.target"]
    if plan.local_postgres:
        after.append("postgresql.service")
        wants.append("postgresql.service")
    lines = [
        "# Written by `meeting-room install-service`; `meeting-room uninstall-service` removes it.",
        "[Unit]",
        "Description=Phòng họp thông minh / meeting room server",
        f"After={' '.join(after)}",
        f"Wants={' '.join(wants)}",
        "StartLimitIntervalSec=0",  # never give up after a power cut: keep trying, with the back-off below
        "",
        "[Service]",
        "Type=exec",
        f"User={plan.user}",
        f"Group={plan.user}",
        f"Environment=MEETING_ROOM_CONFIG={plan.config}",
        "Environment=HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYANNOTE_METRICS_ENABLED=0 PYTHONUNBUFFERED=1",
        f"ExecStart={plan.executable} serve",
        "Restart=on-failure",
        "RestartSec=5s",
    ]
    if version is not None and version >= 254:  # the back-off keys came with systemd 254
        lines += ["RestartSteps=6", "RestartMaxDelaySec=5min"]
    lines += [
        "TimeoutStopSec=60s",  # a recording being assembled finishes
        "UMask=0077",
        f"WorkingDirectory={plan.data_dir}",
        f"ReadWritePaths={plan.data_dir}",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "LimitNOFILE=65536",
        "StandardOutput=journal",
        "StandardError=journal",
        "SyslogIdentifier=meeting-room",
    ]
    if not any(str(plan.venv).startswith(p) for p in ("/home/", "/root/")):
        lines.append("ProtectHome=yes")
    if plan.rooms:
        lines.append("SupplementaryGroups=audio video")  # the room's microphones and cameras
    if plan.port < 1024:
        lines.append("AmbientCapabilities=CAP_NET_BIND_SERVICE")
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def settings_text(plan: ServicePlan) -> str:
    def q(value: object) -> str:
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "# Cấu hình máy chủ phòng họp / meeting room server settings (README: “Cấu hình / Settings”).",
        "# Sửa xong: systemctl restart meeting-room / after editing: systemctl restart meeting-room",
        f"data_dir = {q(plan.data_dir)}",
        f"host = {q(plan.host)}",
        f"port = {plan.port}",
    ]
    if plan.database_url:
        lines.append(f"database_url = {q(plan.database_url)}")
    if plan.rooms:
        lines.append("rooms = [" + ", ".join(q(r) for r in plan.rooms) + "]")
    lines.append('# backup_schedule = { at = "02:30", keep = 14, dir = "/mnt/backup/meeting-room" }')
    return "\n".join(lines) + "\n"


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to(path.anchor)


def _user_ids(user: str) -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _readable_by_others(path: Path) -> bool:
    """Whether a user other than the owner can reach ``path`` (every folder above it searchable)."""
    for folder in [path, *path.parents]:
        if folder.exists() and not os.stat(folder).st_mode & 0o001:
            return False
    return True


def _refuse_foreign_data_dir(data: Path, plan: ServicePlan, ids: tuple[int, int] | None) -> None:
    """A folder that holds others' files (``/srv``, ``/var/lib``) is never handed to the service."""
    if not data.is_dir() or not any(data.iterdir()):
        return
    owned = ids is not None and data.stat().st_uid == ids[0]
    ours = (data / "meeting-room.sqlite3").exists() or (data / "documents").is_dir()
    if not (owned or ours):
        raise SettingsError(
            f"Thư mục {plan.data_dir} đã có tệp khác: không giao nó cho dịch vụ. Hãy chọn một thư mục riêng, ví dụ /var/lib/meeting-room",
            f"The folder {plan.data_dir} already holds other files: it is not handed to the service. "
            "Choose a folder of its own, e.g. /var/lib/meeting-room",
            data_dir=str(plan.data_dir),
        )


def verify_unit(unit: Path) -> list[str]:
    """``systemd-analyze verify``'s complaints about the unit file (empty: none)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return ["systemd-analyze not found (Debian package systemd)"]
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, check=False)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0 and not problems:
        problems.append(f"systemd-analyze verify exited with {done.returncode}")
    return problems


def install(plan: ServicePlan, root: Path = Path("/"), *, start: bool = True) -> InstallReport:
    if not plan.executable.is_file():
        raise SettingsError(
            f"Không thấy {plan.executable}: hãy cài dự án (bash scripts/setup.sh) rồi chạy lại lệnh này từ .venv của nó",
            f"{plan.executable} does not exist: install the project (bash scripts/setup.sh), then run this from its .venv",
        )
    real = root == Path("/")
    if real and os.geteuid() != 0:
        raise SettingsError("Cần quyền root (sudo) để cài dịch vụ", "Installing the service needs root (sudo)")
    report = InstallReport([], [], [], [])
    if real and _user_ids(plan.user) is None:
        subprocess.run(
            ["useradd", "--system", "--home-dir", str(plan.data_dir), "--no-create-home",
             "--shell", "/usr/sbin/nologin", "--user-group", plan.user],  # fmt: skip
            check=True,
        )
        report.steps.append(f"tạo người dùng hệ thống / system user created: {plan.user}")
    ids = _user_ids(plan.user) if real else None
    if real and plan.rooms:
        for group in ("audio", "video"):
            subprocess.run(["usermod", "-aG", group, plan.user], check=False)

    data = _under(root, plan.data_dir)
    _refuse_foreign_data_dir(data, plan, ids)
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    if ids:
        os.chown(data, *ids)
    report.steps.append(f"thư mục dữ liệu / data directory: {plan.data_dir} (0700, {plan.user})")

    config = _under(root, plan.config)
    # the settings' folder is made private only when it is ours: never /etc itself, or another's
    ours = not config.parent.exists() or config.parent.name == "meeting-room"
    config.parent.mkdir(parents=True, exist_ok=True)
    if ours:
        os.chmod(config.parent, 0o750)
    if config.exists():
        report.kept.append(plan.config)  # an operator's settings are never overwritten
    else:
        config.write_text(settings_text(plan), encoding="utf-8")
        os.chmod(config, 0o640)
        report.written.append(plan.config)
    if ids:
        if ours:
            os.chown(config.parent, 0, ids[1])
        os.chown(config, 0, ids[1])

    unit = _under(root, plan.units_dir) / UNIT
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(unit_text(plan, systemd_version()), encoding="utf-8")
    os.chmod(unit, 0o644)
    report.written.append(plan.units_dir / UNIT)

    if not _readable_by_others(plan.executable):
        report.todo.append(
            f"{plan.venv} nằm trong thư mục người dùng {plan.user} không vào được: hãy cài dự án vào /opt/meeting-room / "
            f"{plan.venv} lies in a folder {plan.user} cannot enter: install the project under /opt/meeting-room"
        )
    if real and start and systemd_running():
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "enable", "--now", UNIT], check=True)
        report.steps.append(f"đã bật và khởi động / enabled and started: {UNIT}")
    elif real:
        report.todo.append(
            f"systemd không chạy trên máy này: khi có, chạy `systemctl daemon-reload && systemctl enable --now {UNIT}` / "
            f"systemd is not running on this machine: where it is, run `systemctl daemon-reload && systemctl enable --now {UNIT}`"
        )
    return report


def uninstall(plan: ServicePlan, root: Path = Path("/")) -> list[str]:
    """Stop, disable and remove the unit; the data, the settings and the user stay."""
    steps = []
    real = root == Path("/")
    if real and systemd_running():
        subprocess.run(["systemctl", "disable", "--now", UNIT], check=False)
        steps.append(f"đã dừng và tắt / stopped and disabled: {UNIT}")
    unit = _under(root, plan.units_dir) / UNIT
    if unit.exists():
        unit.unlink()
        steps.append(f"đã xóa / removed {plan.units_dir / UNIT}")
        if real and systemd_running():
            subprocess.run(["systemctl", "daemon-reload"], check=False)
    steps.append(
        f"giữ nguyên dữ liệu {plan.data_dir}, cấu hình {plan.config}, người dùng {plan.user} / "
        f"kept the data {plan.data_dir}, the settings {plan.config}, the user {plan.user}"
    )
    return steps
