"""A sealed meeting archive: files written once, a SHA-256 manifest, and a check that finds any change.

The archive is a directory: the files, and ``manifest.json`` listing each file's size and SHA-256.
The manifest's own SHA-256 is what the application records in its hash-chained event log, so a
forged manifest is caught as surely as a changed file. Files are made read-only once written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from transcripts.errors import ArchiveError

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Sealed:
    directory: Path
    entries: tuple[ArchiveEntry, ...]
    manifest_sha256: str


@dataclass(frozen=True)
class ArchiveProblem:
    name: str
    problem: str  # missing | modified | unexpected | manifest_modified | manifest_missing

    def text_vi(self) -> str:
        return {
            "missing": f"thiếu tệp {self.name}",
            "modified": f"tệp {self.name} đã bị thay đổi",
            "unexpected": f"có tệp lạ {self.name} không thuộc bản lưu trữ",
            "manifest_modified": "danh mục lưu trữ (manifest.json) đã bị thay đổi",
            "manifest_missing": "thiếu danh mục lưu trữ (manifest.json)",
        }[self.problem]


@dataclass(frozen=True)
class ArchiveReport:
    directory: Path
    files: int
    problems: tuple[ArchiveProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or name == MANIFEST:
        raise ArchiveError(f"Tên tệp lưu trữ không hợp lệ: {name}", f"Invalid archive file name {name!r}", name=name)
    return str(pure)


def seal(directory: Path, files: Mapping[str, bytes | Path], *, meeting_id: str, sealed_at: str) -> Sealed:
    """Write ``files`` (bytes, or a path to copy) and the manifest; refuses a directory already sealed."""
    directory = Path(directory)
    if (directory / MANIFEST).exists():
        raise ArchiveError(
            f"Cuộc họp {meeting_id} đã được niêm phong lưu trữ; không ghi lại được",
            f"The archive of meeting {meeting_id} is already sealed and cannot be written again",
            directory=str(directory),
        )
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    entries = []
    for name, content in sorted(files.items()):
        target = staging / _safe_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            if not Path(content).is_file():
                raise ArchiveError(f"Không tìm thấy tệp cần lưu trữ: {name}", f"The file to archive is missing: {content}", name=name)
            shutil.copyfile(content, target)
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
        entries.append(ArchiveEntry(name, target.stat().st_size, sha256_file(target)))
        target.chmod(0o400)
    manifest = {
        "meeting_id": meeting_id,
        "sealed_at": sealed_at,
        "algorithm": "sha256",
        "files": [{"name": e.name, "size": e.size, "sha256": e.sha256} for e in entries],
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    (staging / MANIFEST).write_bytes(body)
    (staging / MANIFEST).chmod(0o400)
    # the directory appears complete or not at all
    if directory.exists():
        directory.rmdir()  # only an empty directory may be replaced; anything else raises
    staging.rename(directory)
    return Sealed(directory, tuple(entries), hashlib.sha256(body).hexdigest())


def verify(directory: Path, manifest_sha256: str | None = None) -> ArchiveReport:
    """Recompute every hash; report missing, modified and unexpected files (and a changed manifest)."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return ArchiveReport(directory, 0, (ArchiveProblem(MANIFEST, "manifest_missing"),))
    body = manifest_path.read_bytes()
    problems: list[ArchiveProblem] = []
    if manifest_sha256 is not None and hashlib.sha256(body).hexdigest() != manifest_sha256:
        problems.append(ArchiveProblem(MANIFEST, "manifest_modified"))
    try:
        listed = {f["name"]: f for f in json.loads(body)["files"]}
    except (ValueError, KeyError, TypeError):
        return ArchiveReport(directory, 0, (ArchiveProblem(MANIFEST, "manifest_modified"),))
    for name, entry in sorted(listed.items()):
        path = directory / name
        if not path.is_file():
            problems.append(ArchiveProblem(name, "missing"))
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            problems.append(ArchiveProblem(name, "modified"))
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()} - {MANIFEST}
    problems.extend(ArchiveProblem(name, "unexpected") for name in sorted(present - set(listed)))
    return ArchiveReport(directory, len(listed), tuple(problems))


def _signature(directory: Path) -> tuple[tuple[str, int, int, int, int], ...]:
    """What a look at the folder (no reading) says of every file in it: name, size, inode, modification
    and change time (the last cannot be set back, but ticks coarsely: the modification time is kept too)."""
    out = []
    for path in sorted(directory.rglob("*")):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path.relative_to(directory)), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


@dataclass(frozen=True)
class _Checked:
    report: ArchiveReport
    at: float  # when its hashing began: its age is counted from there
    finished: float
    signature: tuple[tuple[str, int, int, int, int], ...]


class ArchiveChecks:
    """Checks of sealed archives as a server answers them: one check of a folder at a time, and a
    result given again for a minute after it finished while nothing in the folder changed (size,
    inode, modification and change time of every file). Hashing a meeting's archive (its recordings are gigabytes) on every
    request let any participant keep a disk and a core busy; two archives are hashed at a time at most
    (a clerk may ask for every meeting's). A request that arrives while the folder is being hashed gets
    the last result, with its age, if no file changed since it (no worker thread held waiting); else
    it waits, and takes the result that finishes (however long the hashing took)."""

    def __init__(self, fresh_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.fresh_s, self._clock = fresh_s, clock
        self._locks: dict[str, threading.Lock] = {}
        self._done: dict[tuple[str, str | None], _Checked] = {}
        self._guard = threading.Lock()
        self._hashing = threading.BoundedSemaphore(2)

    def check(self, directory: Path, manifest_sha256: str | None) -> tuple[ArchiveReport, float]:
        """The report and how many seconds ago its hashing began."""
        key = (str(directory), manifest_sha256)
        arrived = self._clock()
        with self._guard:
            lock = self._locks.setdefault(key[0], threading.Lock())
        if not lock.acquire(blocking=False):
            done = self._done.get(key)
            if done is not None and done.signature == _signature(Path(directory)):  # being checked now: the last result meanwhile
                return done.report, self._clock() - done.at
            lock.acquire()  # a folder changed since (or never checked): its answer waits for the hashes
        try:
            signature = _signature(Path(directory))
            done = self._done.get(key)
            now = self._clock()
            if done is not None and done.signature == signature and (now - done.finished < self.fresh_s or done.finished >= arrived):
                return done.report, now - done.at
            with self._hashing:  # a server hashes two archives at a time at most, whoever asks for how many
                report = verify(directory, manifest_sha256)
            with self._guard:
                if key not in self._done and len(self._done) >= 1024:  # a bound, not a policy: the first kept goes
                    self._done.pop(next(iter(self._done)))
                self._done[key] = _Checked(report, now, self._clock(), signature)
            return report, 0.0
        finally:
            lock.release()
