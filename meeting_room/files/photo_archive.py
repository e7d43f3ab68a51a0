"""A ZIP of members' face photos, one folder per member (``<member>/<photo>``), read without trust.

The archive is read from its central directory: nothing is extracted to disk, no path from it is
ever joined to a local one, and a photo is read only up to the photo size limit, whatever size
its entry claims. The entries are counted before the directory is parsed (the end record's count
and the directory's own entry headers: the count can understate them), so that a million tiny
entries cost nothing. The layout (folders, photos per folder) is checked from the directory
before any photo is read, and all the photos together inflate to at most ``INFLATE_RATIO`` times
the archive (photos hardly compress: a ZIP bomb of many small entries stops there). One wrapping
folder (``faces/<member>/<photo>``, as a zipped folder comes) is taken off. What a desktop adds
(``__MACOSX/``, ``._*``, ``.DS_Store``, ``Thumbs.db``, ``desktop.ini``) is left out; any other
entry that is not a photo in a member's folder is a problem. Each photo is read once at upload
(its checksum, its compression), so that what the job will find is known before anything is
stored; every problem is listed at once.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from meeting_room.errors import InvalidInputError

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MAX_FOLDERS = 1000
MAX_ENTRIES = 20_000  # 1,000 members x 10 photos, twice over for what a desktop adds
MAX_PROBLEMS_SHOWN = 100  # a listing the page can show; the total is counted
_DESKTOP_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"  # each entry's header in the central directory
# JPEG, PNG and WEBP do not deflate; a BMP photo to about a third. Many highly compressed entries
# are a bomb: at 15 MB each from a few KB, a 200 MB archive inflated for ten minutes (a probe).
INFLATE_RATIO = 10
INFLATE_SLACK = 16 << 20


@dataclass(frozen=True)
class Folder:
    """A member's folder: its name (a username or a member id) and its photos' entry names."""

    name: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    where: str  # the folder or entry at fault
    message_vi: str
    message_en: str
    folder: str | None = None  # the member's folder it concerns (None: the archive as a whole), which an import may skip
    # (member id, full name) of a member whose consent is not recorded: recording it clears the problem
    needs_consent: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, object]:
        consent = None if self.needs_consent is None else {"member_id": self.needs_consent[0], "full_name": self.needs_consent[1]}
        texts = {"where": self.where, "message_vi": self.message_vi, "message_en": self.message_en}
        return {**texts, "folder": self.folder, "needs_consent": consent}


def refuse(problems: list[Problem], *, shown: int = 5, importable: int | None = None) -> InvalidInputError:
    """One error naming the first problems and carrying the first hundred: nothing was stored.
    ``importable``: how many members' folders have no problem (what leaving the others out would import)."""
    head = problems[:shown]
    more_vi = f" (và {len(problems) - shown} lỗi khác)" if len(problems) > shown else ""
    more_en = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return InvalidInputError(
        f"Tệp ảnh có {len(problems)} lỗi, chưa nhập gì: " + "; ".join(f"{p.where}: {p.message_vi}" for p in head) + more_vi,
        f"The photo archive has {len(problems)} problem(s); nothing was imported: "
        + "; ".join(f"{p.where}: {p.message_en}" for p in head)
        + more_en,
        accepted="a ZIP with one folder per member (username or id), 1-10 JPEG/PNG/WEBP/BMP photos in each",
        problems=[p.as_dict() for p in problems[:MAX_PROBLEMS_SHOWN]],
        problems_total=len(problems),
        **({} if importable is None else {"importable": importable}),
    )


def _not_zip() -> InvalidInputError:
    return InvalidInputError(
        "Tệp không phải ZIP (hãy nén thư mục ảnh thành .zip)",
        "The file is not a ZIP archive (zip the photo folder)",
        accepted="a ZIP archive",
    )


def _entries_declared(data: bytes) -> int:
    """The entry count of the archive's end record (65,535 stands for "more": ZIP64), or the entry
    headers in the directory it points to when there are more of those (``zipfile`` parses them
    all, whatever the end record says)."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or at + 22 > len(data):
        raise _not_zip()
    count, size, offset = struct.unpack_from("<HII", data, at + 10)
    if size == 0xFFFFFFFF or offset == 0xFFFFFFFF or offset + size > at:  # ZIP64, or not where it says: all before the end record
        offset, size = 0, at
    return max(int(count), data.count(_CENTRAL, offset, offset + size))


@contextmanager
def open_archive(data: bytes) -> Iterator[zipfile.ZipFile]:
    """The archive, its directory parsed only when it declares at most ``MAX_ENTRIES`` entries."""
    if not data:
        raise InvalidInputError("Tệp rỗng", "The file is empty", accepted="a ZIP archive")
    declared = _entries_declared(data)
    if declared > MAX_ENTRIES:
        raise InvalidInputError(
            f"Tệp ZIP có quá nhiều mục ({declared if declared < 0xFFFF else 'hơn 65.535'}); tối đa {MAX_ENTRIES}",
            f"The ZIP has too many entries ({declared if declared < 0xFFFF else 'over 65,535'}); at most {MAX_ENTRIES}",
            accepted=f"at most {MAX_ENTRIES} entries",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _not_zip() from None
    with archive:
        if len(archive.infolist()) > MAX_ENTRIES:  # the end record understated it
            raise InvalidInputError(
                f"Tệp ZIP có quá nhiều mục; tối đa {MAX_ENTRIES}", f"The ZIP has too many entries; at most {MAX_ENTRIES}"
            )
        yield archive


def _desktop_file(parts: list[str]) -> bool:
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1].lower() in _DESKTOP_FILES


def read_folders(data: bytes, *, max_photo_bytes: int, max_photos: int) -> list[Folder]:
    """The members' folders of the archive, by name; raises one ``InvalidInputError`` listing every problem."""
    folders, problems = check_folders(data, max_photo_bytes=max_photo_bytes, max_photos=max_photos)
    if problems:
        raise refuse(problems)
    return folders


def check_folders(data: bytes, *, max_photo_bytes: int, max_photos: int) -> tuple[list[Folder], list[Problem]]:
    """The members' folders with their acceptable photos, and the problems; raises only for a file
    that is no ZIP, has too many entries or inflates like a bomb."""
    problems: list[Problem] = []
    with open_archive(data) as archive:
        kept: list[tuple[zipfile.ZipInfo, list[str]]] = []
        seen: set[str] = set()
        folders_named = False  # a folder or a file other than what a desktop adds
        for info in archive.infolist():
            if info.is_dir():
                folders_named = folders_named or not info.filename.startswith("__MACOSX")
                continue
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p]
            if info.filename.startswith("/") or not parts or any(p in ("..", ".") or ":" in p for p in parts):
                problems.append(Problem(info.filename, "đường dẫn không hợp lệ", "not an acceptable path"))
            elif _desktop_file(parts):
                continue
            elif info.filename in seen:
                problems.append(Problem(info.filename, "tên tệp lặp lại trong ZIP", "the same name twice in the ZIP"))
            elif any(p.startswith(".") for p in parts):
                problems.append(Problem(info.filename, "tệp hoặc thư mục ẩn", "a hidden file or folder"))
            else:
                kept.append((info, parts))
            seen.add(info.filename)
        if kept and all(len(p) == 3 for _, p in kept) and len({p[0] for _, p in kept}) == 1:
            kept = [(info, parts[1:]) for info, parts in kept]  # the zipped folder itself wraps the members' folders
        folders: dict[str, list[zipfile.ZipInfo]] = {}
        for info, parts in kept:  # first the layout, from the directory alone
            problem = _entry_problem(info, parts, max_photo_bytes)
            if problem is not None:
                problems.append(Problem(info.filename, *problem, folder=parts[0] if len(parts) > 1 else None))
            else:
                folders.setdefault(parts[0], []).append(info)
        crowded = {name for name, entries in folders.items() if len(entries) > max_photos}
        for name in sorted(crowded):
            n = len(folders[name])
            problems.append(Problem(name, f"{n} ảnh; tối đa {max_photos} ảnh mỗi người",
                                    f"{n} photos; at most {max_photos} per member", folder=name))  # fmt: skip
        if len(folders) > MAX_FOLDERS:  # the archive is refused as a whole: nothing read
            problems.append(
                Problem("ZIP", f"{len(folders)} thư mục; tối đa {MAX_FOLDERS}", f"{len(folders)} folders; at most {MAX_FOLDERS}")
            )
        else:  # then each photo, once: its checksum and its compression
            budget = INFLATE_RATIO * len(data) + INFLATE_SLACK
            for name, entries in folders.items():
                if name in crowded:
                    continue
                good = []
                for info in entries:
                    # charged before it is read: zipfile inflates an entry up to the size its directory gives
                    # (no further), and a damaged one is known only at its end, once inflated
                    if info.file_size > budget:
                        raise _bomb()
                    budget -= info.file_size
                    try:
                        _read(archive, info.filename, max_photo_bytes)
                    except InvalidInputError as exc:
                        problems.append(Problem(info.filename, exc.message_vi, exc.message_en, folder=name))
                        continue
                    good.append(info)
                folders[name] = good
    if not kept and not problems and not folders_named:  # nothing at all, or only what a desktop adds
        problems.append(Problem("ZIP", "tệp ZIP trống; cần mỗi thành viên một thư mục (tên đăng nhập) chứa ảnh",
                                "the ZIP is empty; it needs one folder per member (their username) with photos"))  # fmt: skip
    elif not folders and not problems:
        problems.append(Problem("ZIP", "không có ảnh nào trong thư mục của thành viên", "no photo in a member's folder"))
    named = {name: tuple(sorted(info.filename for info in entries)) for name, entries in folders.items()}
    return [Folder(name, entries) for name, entries in sorted(named.items()) if entries or name in crowded], problems


def _bomb() -> InvalidInputError:
    return InvalidInputError(
        f"Ảnh trong tệp ZIP giải nén ra quá {INFLATE_RATIO} lần dung lượng tệp: không phải ảnh chụp",
        f"The photos in the ZIP inflate to over {INFLATE_RATIO} times the archive: not photographs",
        accepted="a ZIP of JPEG/PNG/WEBP/BMP photos",
    )


def _entry_problem(info: zipfile.ZipInfo, parts: list[str], max_photo_bytes: int) -> tuple[str, str] | None:
    if len(parts) != 2:
        return ("ảnh phải nằm ngay trong thư mục của thành viên (<tên đăng nhập>/<ảnh>)",
                "a photo must sit directly in its member's folder (<username>/<photo>)")  # fmt: skip
    if info.flag_bits & 0x1:
        return ("tệp được đặt mật khẩu", "the entry is encrypted")
    if not parts[1].lower().endswith(PHOTO_SUFFIXES):
        return ("không phải ảnh JPEG, PNG, WEBP hoặc BMP", "not a JPEG, PNG, WEBP or BMP photo")
    if info.compress_type not in _COMPRESSIONS:
        return ("nén theo cách không hỗ trợ (hãy nén ZIP thường)", "compressed in a way not accepted (use plain ZIP deflate)")
    if info.file_size > max_photo_bytes:
        return _too_big(max_photo_bytes)
    return None


def _too_big(max_photo_bytes: int) -> tuple[str, str]:
    mb = max_photo_bytes // (1 << 20)
    return (f"ảnh lớn hơn {mb} MB", f"the photo is over {mb} MB")


def _read(archive: zipfile.ZipFile, entry: str, max_photo_bytes: int) -> bytes:
    """An entry's bytes, inflated no further than one byte past the limit, its checksum checked by
    ``zipfile`` when it is read whole."""
    try:
        with archive.open(entry) as stream:
            content = stream.read(max_photo_bytes + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, RuntimeError, ValueError):
        raise InvalidInputError("tệp hỏng, không đọc được", "damaged, cannot be read", entry=entry) from None
    if len(content) > max_photo_bytes:
        raise InvalidInputError(*_too_big(max_photo_bytes), entry=entry)
    return content


def read_photos(archive: zipfile.ZipFile, entries: tuple[str, ...], *, max_photo_bytes: int) -> list[tuple[str, bytes]]:
    """The photos of one folder as (file name, bytes), each read up to the size limit."""
    out = []
    for entry in entries:
        try:
            content = _read(archive, entry, max_photo_bytes)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{entry}: {exc.message_vi}", f"{entry}: {exc.message_en}", entry=entry) from None
        out.append((entry.rsplit("/", 1)[-1], content))
    return out
