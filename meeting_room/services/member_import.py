"""Importing many members from a CSV or XLSX file: a preview that names each bad row, then all or nothing.

Passwords are not taken from the file: each imported member gets a random temporary password, shown
once to the administrator (the page offers them as a CSV to download) and to be changed at the first
log-in. A spreadsheet of passwords travels by e-mail and USB stick and stays on disks; passwords
typed by hand for fifty people are weak and alike, and would be refused by the policy one by one.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, ImportFileError, ImportRowsError
from meeting_room.roles import Role
from meeting_room.services.members import store_password
from meeting_room.store import Store
from meeting_room.text import Name, Username
from transcripts.text import fold, nfc

MAX_BYTES = 512 * 1024  # 500 rows of CSV take about 50 KB
MAX_ROWS = 500  # a council or a department at once; a bigger list goes in parts
MAX_UNZIPPED = 20 << 20  # an XLSX is a zip: refuse one that would unpack to more (a zip bomb)
# Rows of a sheet read at most, blank ones included: openpyxl makes an empty row for every row number
# a sheet skips, so one cell at row 1,000,000 would cost seconds of CPU for nothing.
MAX_SHEET_ROWS = 4 * MAX_ROWS
MAX_COLUMNS = 30


# Header names people write, folded (lower case, no diacritics, single spaces), for each column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "user name", "login", "ten dang nhap", "tai khoan"),
    "full_name": ("full name", "full_name", "name", "ho va ten", "ho ten", "ten"),
    "title": ("title", "position", "chuc vu", "chuc danh"),
    "body": ("body", "organisation", "organization", "co quan", "don vi"),
    "roles": ("roles", "role", "vai tro"),
}
_PASSWORD_HEADERS = ("password", "mat khau")
_COLUMN_VI = {"username": "Tên đăng nhập", "full_name": "Họ và tên", "title": "Chức vụ", "body": "Cơ quan", "roles": "Vai trò"}
_ROLE_NAMES = {
    **{fold(r.value): r for r in Role},
    **{fold(r.label_vi): r for r in Role},
    "quan tri": Role.ADMIN,
    "dai bieu": Role.MEMBER,  # councils call their members "đại biểu"
}
_ROLE_SEPARATORS = re.compile(r"[,;/|]")


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str | None  # one of COLUMNS, or None for the whole row
    code: str
    message: str
    message_en: str


@dataclass(frozen=True)
class ImportRow:
    row: int
    username: str
    full_name: str
    title: str | None
    body_id: str | None
    body_name: str | None
    roles: list[Role]


@dataclass(frozen=True)
class Preview:
    rows: list[ImportRow]
    problems: list[RowProblem]
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Issued:
    member_id: str
    username: str
    full_name: str
    temporary_password: str


# --- reading the file --------------------------------------------------------------------------


# What a spreadsheet reads as a formula when the value is opened again (OWASP "CSV injection"): no name,
# title, username, body or role starts so, and a cell that does is refused rather than stored.
FORMULA_START = ("=", "+", "-", "@")
EMPTY_MARKS = frozenset({"-", "–", "—"})


@dataclass(frozen=True)
class _Cell:
    text: str
    formula: bool = False


def _file_error(vi: str, en: str, **details: object) -> ImportFileError:
    return ImportFileError(vi, en, **details)


def read_cells(data: bytes) -> list[tuple[int, list[_Cell]]]:
    """The file's rows (numbered as a spreadsheet numbers them) as cells, whatever the format; at
    most ``MAX_ROWS`` rows after the header, or ``ImportFileError``."""
    if len(data) > MAX_BYTES:
        raise _file_error(
            f"Tệp quá lớn ({len(data) // 1024} KB; tối đa {MAX_BYTES // 1024} KB)",
            f"The file is too large ({len(data) // 1024} KB; at most {MAX_BYTES // 1024} KB)",
            size=len(data),
            limit=MAX_BYTES,
        )
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise _file_error("Tệp rỗng: không có dòng nào", "The file is empty: it has no rows")
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            "Tệp Excel 97-2003 (.xls) không được hỗ trợ; hãy lưu thành .xlsx hoặc CSV UTF-8",
            "Excel 97-2003 files (.xls) are not supported; save as .xlsx or CSV UTF-8",
        )
    elif b"\x00" in data[:4096]:
        raise _file_error("Tệp không phải CSV hay XLSX (có vẻ là tệp nhị phân)", "The file is neither CSV nor XLSX (it looks binary)")
    else:
        rows = _csv_rows(data)
    out: list[tuple[int, list[_Cell]]] = []
    for number, cells in rows:
        if not any(c.text for c in cells):
            continue
        if len(out) > MAX_ROWS:  # the header and MAX_ROWS members are in
            raise _file_error(
                f"Tệp có hơn {MAX_ROWS} thành viên; hãy chia thành nhiều tệp",
                f"The file has more than {MAX_ROWS} members; split it into several files",
                limit=MAX_ROWS,
            )
        out.append((number, cells))
    if not out:
        raise _file_error("Tệp rỗng: không có dòng nào", "The file is empty: it has no rows")
    return out


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[_Cell]]]:
    # Bad bytes become U+FFFD so that the row and column can be named; they are refused there.
    text = nfc(data.decode("utf-8-sig", errors="replace"))
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel in Vietnamese writes ";" where others write ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, [_Cell(c.strip()) for c in cells[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise _file_error(
            f"Không đọc được tệp CSV ở dòng {reader.line_num}: {exc}", f"The CSV file cannot be read at line {reader.line_num}: {exc}"
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[_Cell]]]:
    from openpyxl import load_workbook  # only an import needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            # Excel and LibreOffice deflate; bzip2 or LZMA members unpack a whole block before the
            # declared size is checked, so a tiny file could still take gigabytes.
            odd = {info.compress_type for info in archive.infolist()} - {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    except zipfile.BadZipFile:
        raise _file_error("Tệp XLSX bị hỏng (không mở được)", "The XLSX file is damaged (it cannot be opened)") from None
    if odd:
        raise _file_error(
            "Tệp XLSX nén theo cách Excel không dùng; hãy lưu lại bằng Excel hoặc LibreOffice dạng .xlsx",
            "The XLSX file is compressed in a way Excel does not use; save it again as .xlsx from Excel or LibreOffice",
        )
    if unpacked > MAX_UNZIPPED:
        raise _file_error(
            f"Tệp XLSX giải nén ra quá lớn ({unpacked >> 20} MB; tối đa {MAX_UNZIPPED >> 20} MB)",
            f"The XLSX file unpacks to too much ({unpacked >> 20} MB; at most {MAX_UNZIPPED >> 20} MB)",
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds on a file that is a zip but not a workbook
        raise _file_error(
            "Tệp không phải bảng tính XLSX hợp lệ; hãy lưu lại bằng Excel hoặc LibreOffice dạng .xlsx",
            "The file is not a valid XLSX workbook; save it again as .xlsx from Excel or LibreOffice",
        ) from None
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_SHEET_ROWS + 1), start=1):
            if number > MAX_SHEET_ROWS:
                raise _file_error(
                    f"Trang tính dài hơn {MAX_SHEET_ROWS} dòng (kể cả dòng trống); hãy xóa các dòng thừa hoặc chia thành nhiều tệp",
                    f"The sheet runs past {MAX_SHEET_ROWS} rows (blank ones included); delete the extra rows or split the file",
                    limit=MAX_SHEET_ROWS,
                )
            cells = []
            for cell in row:
                value = getattr(cell, "value", None)
                formula = getattr(cell, "data_type", None) == "f"
                text = "" if value is None else str(int(value) if isinstance(value, float) and value.is_integer() else value)
                cells.append(_Cell(nfc(text).strip(), formula))
            yield number, cells
    finally:
        book.close()


# --- checking the rows -------------------------------------------------------------------------

_Problem = Callable[[str | None, str, str, str], None]  # column, code, Vietnamese, English
_NAME: TypeAdapter[str] = TypeAdapter(Name)
_USERNAME: TypeAdapter[str] = TypeAdapter(Username)


def _header_key(text: str) -> str | None:
    folded = " ".join(fold(text).replace("_", " ").split())
    for key, names in COLUMNS.items():
        if folded in names:
            return key
    if folded in _PASSWORD_HEADERS:
        raise _file_error(
            "Tệp có cột mật khẩu: đừng gửi mật khẩu trong tệp; máy chủ tạo mật khẩu tạm thời cho từng người, "
            "phải đổi khi đăng nhập lần đầu",
            "The file has a password column: do not send passwords in a file; the server makes each person a temporary "
            "password, to be changed at the first log-in",
        )
    return None


def _columns(header: list[_Cell]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell.text)
        if key is not None and key not in found:
            found[key] = index
    missing = [k for k in ("username", "full_name") if k not in found]
    if missing:
        names_vi = ", ".join(f"“{_COLUMN_VI[k]}”" for k in missing)
        raise _file_error(
            f"Dòng đầu tiên phải là tiêu đề cột; thiếu cột {names_vi}. Các cột: Tên đăng nhập, Họ và tên, Chức vụ, Cơ quan, Vai trò",
            f"The first row must name the columns; missing {', '.join(missing)}. Columns: username, full name, title, body, roles",
            missing=missing,
        )
    return found


class _Bodies:
    """Bodies by full name or, when only one has it, short name (folded)."""

    def __init__(self, session: Session) -> None:
        self.by_name: dict[str, t.Body] = {}
        short: dict[str, list[t.Body]] = {}
        for body in session.scalars(select(t.Body)):
            self.by_name[fold(body.name)] = body
            short.setdefault(fold(body.short_name), []).append(body)
        self.by_short = short

    def find(self, text: str) -> t.Body | list[t.Body] | None:
        key = fold(text)
        if key in self.by_name:
            return self.by_name[key]
        matches = self.by_short.get(key, [])
        return matches[0] if len(matches) == 1 else (matches or None)


def check_rows(session: Session, cells: list[tuple[int, list[_Cell]]]) -> Preview:
    """Every row turned into a member to create, or the reasons it cannot be (all of them)."""
    (_, header), body_rows = cells[0], cells[1:]
    columns = _columns(header)
    if not body_rows:
        raise _file_error("Tệp chỉ có dòng tiêu đề, không có thành viên nào", "The file has only the header row, no members")
    check = _RowCheck(columns, _Bodies(session), set(session.scalars(select(t.Member.username).where(t.Member.username.is_not(None)))))
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    for number, row in body_rows:
        member, found = check.row(number, row)
        problems += found
        if member is not None:
            rows.append(member)
    return Preview(rows=rows, problems=problems, columns=list(columns))


class _RowCheck:
    """The rules for one row, with what earlier rows and the store hold (usernames seen and taken)."""

    def __init__(self, columns: dict[str, int], bodies: _Bodies, taken: set[str]) -> None:
        self.columns, self.bodies, self.taken = columns, bodies, taken
        self.seen: dict[str, int] = {}

    def row(self, number: int, cells: list[_Cell]) -> tuple[ImportRow | None, list[RowProblem]]:
        problems: list[RowProblem] = []

        def problem(column: str | None, code: str, vi: str, en: str) -> None:
            problems.append(RowProblem(number, column, code, vi, en))

        values = {key: self._value(key, cells, problem) for key in COLUMNS}
        unreadable = {p.column for p in problems}  # a formula or bad bytes: said once, not "missing" too
        username = self._username(number, values["username"], problem) if "username" not in unreadable else None
        for key in ("full_name", "title"):
            if values[key]:
                try:
                    _NAME.validate_python(values[key])
                except ValidationError as exc:
                    reason = exc.errors()[0]["msg"]
                    problem(key, "bad_value", f"Giá trị không hợp lệ: {reason}", f"Invalid value: {reason}")
            elif key == "full_name" and key not in unreadable:
                problem(key, "missing_full_name", "Thiếu họ và tên", "The full name is missing")
        body = self._body(values["body"], problem) if values["body"] else None
        roles = self._roles(values["roles"], problem)
        if problems or username is None:
            return None, problems
        title = values["title"]
        member = ImportRow(
            row=number,
            username=username,
            full_name=_NAME.validate_python(values["full_name"]),
            title=_NAME.validate_python(title) if title else None,
            body_id=body.id if body else None,
            body_name=body.name if body else None,
            roles=roles or [Role.MEMBER],
        )
        return member, []

    def _value(self, key: str, cells: list[_Cell], problem: _Problem) -> str:
        index = self.columns.get(key)
        cell = cells[index] if index is not None and index < len(cells) else _Cell("")
        if cell.text in EMPTY_MARKS:  # "-" in an empty cell, as many offices write it: nothing, not a formula
            return ""
        if cell.formula or cell.text.startswith(FORMULA_START):
            problem(
                key, "formula",
                "Ô chứa công thức (bắt đầu bằng = + - hoặc @); hãy ghi giá trị",
                "The cell holds a formula (it starts with = + - or @); write the value",
            )  # fmt: skip
            return ""
        if "\ufffd" in cell.text:
            vi, en = "Ký tự không đọc được: hãy lưu tệp dạng CSV UTF-8", "Unreadable characters: save the file as CSV UTF-8"
            problem(key, "bad_encoding", vi, en)
            return ""
        return cell.text

    def _username(self, number: int, text: str, problem: _Problem) -> str | None:
        if not text:
            problem("username", "missing_username", "Thiếu tên đăng nhập", "The username is missing")
            return None
        try:
            username = _USERNAME.validate_python(text)
        except ValidationError:
            problem(
                "username", "bad_username",
                f"Tên đăng nhập “{text}” không hợp lệ: 3–64 ký tự a-z, 0-9, dấu chấm, gạch ngang, gạch dưới",
                f"The username {text!r} is not valid: 3-64 characters a-z, 0-9, dot, dash, underscore",
            )  # fmt: skip
            return None
        if username in self.seen:
            first = self.seen[username]
            problem(
                "username", "duplicate_in_file",
                f"Tên đăng nhập “{username}” trùng với dòng {first}", f"The username {username!r} repeats row {first}",
            )  # fmt: skip
        elif username in self.taken:
            problem(
                "username", "already_exists",
                f"Tên đăng nhập “{username}” đã có trong hệ thống", f"The username {username!r} already exists",
            )  # fmt: skip
        self.seen.setdefault(username, number)
        return username

    def _body(self, text: str, problem: _Problem) -> t.Body | None:
        found = self.bodies.find(text)
        if isinstance(found, list):
            names = "; ".join(b.name for b in found)
            problem(
                "body", "ambiguous_body",
                f"Tên viết tắt “{text}” của nhiều cơ quan ({names}); hãy ghi tên đầy đủ",
                f"The short name {text!r} belongs to several bodies ({names}); write the full name",
            )  # fmt: skip
            return None
        if found is None:
            problem("body", "unknown_body", f"Không có cơ quan “{text}”", f"There is no body {text!r}")
        return found

    @staticmethod
    def _roles(text: str, problem: _Problem) -> list[Role]:
        roles: list[Role] = []
        for part in filter(None, (p.strip() for p in _ROLE_SEPARATORS.split(text))):
            role = _ROLE_NAMES.get(" ".join(fold(part).split()))
            if role is None:
                problem(
                    "roles", "unknown_role",
                    f"Không có vai trò “{part}”; các vai trò: {', '.join(r.label_vi for r in Role)}",
                    f"There is no role {part!r}; roles: {', '.join(r.value for r in Role)}",
                )  # fmt: skip
            elif role not in roles:
                roles.append(role)
        return roles


# --- the service -------------------------------------------------------------------------------


def preview(store: Store, actor: Actor, data: bytes) -> Preview:
    """What importing ``data`` would create, and every row that stops it. Stores nothing."""
    require_roles(actor, action_vi="nhập danh sách thành viên", action_en="import members")
    cells = read_cells(data)
    with store.read() as session:
        return check_rows(session, cells)


def import_members(store: Store, actor: Actor, data: bytes) -> list[Issued]:
    """Create every member of the file in one transaction, or none (``ImportRowsError`` naming each
    bad row). Returns each new member's temporary password: the only time anyone sees it."""
    checked = preview(store, actor, data)
    if checked.problems:
        raise _rows_error(checked.problems)
    passwords, hashes = zip(*(auth.new_temporary_password() for _ in checked.rows), strict=True)
    ids = [str(uuid.uuid4()) for _ in checked.rows]

    def decide(session: Session) -> list[ev.EventPayload]:
        again = check_rows(session, read_cells(data))  # inside the write: what changed since the check counts
        if again.problems:
            raise ConflictError(
                "Danh sách thành viên đã thay đổi trong lúc nhập; hãy xem trước lại",
                "The members changed during the import; preview the file again",
                problems=[asdict(p) for p in again.problems],
            )
        out: list[ev.EventPayload] = []
        for member_id, row, password_hash in zip(ids, checked.rows, hashes, strict=True):
            store_password(session, member_id, password_hash, temporary=True)  # same transaction as the events
            out.append(
                ev.MemberCreated(
                    member_id=member_id,
                    body_id=row.body_id,
                    full_name=row.full_name,
                    title=row.title,
                    roles=row.roles,
                    username=row.username,
                )
            )
            out.append(ev.MemberPasswordSet(member_id=member_id, temporary=True))
        return out

    store.append_all(decide, actor_id=actor.member_id)
    return [Issued(i, r.username, r.full_name, p) for i, r, p in zip(ids, checked.rows, passwords, strict=True)]


def _rows_error(problems: list[RowProblem]) -> ImportRowsError:
    listed = "; ".join(f"dòng {p.row}: {p.message}" for p in problems[:5])
    listed_en = "; ".join(f"row {p.row}: {p.message_en}" for p in problems[:5])
    more = len(problems) - 5
    return ImportRowsError(
        f"Chưa nhập gì: {len(problems)} lỗi — {listed}{f' (và {more} lỗi khác)' if more > 0 else ''}",
        f"Nothing was imported: {len(problems)} problems — {listed_en}{f' (and {more} more)' if more > 0 else ''}",
        problems=[asdict(p) for p in problems],
    )
