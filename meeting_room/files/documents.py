"""Document files: checked to be real PDFs, stored once by content hash under the data directory."""

from __future__ import annotations

import logging
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pypdf import PdfReader
from pypdf.errors import DependencyError, LimitReachedError, PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from meeting_room.errors import UploadRejectedError
from meeting_room.files.file_store import FileStore, Noun
from meeting_room.text import check_text

log = logging.getLogger(__name__)


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


class DocumentFiles(FileStore):
    """Meeting documents: PDFs only, ``<sha256>.pdf``."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        super().__init__(root, max_bytes, noun=Noun("Tệp tài liệu", "document file"), suffix=".pdf", accepted="application/pdf")

    def ingest(self, source: BinaryIO) -> StoredFile:
        """Copy an upload in while hashing it; keep it only if it is a readable PDF within the limit."""
        kept, pages = self.add(source, _check_pdf)
        return StoredFile(kept.sha256, kept.size, pages, kept.path)


def _check_pdf(path: Path) -> int:
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
        _check_objects(reader)
        pages = _count_pages(reader)
    except UploadRejectedError:
        raise
    except (PdfReadError, LimitReachedError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        log.info("rejected unreadable PDF: %s", exc)
        raise UploadRejectedError(
            "Tệp PDF bị hỏng hoặc không đọc được", "The PDF is damaged or unreadable", reason=str(exc)[:200]
        ) from None
    if pages == 0:
        raise UploadRejectedError("PDF không có trang nào", "The PDF has no pages")
    return pages


# Limits on what a document may make the server (and the members' viewers) do.
MAX_OBJECTS = 500_000
MAX_DECODED_BYTES = 256 << 20  # all streams together, decompressed
MAX_PAGE_TREE_DEPTH = 64  # real files nest a few levels; a deep tree only exhausts readers' stacks
MAX_PAGES = 10_000
MAX_DIRECT_DEPTH = 32  # dictionaries and arrays inside one object: real files nest a handful
MAX_DIRECT_ITEMS = 20_000_000  # entries of all dictionaries and arrays together
# What runs code, opens other files or carries them: a meeting's papers need none of it (web links
# stay: laws and reports are cited by address).
_ACTIVE = {"/JavaScript": "JavaScript", "/Launch": "Launch", "/ImportData": "ImportData", "/SubmitForm": "SubmitForm", "/GoToE": "GoToE",
           "/GoToR": "GoToR", "/RichMediaExecute": "RichMedia"}  # fmt: skip
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/XFA": "XFA", "/EmbeddedFiles": "EmbeddedFiles", "/EF": "EmbeddedFiles"}
_ACTIVE_TYPES = {"/EmbeddedFile": "EmbeddedFiles", "/FileAttachment": "FileAttachment", "/RichMedia": "RichMedia"}


def _active_content(kind: str) -> UploadRejectedError:
    return UploadRejectedError(
        f"PDF chứa mã, tệp đính kèm hoặc hành động tự chạy ({kind}); hãy in lại thành PDF thường rồi tải lên",
        f"The PDF contains code, an attached file or an action that runs by itself ({kind}); print it to a plain PDF and upload that",
        reason=kind,
    )


def _refuse_active(item: DictionaryObject) -> None:
    for key, kind in _ACTIVE_KEYS.items():
        if key in item:
            raise _active_content(kind)
    for key in ("/Type", "/Subtype"):
        if str(item.get(key)) in _ACTIVE_TYPES:
            raise _active_content(_ACTIVE_TYPES[str(item.get(key))])
    if str(item.get("/S")) in _ACTIVE:
        raise _active_content(_ACTIVE[str(item.get("/S"))])


def _check_objects(reader: PdfReader) -> None:
    """Every object once, those of the cross-reference table and every one reachable from the trailer
    (a viewer also finds an object the table leaves out): nothing active, streams within the
    decompression budget."""
    pending = {n for table in reader.xref.values() for n in table} | set(reader.xref_objStm)
    seen: set[int] = set()
    decoded = direct = 0
    obj: object = reader.trailer  # first: its references join the pending ones
    while True:
        if len(seen) + len(pending) > MAX_OBJECTS:
            raise UploadRejectedError(
                f"PDF có quá nhiều đối tượng (tối đa {MAX_OBJECTS})", f"The PDF has too many objects (at most {MAX_OBJECTS})"
            )
        todo: list[tuple[object, int]] = [(obj, 0)]
        while todo:  # the object's own (direct) contents; a reference is queued, to be read once
            item, depth = todo.pop()
            if isinstance(item, IndirectObject):
                if item.idnum not in seen:
                    pending.add(item.idnum)
                continue
            if not isinstance(item, DictionaryObject | ArrayObject):
                continue
            # deeper than any real file nests: refused, never skipped (an action chained 40 deep hid
            # JavaScript from a check that stopped looking at 32: an attacker's probe)
            if depth >= MAX_DIRECT_DEPTH:
                raise UploadRejectedError(
                    f"PDF lồng các đối tượng quá sâu (quá {MAX_DIRECT_DEPTH} mức)",
                    f"The PDF nests its objects too deep (over {MAX_DIRECT_DEPTH} levels)",
                )
            direct += len(item)
            if direct > MAX_DIRECT_ITEMS:
                raise UploadRejectedError(
                    f"PDF có quá nhiều phần tử (tối đa {MAX_DIRECT_ITEMS})", f"The PDF has too many elements (at most {MAX_DIRECT_ITEMS})"
                )
            if isinstance(item, DictionaryObject):
                _refuse_active(item)
                todo.extend((v, depth + 1) for v in item.values())
            else:
                todo.extend((v, depth + 1) for v in item)
        if isinstance(obj, StreamObject):
            decoded += _decoded_size(obj)
            if decoded > MAX_DECODED_BYTES:
                raise UploadRejectedError(
                    f"PDF giải nén quá lớn (hơn {MAX_DECODED_BYTES >> 20} MB)",
                    f"The PDF decompresses to too much (over {MAX_DECODED_BYTES >> 20} MB)",
                    limit=MAX_DECODED_BYTES,
                )
        if not pending:
            return
        number = pending.pop()
        seen.add(number)
        obj = reader.get_object(number)


def _decoded_size(stream: StreamObject) -> int:
    try:
        return len(stream.get_data())
    except (DependencyError, NotImplementedError):
        return 0  # a filter this server does not decode (JBIG2 without its tool): the viewer will


def _count_pages(reader: PdfReader) -> int:
    """Leaves of the page tree, walked without recursion, within depth and count limits."""
    catalog: Any = reader.trailer["/Root"].get_object()  # a dictionary; pypdf types it as any object
    root = catalog["/Pages"].get_object()
    pages, seen = 0, set()
    todo = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > MAX_PAGE_TREE_DEPTH:
            raise UploadRejectedError(
                f"Cây trang của PDF lồng quá sâu (hơn {MAX_PAGE_TREE_DEPTH} mức)",
                f"The PDF's page tree is nested too deeply (over {MAX_PAGE_TREE_DEPTH} levels)",
                limit=MAX_PAGE_TREE_DEPTH,
            )
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            for kid in node.get("/Kids", []):
                key = getattr(kid, "idnum", None)
                if key is not None and key in seen:
                    raise UploadRejectedError("Cây trang của PDF có vòng lặp", "The PDF's page tree loops back on itself")
                seen.add(key)
                todo.append((kid.get_object(), depth + 1))
        else:
            pages += 1
            if pages > MAX_PAGES:
                raise UploadRejectedError(
                    f"PDF có quá nhiều trang (tối đa {MAX_PAGES})", f"The PDF has too many pages (at most {MAX_PAGES})", limit=MAX_PAGES
                )
    return pages
