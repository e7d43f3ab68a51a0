"""Files kept by SHA-256: whole or not at all, once however often (or however simultaneously) they
arrive, read back only if unchanged, and where backups and older data directories expect them."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from meeting_room.errors import NotFoundError, UploadRejectedError, UploadTooLargeError
from meeting_room.files.documents import DocumentFiles
from meeting_room.files.file_store import FileStore, Noun
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.files.recordings import RecordingFiles

NOUN = Noun("Tệp thử", "test file")


def _store(root: Path, max_bytes: int = 1 << 20) -> FileStore:
    return FileStore(root, max_bytes, noun=NOUN, suffix=".bin", accepted="anything")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_an_upload_is_kept_under_its_hash_with_what_its_check_found(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = b"bien ban phien hop"
    kept, found = store.add(io.BytesIO(data), lambda path: path.read_bytes().upper())
    sha = hashlib.sha256(data).hexdigest()
    assert (kept.sha256, kept.size, found) == (sha, len(data), data.upper())
    assert kept.path == tmp_path / sha[:2] / f"{sha}.bin" == store.open(sha)
    assert store.read(sha) == data and _files(tmp_path) == [kept.path]


def test_an_empty_upload_is_refused_before_its_check_and_leaves_nothing(tmp_path: Path) -> None:
    checked: list[Path] = []
    with pytest.raises(UploadRejectedError) as caught:
        _store(tmp_path).add(io.BytesIO(b""), checked.append)
    assert "rỗng" in caught.value.message_vi and caught.value.details["accepted"] == "anything"
    assert checked == [] and _files(tmp_path) == []


def test_an_oversized_upload_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path, max_bytes=3 << 20)
    checked: list[Path] = []
    with pytest.raises(UploadTooLargeError) as caught:
        store.add(io.BytesIO(b"x" * ((3 << 20) + 1)), checked.append)
    assert caught.value.details["limit"] == 3 << 20 and "3 MB" in caught.value.message_en and "Tệp thử quá lớn" in caught.value.message_vi
    assert checked == [] and _files(tmp_path) == []
    exactly = store.add(io.BytesIO(b"x" * (3 << 20)), lambda path: None)[0]
    assert exactly.size == 3 << 20


def test_an_upload_its_check_refuses_leaves_nothing(tmp_path: Path) -> None:
    def refuse(path: Path) -> None:
        raise UploadRejectedError("Không nhận", "Refused")

    with pytest.raises(UploadRejectedError, match="Không nhận"):
        _store(tmp_path).add(io.BytesIO(b"abc"), refuse)
    assert _files(tmp_path) == []


def test_a_file_changed_on_disk_is_not_read_back(tmp_path: Path) -> None:
    store = _store(tmp_path)
    sha = store.put(b"%PDF-1.7 bien ban")
    store.path_of(sha).write_bytes(b"%PDF-1.7 bien ban da sua")
    with pytest.raises(NotFoundError) as caught:
        store.read(sha)
    assert caught.value.message_en == "The stored test file was modified on disk" and caught.value.details["sha256"] == sha


def test_a_file_that_vanished_is_reported_missing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kept, _ = store.add(io.BytesIO(b"abc"), lambda path: None)
    kept.path.unlink()
    for look in (store.open, store.read):
        with pytest.raises(NotFoundError) as caught:
            look(kept.sha256)
        assert caught.value.message_vi == "Tệp thử không còn trên máy chủ" and caught.value.details["sha256"] == kept.sha256


def test_identical_uploads_at_the_same_moment_make_one_whole_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = bytes(range(256)) * 4096  # 1 MiB
    together = threading.Barrier(6)
    results: list[object] = []

    def upload() -> None:
        try:  # every copy is checked before any is moved into place
            results.append(store.add(io.BytesIO(data), lambda path: together.wait(timeout=30))[0])
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 6 and len({getattr(r, "sha256", r) for r in results}) == 1, results
    assert _files(tmp_path) == [store.path_of(hashlib.sha256(data).hexdigest())]  # no temporary copy left
    assert store.read(hashlib.sha256(data).hexdigest()) == data


def test_made_files_are_written_once_even_at_the_same_moment(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = b"%PDF-1.7 " * 100_000
    threads = [threading.Thread(target=store.put, args=(data,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert _files(tmp_path) == [store.path_of(hashlib.sha256(data).hexdigest())]
    assert store.read(hashlib.sha256(data).hexdigest()) == data


def test_places_on_disk_are_those_of_existing_data_directories(tmp_path: Path) -> None:
    """Backups and data directories written before keep working: the layout is part of the format."""
    sha = hashlib.sha256(b"x").hexdigest()
    assert DocumentFiles(tmp_path / "documents", 0).path_of(sha) == tmp_path / "documents" / sha[:2] / f"{sha}.pdf"
    assert RecordingFiles(tmp_path / "recordings", 0).path_of(sha) == tmp_path / "recordings" / sha[:2] / sha
    minutes = MinutesFiles(
        tmp_path / "minutes", tmp_path / "certs", tmp_path / "archive", tmp_path / "cache", None, None, (), 0, tmp_path / "images"
    )
    assert minutes.pdf_path(sha) == tmp_path / "minutes" / sha[:2] / f"{sha}.pdf"
