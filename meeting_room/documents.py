"""Document files: checked to be real PDFs, stored once by content hash under the data directory."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from meeting_room.errors import NotFoundError, UploadRejectedError, UploadTooLargeError
from meeting_room.text import check_text

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    pages: int
    path: Path


def clean_filename(name: str | None, default: str = "tai-lieu.pdf") -> str:
    """A safe display name: no directories, NFC, at most 200 characters; ``InvalidInputError`` (field
    ``filename``) if it carries control characters or bidi overrides."""
    base = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    return check_text(base, "filename").strip()[-200:] or default


class DocumentFiles:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.pdf"

    def open(self, sha256: str) -> Path:
        path = self.path_of(sha256)
        if not path.is_file():
            raise NotFoundError("Tệp tài liệu không còn trên máy chủ", "The document file is missing on the server", sha256=sha256)
        return path

    def too_large(self, size: int) -> UploadTooLargeError:
        limit_mb = self.max_bytes // (1 << 20)
        return UploadTooLargeError(
            f"Tệp quá lớn ({size / (1 << 20):.1f} MB); giới hạn là {limit_mb} MB",
            f"The file is too large ({size / (1 << 20):.1f} MB); the limit is {limit_mb} MB",
            size=size,
            limit=self.max_bytes,
        )

    def ingest(self, source: BinaryIO) -> StoredFile:
        """Copy an upload in while hashing it; keep it only if it is a readable PDF within the limit."""
        with hashed_upload(self.root, source, self.max_bytes, self.too_large) as (tmp, sha, size):
            pages = _check_pdf(tmp, size)
            final = self.path_of(sha)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)  # same content, same name: a re-upload is harmless
            return StoredFile(sha, size, pages, final)


@contextmanager
def hashed_upload(root: Path, source: BinaryIO, max_bytes: int, too_large: Callable[[int], Exception]) -> Iterator[tuple[Path, str, int]]:
    """Copy ``source`` into a temporary file under ``root`` (fsynced) while hashing it; stop at
    ``max_bytes``. Yields (path, sha256, size); the caller checks it and moves it into place, and
    whatever is left at the end is removed."""
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(size)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        yield tmp, digest.hexdigest(), size
    finally:
        tmp.unlink(missing_ok=True)


def _check_pdf(path: Path, size: int) -> int:
    if size == 0:
        raise UploadRejectedError("Tệp rỗng (0 byte)", "The file is empty (0 bytes)", accepted="application/pdf")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise UploadRejectedError(
            "Tệp không phải PDF; chỉ nhận tài liệu PDF",
            "The file is not a PDF; only PDF documents are accepted",
            accepted="application/pdf",
        )
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadRejectedError(
                "PDF được đặt mật khẩu; hãy tải lên bản không có mật khẩu",
                "The PDF is password-protected; upload an unprotected copy",
            )
        pages = len(reader.pages)
    except UploadRejectedError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        log.info("rejected unreadable PDF: %s", exc)
        raise UploadRejectedError(
            "Tệp PDF bị hỏng hoặc không đọc được", "The PDF is damaged or unreadable", reason=str(exc)[:200]
        ) from None
    if pages == 0:
        raise UploadRejectedError("PDF không có trang nào", "The PDF has no pages")
    return pages
