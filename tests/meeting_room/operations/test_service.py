"""The systemd service as installed: files and modes, the unit accepted by ``systemd-analyze
verify``, an operator's settings kept, uninstall leaving the data; and the unit's own command line
and environment starting a server that answers ``/api/health`` (systemd itself does not run here:
PID 1 of these machines is not systemd, so ``systemctl enable --now`` is reported as left to do)."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from click.testing import CliRunner

from meeting_room.cli import main
from meeting_room.errors import SettingsError
from meeting_room.operations.service import ServicePlan, install, systemd_running, uninstall, unit_text, verify_unit
from tests.needs import unavailable

SYSTEMD = "MEETING_ROOM_TEST_REQUIRE_SYSTEMD"


def _analyze() -> None:
    if shutil.which("systemd-analyze") is None:
        unavailable("systemd-analyze is not installed (Debian package systemd; scripts/test.sh installs it)", SYSTEMD)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _unit_keys(unit: Path) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys.setdefault(key, []).append(value)
    return keys


@pytest.mark.parametrize(
    "plan",
    [
        ServicePlan(),
        ServicePlan(database_url="postgresql+psycopg://mr@localhost/mr", rooms=(Path("/etc/meeting-room/hall.toml"),), port=443),
        ServicePlan(database_url="postgresql+psycopg://mr@db.so.gov.vn/mr", user="phonghop", data_dir=Path("/srv/phonghop")),
    ],
    ids=["sqlite", "local-postgres-room-443", "central-postgres"],
)
def test_install_writes_a_unit_systemd_accepts_and_private_files(tmp_path: Path, plan: ServicePlan) -> None:
    _analyze()
    root = tmp_path / "root"
    report = install(plan, root)
    unit = root / "etc/systemd/system/meeting-room.service"
    assert verify_unit(unit) == []  # no unknown key, no missing program, no syntax error
    keys = _unit_keys(unit)
    assert keys["ExecStart"] == [f"{sys.prefix}/bin/meeting-room serve"]
    assert keys["User"] == [plan.user] and keys["Restart"] == ["on-failure"] and keys["StartLimitIntervalSec"] == ["0"]
    assert "network-online.target" in keys["After"][0]
    assert ("postgresql.service" in keys["After"][0]) == (plan.database_url is not None and "localhost" in plan.database_url)
    assert keys["ReadWritePaths"] == [str(plan.data_dir)] and keys["ProtectSystem"] == ["strict"]
    assert ("AmbientCapabilities" in keys) == (plan.port < 1024)
    assert ("SupplementaryGroups" in keys) == bool(plan.rooms)

    data = root / plan.data_dir.relative_to("/")
    config = root / plan.config.relative_to("/")
    assert _mode(data) == 0o700 and _mode(config) == 0o640 and _mode(config.parent) == 0o750
    assert f'data_dir = "{plan.data_dir}"' in config.read_text()
    assert report.written == [plan.config, Path("/etc/systemd/system/meeting-room.service")]


def test_back_off_keys_only_where_systemd_knows_them() -> None:
    assert "RestartSteps" not in unit_text(ServicePlan(), 252)  # Debian 12
    assert "RestartSteps=6" in unit_text(ServicePlan(), 254) and "RestartMaxDelaySec=5min" in unit_text(ServicePlan(), 256)


def test_reinstall_keeps_the_operators_settings_and_uninstall_keeps_the_data(tmp_path: Path) -> None:
    root = tmp_path / "root"
    plan = ServicePlan()
    install(plan, root)
    config = root / "etc/meeting-room/settings.toml"
    config.write_text('data_dir = "/var/lib/meeting-room"\nport = 8443\n')
    (root / "var/lib/meeting-room/meeting-room.sqlite3").write_bytes(b"data")
    again = install(plan, root)
    assert again.kept == [plan.config] and "8443" in config.read_text()
    steps = uninstall(plan, root)
    assert not (root / "etc/systemd/system/meeting-room.service").exists()
    assert config.is_file() and (root / "var/lib/meeting-room/meeting-room.sqlite3").read_bytes() == b"data"
    assert any("kept the data" in s for s in steps)


def test_install_refuses_without_the_installed_program(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        install(ServicePlan(venv=tmp_path / "no-venv"), tmp_path / "root")
    assert "scripts/setup.sh" in refused.value.message_en and not (tmp_path / "root").exists()


def test_the_command_line_says_what_it_did_and_what_is_left(tmp_path: Path) -> None:
    _analyze()
    root = tmp_path / "root"
    out = CliRunner().invoke(main, ["install-service", "--root", str(root), "--port", "8443"])
    assert out.exit_code == 0, out.output
    assert "settings.toml" in out.output and "meeting-room.service" in out.output and "systemd-analyze" not in out.output
    assert "port = 8443" in (root / "etc/meeting-room/settings.toml").read_text()
    out = CliRunner().invoke(main, ["uninstall-service", "--root", str(root)])
    assert out.exit_code == 0 and "kept the data" in out.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_units_command_and_environment_start_a_server(tmp_path: Path) -> None:
    """What systemd would run (ExecStart, Environment, WorkingDirectory), with the unit's paths
    mapped into the test's root; the settings file written by install is the one it reads."""
    if systemd_running():
        pytest.skip("systemd runs here: a real `systemctl start` would be the test")  # not on these machines
    root, data = tmp_path / "root", tmp_path / "data"
    port = _free_port()
    plan = ServicePlan(data_dir=data, host="127.0.0.1", port=port)
    install(plan, root)
    keys = _unit_keys(root / "etc/systemd/system/meeting-room.service")
    env = {"PATH": os.environ["PATH"]}
    if os.environ.get("PYTHONPATH"):  # a worktree run: the code under test, not the venv's own checkout
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    for assignment in " ".join(keys["Environment"]).split():
        name, value = assignment.split("=", 1)
        env[name] = value
    env["MEETING_ROOM_CONFIG"] = str(root / Path(env["MEETING_ROOM_CONFIG"]).relative_to("/"))
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        shlex.split(keys["ExecStart"][0]), env=env, cwd=root / data.relative_to("/"), stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        ca, deadline = data / "tls" / "ca.crt", time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            if ca.is_file():
                try:
                    health = httpx.get(f"https://127.0.0.1:{port}/api/health", verify=ssl.create_default_context(cafile=str(ca)), timeout=2)
                    break
                except (httpx.TransportError, ssl.SSLError):
                    pass
            time.sleep(0.3)
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        assert "clock" in health.json() and health.headers["x-request-id"]  # the machine itself sees the details
        tls = ssl.create_default_context(cafile=str(ca))
        scrape = httpx.get(f"https://127.0.0.1:{port}/metrics", verify=tls, timeout=5)  # a Prometheus on the same machine
        counted = 'meeting_room_http_requests_total{method="GET",route="/api/health",status="2xx"}'
        assert scrape.status_code == 200 and counted in scrape.text
        assert _mode(data) == 0o700
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) is not None  # within the unit's TimeoutStopSec


def test_install_never_takes_over_folders_that_are_not_its_own(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.chmod(root / "etc", 0o755)
    shared = root / "srv"
    (shared / "www").mkdir(parents=True)
    os.chmod(shared, 0o755)
    with pytest.raises(SettingsError) as refused:  # another service's files: not handed over
        install(ServicePlan(data_dir=Path("/srv")), root)
    assert "/srv" in refused.value.message_en and _mode(shared) == 0o755
    install(ServicePlan(config=Path("/etc/meeting-room.toml")), root)  # a settings file straight in /etc
    assert _mode(root / "etc") == 0o755 and _mode(root / "etc/meeting-room.toml") == 0o640
