"""A ZIP of members' face photos, one folder per member (``<member>/<photo>``), read without trust.

The archive is read from its central directory: nothing is extracted to disk, no path from it is
ever joined to a local one, and a photo is read only up to the photo size limit, whatever size
its entry claims (a ZIP bomb stops there). One wrapping folder (``faces/<member>/<photo>``, as a
zipped folder comes) is taken off. Entries a desktop adds (``__MACOSX/``, ``.DS_Store``,
``Thumbs.db``, ``desktop.ini``) are left out; any other entry that is not a photo in a member's
folder is a problem, and every problem is listed before anything is stored.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from meeting_room.errors import InvalidInputError

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MAX_FOLDERS = 1000
_DESKTOP_FILES = {"thumbs.db", "desktop.ini"}


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

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "message_vi": self.message_vi, "message_en": self.message_en}


def refuse(problems: list[Problem], *, shown: int = 5) -> InvalidInputError:
    """One error naming the first problems and carrying them all: nothing was stored."""
    head = problems[:shown]
    more_vi = f" (và {len(problems) - shown} lỗi khác)" if len(problems) > shown else ""
    more_en = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return InvalidInputError(
        f"Tệp ảnh có {len(problems)} lỗi, chưa nhập gì: " + "; ".join(f"{p.where}: {p.message_vi}" for p in head) + more_vi,
        f"The photo archive has {len(problems)} problem(s); nothing was imported: "
        + "; ".join(f"{p.where}: {p.message_en}" for p in head)
        + more_en,
        accepted="a ZIP with one folder per member (username or id), 1-10 JPEG/PNG/WEBP/BMP photos in each",
        problems=[p.as_dict() for p in problems],
    )


def _open(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise InvalidInputError("Tệp rỗng", "The file is empty", accepted="a ZIP archive")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInputError(
            "Tệp không phải ZIP (hãy nén thư mục ảnh thành .zip)",
            "The file is not a ZIP archive (zip the photo folder)",
            accepted="a ZIP archive",
        ) from None


def _skipped(parts: list[str]) -> bool:
    return parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts) or parts[-1].lower() in _DESKTOP_FILES


def read_folders(data: bytes, *, max_photo_bytes: int, max_photos: int) -> list[Folder]:
    """The members' folders of the archive, by name; raises one ``InvalidInputError`` listing every problem."""
    folders, problems = check_folders(data, max_photo_bytes=max_photo_bytes, max_photos=max_photos)
    if problems:
        raise refuse(problems)
    return folders


def check_folders(data: bytes, *, max_photo_bytes: int, max_photos: int) -> tuple[list[Folder], list[Problem]]:
    """The members' folders with their acceptable photos, and the problems; raises only for a file that is no ZIP."""
    problems: list[Problem] = []
    kept: list[tuple[zipfile.ZipInfo, list[str]]] = []
    with _open(data) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p]
            if info.filename.startswith("/") or any(p in ("..", ".") or ":" in p for p in parts):
                problems.append(Problem(info.filename, "đường dẫn không hợp lệ", "not an acceptable path"))
                continue
            if not parts or _skipped(parts):
                continue
            kept.append((info, parts))
    if len(kept) > 0 and all(len(p) == 3 for _, p in kept) and len({p[0] for _, p in kept}) == 1:
        kept = [(info, parts[1:]) for info, parts in kept]  # the zipped folder itself wraps the members' folders
    folders: dict[str, list[str]] = {}
    for info, parts in kept:
        if len(parts) != 2:
            problems.append(
                Problem(info.filename, "ảnh phải nằm ngay trong thư mục của thành viên (<tên đăng nhập>/<ảnh>)",
                        "a photo must sit directly in its member's folder (<username>/<photo>)")
            )  # fmt: skip
        elif info.flag_bits & 0x1:
            problems.append(Problem(info.filename, "tệp được đặt mật khẩu", "the entry is encrypted"))
        elif not parts[1].lower().endswith(PHOTO_SUFFIXES):
            problems.append(Problem(info.filename, "không phải ảnh JPEG, PNG, WEBP hoặc BMP", "not a JPEG, PNG, WEBP or BMP photo"))
        elif info.file_size > max_photo_bytes:
            mb = max_photo_bytes // (1 << 20)
            problems.append(Problem(info.filename, f"ảnh lớn hơn {mb} MB", f"the photo is over {mb} MB"))
        else:
            folders.setdefault(parts[0], []).append(info.filename)
    for name, entries in folders.items():
        if len(entries) > max_photos:
            problems.append(Problem(name, f"{len(entries)} ảnh; tối đa {max_photos} ảnh mỗi người",
                                    f"{len(entries)} photos; at most {max_photos} per member"))  # fmt: skip
    if len(folders) > MAX_FOLDERS:
        problems.append(Problem("ZIP", f"{len(folders)} thư mục; tối đa {MAX_FOLDERS}", f"{len(folders)} folders; at most {MAX_FOLDERS}"))
    if not folders and not problems:
        problems.append(Problem("ZIP", "không có ảnh nào trong thư mục của thành viên", "no photo in a member's folder"))
    return [Folder(name, tuple(sorted(entries))) for name, entries in sorted(folders.items())], problems


def read_photos(data: bytes, entries: tuple[str, ...], *, max_photo_bytes: int) -> list[tuple[str, bytes]]:
    """The photos of one folder as (file name, bytes), each read up to the size limit."""
    out = []
    with _open(data) as archive:
        for entry in entries:
            try:
                with archive.open(entry) as stream:
                    content = stream.read(max_photo_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, RuntimeError) as exc:
                raise InvalidInputError(
                    f"Không đọc được ảnh {entry} trong tệp ZIP", f"The photo {entry} cannot be read from the ZIP: {exc}", entry=entry
                ) from None
            if len(content) > max_photo_bytes:
                raise InvalidInputError(f"Ảnh {entry} lớn hơn giới hạn", f"The photo {entry} is over the limit", entry=entry)
            out.append((entry.rsplit("/", 1)[-1], content))
    return out
