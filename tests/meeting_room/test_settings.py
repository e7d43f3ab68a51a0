from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from meeting_room.errors import SettingsError
from meeting_room.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert (s.host, s.port, s.data_dir) == ("127.0.0.1", 8000, Path("var"))
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'var' / 'meeting-room.sqlite3'}"


def test_priority_arguments_over_environment_over_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\nmax_upload_mb = 7\n', encoding="utf-8")
    monkeypatch.setenv("MEETING_ROOM_PORT", "9002")
    s = load_settings(config)
    assert (s.port, s.host, s.max_upload_mb) == (9002, "0.0.0.0", 7)
    assert load_settings(config, port=9003).port == 9003


def test_environment_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEETING_ROOM_DATA_DIR", str(tmp_path / "d"))
    assert load_settings().data_dir == tmp_path / "d"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"port": 70000}, "MEETING_ROOM_PORT"),
        ({"models_dir": "/no/such/models"}, "MEETING_ROOM_MODELS_DIR"),
        ({"timezone": "Mars/Olympus"}, "MEETING_ROOM_TIMEZONE"),
        ({"database_url": "mysql://x"}, "sqlite:///"),
    ],
)
def test_bad_values_name_the_setting(overrides: dict[str, Any], needle: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**overrides)
    assert needle in info.value.message_en
    assert "Cấu hình không hợp lệ" in info.value.message_vi


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SettingsError, match="not a directory"):
        load_settings(data_dir=f)


def test_unreadable_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads everything, so the permission answer is simulated for this one directory."""
    import os

    models = tmp_path / "models"
    models.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == models else real_access(p, mode))
    with pytest.raises(SettingsError, match="not readable"):
        load_settings(models_dir=models)


def test_toml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown keys: prot"):
        load_settings(unknown)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_port_in_use_is_reported() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SettingsError, match="already in use"):
            load_settings(port=port).check_port_free()


def test_an_smtp_login_is_never_sent_in_clear() -> None:
    from pydantic import ValidationError

    from meeting_room.settings import SmtpSettings

    with pytest.raises(ValidationError, match="never sent in clear"):
        SmtpSettings(host="mail.sonha.gov.vn", port=25, security="none", username="hop", from_address="hop@sonha.gov.vn")
    assert SmtpSettings(host="mail.sonha.gov.vn", port=25, security="none", from_address="hop@sonha.gov.vn").username is None
    assert SmtpSettings(host="mail.sonha.gov.vn", security="starttls", username="hop", from_address="hop@sonha.gov.vn").port == 587
