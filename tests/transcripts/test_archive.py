"""A sealed archive: written once; a changed, missing or added file, or a forged manifest, is found."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from transcripts.archive import MANIFEST, seal, verify
from transcripts.errors import ArchiveError


def _seal(tmp_path: Path) -> tuple[Path, str]:
    recording = tmp_path / "ghi-am.wav"
    recording.write_bytes(b"RIFF" + bytes(range(256)) * 10)
    files: dict[str, bytes | Path] = {"bien-ban-da-ky.pdf": b"%PDF-1.7 signed", "ghi-am/phien-hop.wav": recording, "diem-danh.json": b"[]"}
    sealed = seal(tmp_path / "archive" / "m1", files, meeting_id="m1", sealed_at="2026-11-23T10:00:00+00:00")
    assert [e.name for e in sealed.entries] == ["bien-ban-da-ky.pdf", "diem-danh.json", "ghi-am/phien-hop.wav"]
    assert sealed.manifest_sha256 == hashlib.sha256((sealed.directory / MANIFEST).read_bytes()).hexdigest()
    return sealed.directory, sealed.manifest_sha256


def test_a_fresh_archive_verifies_and_cannot_be_written_twice(tmp_path: Path) -> None:
    directory, manifest = _seal(tmp_path)
    report = verify(directory, manifest)
    assert report.ok and report.files == 3
    assert not (directory / "diem-danh.json").stat().st_mode & 0o222  # read-only
    with pytest.raises(ArchiveError) as err:
        seal(directory, {"x": b"y"}, meeting_id="m1", sealed_at="later")
    assert "đã được niêm phong" in err.value.message_vi


@pytest.mark.parametrize("change", ["flip", "delete", "add", "manifest"])
def test_any_change_is_found(tmp_path: Path, change: str) -> None:
    directory, manifest = _seal(tmp_path)
    target = directory / "ghi-am" / "phien-hop.wav"
    if change == "flip":
        target.chmod(0o644)
        data = bytearray(target.read_bytes())
        data[100] ^= 1
        target.write_bytes(bytes(data))
        expected = [("ghi-am/phien-hop.wav", "modified")]
    elif change == "delete":
        target.unlink()
        expected = [("ghi-am/phien-hop.wav", "missing")]
    elif change == "add":
        (directory / "them.txt").write_text("không thuộc hồ sơ")
        expected = [("them.txt", "unexpected")]
    else:  # rewrite the manifest to match a changed file: the hash kept in the log still catches it
        path = directory / MANIFEST
        path.chmod(0o644)
        body = json.loads(path.read_bytes())
        body["files"][0]["size"] += 0
        body["sealed_at"] = "2020-01-01"
        path.write_text(json.dumps(body))
        expected = [(MANIFEST, "manifest_modified")]
    report = verify(directory, manifest)
    assert not report.ok and [(p.name, p.problem) for p in report.problems] == expected
    assert report.problems[0].text_vi()


def test_names_that_escape_the_archive_are_refused(tmp_path: Path) -> None:
    for bad in ("../ngoai.txt", "/etc/passwd", MANIFEST):
        with pytest.raises(ArchiveError):
            seal(tmp_path / "a", {bad: b"x"}, meeting_id="m", sealed_at="now")


def test_a_servers_checks_hash_once_for_many_asks_and_again_on_any_change_or_after_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from transcripts import archive

    directory, manifest = _seal(tmp_path)
    hashed: list[str] = []
    real = archive.sha256_file
    gate = threading.Event()
    now = [1000.0]

    def counted(path: Path) -> str:
        hashed.append(path.name)
        gate.wait(10)  # a check holds here while others ask
        now[0] += 40  # a slow disk: the three files take 120 s, longer than a result stays fresh
        return real(path)

    monkeypatch.setattr(archive, "sha256_file", counted)
    checks = archive.ArchiveChecks(fresh_s=60, clock=lambda: now[0])
    results: list[tuple[archive.ArchiveReport, float]] = []
    askers = [threading.Thread(target=lambda: results.append(checks.check(directory, manifest))) for _ in range(6)]
    for asker in askers:
        asker.start()
    deadline = time.monotonic() + 10
    while not hashed and time.monotonic() < deadline:  # the first check is hashing; the others wait for it
        time.sleep(0.01)
    gate.set()
    for asker in askers:
        asker.join(10)
    assert len(results) == 6 and all(report.ok for report, _ in results)
    assert len(hashed) == 3  # six at once: the three files hashed once, though that took two "minutes"

    now[0] += 30
    report, age = checks.check(directory, manifest)  # 30 s after it finished: the same result, 150 s after its hashing began
    assert report.ok and age == 150 and len(hashed) == 3
    now[0] += 40
    hashed.clear()
    report, age = checks.check(directory, manifest)  # over a minute after it finished: hashed again
    assert report.ok and age == 0 and len(hashed) == 3
    report, age = checks.check(directory, manifest)  # nothing changed since: that result, with its age
    assert report.ok and age == 120 and len(hashed) == 3

    def in_thread() -> tuple[threading.Thread, list[tuple[archive.ArchiveReport, float]]]:
        out: list[tuple[archive.ArchiveReport, float]] = []
        thread = threading.Thread(target=lambda: out.append(checks.check(directory, manifest)))
        thread.start()
        return thread, out

    def hashing(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(hashed) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(hashed) >= count

    # a minute on, nothing changed: while it is hashed again, an ask gets the last result at once (no thread held)
    gate.clear()
    now[0] += 61
    running, _ = in_thread()
    hashing(4)
    report, age = checks.check(directory, manifest)
    assert report.ok and age == 181  # the last result, said to be three minutes old
    gate.set()
    running.join(10)

    # a file changed: an ask during the check waits for its hashes, never the stale "ok"
    gate.clear()
    target = directory / "diem-danh.json"  # changed in place, same size
    target.chmod(0o600)
    target.write_bytes(bytes(reversed(target.read_bytes())))
    os.utime(target, ns=(1, 1))  # (the clocks tick coarsely: a write this soon may keep both times)
    now[0] += 61
    running, _ = in_thread()
    hashing(7)
    asking, answer = in_thread()
    asking.join(0.3)
    assert asking.is_alive() and not answer  # waiting for the check running
    gate.set()
    running.join(10)
    asking.join(10)
    ((report, _age),) = answer
    assert not report.ok and [p.problem for p in report.problems] == ["modified"]
