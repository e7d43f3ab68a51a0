"""Files stored once by their SHA-256 under a folder of the data directory: documents, recordings and
the minutes' PDFs.

A file's place is ``<root>/<first two hex digits>/<sha256><suffix>`` and never changes (the events
name files by hash; backups and ``meeting-room check`` find them there). A file is written beside
its place under a temporary name, hashed as it is written, fsynced, checked, then renamed into
place and the folder fsynced: a crash leaves a whole file or none, and the same content arriving
twice (or at the same moment) is one file. Temporary names start with ``.upload-`` or ``.part-``,
which backups skip.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from meeting_room.errors import NotFoundError, UploadRejectedError, UploadTooLargeError

_CHUNK = 1 << 20
T = TypeVar("T")
TEMPORARY_PREFIXES = (".upload-", ".part-")  # files still being written; backups and checks skip them


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks (recordings run to gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Kept:
    sha256: str
    size: int
    path: Path
    new: bool = True  # not on disk before (the same content uploaded again is the same file)
    placement: int = 0  # which placement of these bytes this was (``FileStore.discard``)


@dataclass(frozen=True)
class Noun:
    """What the store holds, as its error messages name it: ``vi`` starts a sentence."""

    vi: str
    en: str


class FileStore:
    """``max_bytes``: the largest file ``add`` takes (0 for a store only written with ``put``);
    ``accepted``: what an upload may be, named in refusals."""

    _placing = threading.Lock()  # a copy put in place, or one discarded: one at a time, in every store
    # each file's latest placement (the last 10,000 files placed): a refused upload discards its file only
    # while no upload of the same bytes came since, whose record may not be written yet. Not the inode:
    # the file system gives a freed inode number to the next file (an attacker's probe)
    _placements: OrderedDict[str, int] = OrderedDict()
    _serial = itertools.count(1)

    def __init__(self, root: Path, max_bytes: int, *, noun: Noun, suffix: str = "", accepted: str = "") -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.noun = noun
        self.suffix = suffix
        self.accepted = accepted

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{self.suffix}"

    def open(self, sha256: str) -> Path:
        """The file's path; ``NotFoundError`` if it is not on disk."""
        path = self.path_of(sha256)
        if not path.is_file():
            raise self._missing(sha256)
        return path

    def read(self, sha256: str) -> bytes:
        """The whole file, checked against its name; ``NotFoundError`` if it is gone or was changed."""
        try:
            data = self.path_of(sha256).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(sha256) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise NotFoundError(
                f"{self.noun.vi} trên máy chủ đã bị thay đổi", f"The stored {self.noun.en} was modified on disk", sha256=sha256
            )
        return data

    def put(self, data: bytes) -> str:
        """Keep bytes made on this server (no limit, no check); returns their SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        write_once(self.path_of(sha), data)
        return sha

    def add(self, source: BinaryIO, check: Callable[[Path], T]) -> tuple[Kept, T]:
        """Copy an upload in while hashing it, refusing it once it passes ``max_bytes`` or if it is
        empty; ``check(path)`` reads the copy (and raises to refuse it) before it is kept. Nothing
        of a refused upload stays on disk."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._copy(source) as (tmp, sha, size):
            if size == 0:
                raise UploadRejectedError("Tệp rỗng (0 byte)", "The file is empty (0 bytes)", accepted=self.accepted)
            found = check(tmp)
            final = self.path_of(sha)
            final.parent.mkdir(exist_ok=True)
            with self._placing:
                new = not final.exists()
                os.replace(tmp, final)  # same content, same name: a second copy changes nothing
                placement = next(self._serial)
                self._placements[sha] = placement
                self._placements.move_to_end(sha)
                if len(self._placements) > 10_000:
                    self._placements.popitem(last=False)  # long recorded or refused: a discard now keeps the file
            _fsync_dir(final.parent)
            return Kept(sha, size, final, new, placement), found

    def discard(self, sha256: str, placement: int) -> None:
        """Remove a file no record names (``Kept.placement``, then refused): the caller has checked
        that none does. Not if the same bytes were uploaded again since: that upload's record may not
        be written yet, and would name a file that is gone (an attacker's probe)."""
        path = self.path_of(sha256)
        with self._placing:
            if self._placements.get(sha256) != placement:
                return
            del self._placements[sha256]
            path.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    def too_large(self, size: int) -> UploadTooLargeError:
        limit_mb = self.max_bytes // (1 << 20)
        return UploadTooLargeError(
            f"{self.noun.vi} quá lớn (hơn {size / (1 << 20):.1f} MB); giới hạn là {limit_mb} MB",
            f"The {self.noun.en} is too large (over {size / (1 << 20):.1f} MB); the limit is {limit_mb} MB",
            size=size,
            limit=self.max_bytes,
        )

    @contextmanager
    def _copy(self, source: BinaryIO) -> Iterator[tuple[Path, str, int]]:
        """A fsynced temporary copy of ``source`` under the root with its SHA-256 and size; removed at
        the end unless it was moved into place."""
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=self.root, prefix=TEMPORARY_PREFIXES[0])
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self.too_large(size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            yield tmp, digest.hexdigest(), size
        finally:
            tmp.unlink(missing_ok=True)

    def _missing(self, sha256: str) -> NotFoundError:
        return NotFoundError(f"{self.noun.vi} không còn trên máy chủ", f"The {self.noun.en} is missing on the server", sha256=sha256)


def write_once(path: Path, data: bytes) -> None:
    """Write atomically (temporary file, fsync, rename, fsync of the folder); a file already there is
    left alone."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIXES[1])
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
