"""The command line: verify, admin create, demo, rebuild."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from meeting_room.cli import _friendly, main
from tests.bilingual_errors import EN, VI, every_error_class, make


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEETING_ROOM_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def test_demo_then_verify_then_tamper(run, tmp_path: Path) -> None:
    demo = run("demo")
    assert demo.exit_code == 0, demo.output
    assert "chutich" in demo.output and "Cuộc họp mẫu" in demo.output
    ok = run("verify")
    assert ok.exit_code == 0 and "hash chain intact" in ok.output
    events = int(ok.output.split("OK: ")[1].split()[0])
    assert events > 20
    again = run("demo")
    assert again.exit_code == 2 and "đã được nạp" in again.output
    with sqlite3.connect(tmp_path / "var" / "meeting-room.sqlite3") as db:
        (seq,) = db.execute("SELECT seq FROM events WHERE type = 'body.created'").fetchone()
        db.execute("UPDATE events SET payload = replace(payload, 'Sơn Hà', 'Sơn Hải') WHERE seq = ?", (seq,))
    broken = run("verify")
    assert broken.exit_code == 1 and f"BROKEN at event {seq}" in broken.output and "content changed" in broken.output


def test_admin_create_and_duplicate(run) -> None:
    r = run("admin", "create", "--username", "Quantri2", "--full-name", "Nguyễn Quản Trị", "--password-stdin", stdin="mot-mat-khau-dai\n")
    assert r.exit_code == 0 and "quantri2" in r.output and "mot-mat-khau-dai" not in r.output
    dup = run("admin", "create", "--username", "quantri2", "--full-name", "X", "--password-stdin", stdin="mot-mat-khau-dai\n")
    assert dup.exit_code == 2 and "đã được dùng" in dup.output
    short = run("admin", "create", "--username", "quantri3", "--full-name", "X", "--password-stdin", stdin="ngan\n")
    assert short.exit_code == 2 and "ít nhất 10" in short.output


def test_demo_without_any_admin_creates_the_first_one(run) -> None:
    r = run("demo")
    assert "administrator: admin /" in r.output


def test_rebuild_and_bad_config(run, tmp_path: Path) -> None:
    run("demo")
    r = run("rebuild")
    assert r.exit_code == 0 and "rebuilt from" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'tám nghìn'\n", encoding="utf-8")
    r = run("--config", str(bad), "migrate")
    assert r.exit_code == 2 and "MEETING_ROOM_PORT" in r.output


def test_verify_recounts_polls_and_fails_on_a_changed_ballot(run, tmp_path: Path) -> None:
    from meeting_room.attendance import AttendanceStatus
    from meeting_room.lifecycle import MeetingState
    from meeting_room.server import open_store
    from meeting_room.services import attendance, meetings, polls
    from meeting_room.settings import load_settings
    from tests.conftest import make_world
    from voting import Secrecy

    store = open_store(load_settings(data_dir=tmp_path / "var"))
    world = make_world(store)
    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(store, chair, world.meeting_id, state)
    for who in ("chair", "member1", "member2"):
        attendance.record(store, chair, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    pid = polls.create_poll(store, chair, world.meeting_id, polls.PollSpec(title="Thông qua", secrecy=Secrecy.SECRET))
    polls.open_poll(store, chair, pid)
    for who, choice in (("chair", "yes"), ("member1", "yes"), ("member2", "no")):
        polls.cast_ballot(store, world.actor(who), pid, [choice])
    polls.close_poll(store, chair, pid)
    store.engine.dispose()

    ok = run("verify")
    assert ok.exit_code == 0 and "1 polls recounted, results match" in ok.output
    with sqlite3.connect(tmp_path / "var" / "meeting-room.sqlite3") as db:
        db.execute("UPDATE ballots SET selection = '[\"yes\"]' WHERE selection = '[\"no\"]'")
        db.execute("UPDATE polls SET result = json_set(result, '$.options[0].votes', 3)")
    bad = run("verify")
    assert bad.exit_code == 1 and "MISMATCH" in bad.output and "ballots in the database differ" in bad.output
    assert "result in the database differs" in bad.output and "hash chain intact" in bad.output


def test_consent_and_face_import_from_the_command_line(run, tmp_path: Path) -> None:
    from PIL import Image

    from meeting_room.server import open_store
    from meeting_room.settings import load_settings
    from tests.conftest import make_world
    from tests.face_photos import astronaut, hopper

    store = open_store(load_settings(data_dir=tmp_path / "var"))
    make_world(store)
    store.engine.dispose()
    people = tmp_path / "people"
    for username, photo in (("member1", astronaut()), ("member2", hopper())):
        (people / username).mkdir(parents=True)
        Image.fromarray(photo).save(people / username / "1.jpg")
    assert run("members", "consent", "member1", "--given", "--note", "Phiếu số 1").exit_code == 0
    r = run("members", "import-faces", str(people))  # member2 has not consented: checked first, nothing stored
    assert r.exit_code == 2 and "member2" in r.output and "13/2023" in r.output and "chưa nhập gì" in r.output
    (people / "member2" / "1.jpg").unlink()
    Image.fromarray(astronaut()).save(people / "member1" / "2.jpg")
    (people / "member1" / "notes.txt").write_text("not a photo: left out by the command")
    (people / "member2").rmdir()
    r = run("members", "import-faces", str(people))
    # the same picture under two names is enrolled once
    assert r.exit_code == 0 and "member1: 1 ảnh / photo(s), 1 ảnh đã có" in r.output, r.output
    assert "imported 1 members, 0 failed" in r.output
    Image.fromarray(hopper()).save(tmp_path / "hopper.jpg")
    r = run("members", "enrol-face", "member1", str(tmp_path / "hopper.jpg"))
    assert r.exit_code == 0 and "1 photo(s) enrolled" in r.output
    r = run("members", "consent", "member1", "--withdrawn")
    assert r.exit_code == 0 and "biometric data deleted" in r.output
    assert run("members", "consent", "nobody", "--given").exit_code == 2


@pytest.mark.models  # the CLI builds the packaged models itself: no model_store fixture to tell
def test_models_and_transcribe(run, tmp_path: Path) -> None:
    import json

    from tests.speech_audio import speak

    listed = run("models")
    assert listed.exit_code == 0 and "OK " in listed.output and "whisper-base" in listed.output
    wav = speak(tmp_path / "phat-bieu.wav", "Hôm nay chúng ta biểu quyết dự toán ngân sách.")
    r = run("transcribe", str(wav), "--out", str(tmp_path / "out"), "--beam", "1")
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "out" / "phat-bieu.json").read_text(encoding="utf-8"))
    assert data["meta"]["model"] == "whisper-base" and data["segments"] and data["segments"][0]["words"]
    assert (tmp_path / "out" / "phat-bieu.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    assert {p.suffix for p in (tmp_path / "out").iterdir()} == {".json", ".vtt", ".srt", ".rttm"}
    (tmp_path / "empty.wav").write_bytes(b"")
    bad = run("transcribe", str(tmp_path / "empty.wav"))
    assert bad.exit_code == 2 and "rỗng" in bad.output
    assert run("transcribe", str(wav), "--formats", "docx").exit_code == 2
    assert run("transcribe", str(wav), "--model", "phowhisper").exit_code == 2


def test_tls_ca_key_off_the_server_and_renewal(run, tmp_path: Path) -> None:
    from meeting_room.operations.tls import ensure_tls
    from meeting_room.settings import load_settings

    ensure_tls(load_settings(data_dir=tmp_path / "var"))
    usb = tmp_path / "usb" / "ca.key"
    usb.parent.mkdir()
    moved = run("tls", "export-ca-key", str(usb))
    assert moved.exit_code == 0 and usb.is_file() and not (tmp_path / "var" / "tls" / "ca.key").exists()
    assert f"tls renew --ca-key {usb}" in moved.output
    renewed = run("tls", "renew", "--ca-key", str(usb))
    assert renewed.exit_code == 0 and "server.crt" in renewed.output
    again = run("tls", "export-ca-key", str(tmp_path / "other.key"))
    assert again.exit_code == 2 and "not on this server" in again.output


def test_every_error_of_every_package_is_printed_in_both_languages() -> None:
    """The CLI catches the one base: no package's error ends in a traceback (a ``WebRTCError`` did)."""
    for cls in every_error_class():

        @click.command()
        @_friendly
        def fail() -> None:
            raise make(cls)  # noqa: B023 (called at once, inside this iteration)

        r = CliRunner().invoke(fail, [])
        assert (r.exit_code, r.exception.__class__) == (2, SystemExit), f"{cls.__qualname__}: {r.output}"
        assert f"Lỗi: {VI}\nError: {EN}" in r.output, cls
