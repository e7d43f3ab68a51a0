"""Importing members from CSV and XLSX: a preview that names each bad row, then all or nothing."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from meeting_room import auth
from meeting_room.db import tables as t
from meeting_room.errors import ImportFileError, ImportRowsError
from meeting_room.roles import Role
from meeting_room.services import member_import
from tests.conftest import World

HEADER_VI = "Tên đăng nhập,Họ và tên,Chức vụ,Cơ quan,Vai trò"
BODY = "Hội đồng nhân dân tỉnh Thử Nghiệm"  # the test world's body (short name HĐND)


def _csv(lines: list[str], bom: bool = True) -> bytes:
    return ("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode()


def _people(n: int) -> list[str]:
    return [f"daibieu{i:02d},Trần Thị Đại Biểu {i:02d},Đại biểu,{BODY},Thành viên" for i in range(1, n + 1)]


def _count(world: World) -> int:
    with world.store.read() as session:
        return session.scalar(select(func.count()).select_from(t.Member)) or 0


def _problems(world: World, data: bytes) -> list[tuple[int, str | None, str]]:
    return [(p.row, p.column, p.code) for p in member_import.preview(world.store, world.actor("admin"), data).problems]


def test_the_preview_names_each_bad_row_and_stores_nothing(world: World) -> None:
    lines = [HEADER_VI, *_people(50)]
    lines[10] = f",Không Có Tên Đăng Nhập,,{BODY},Thành viên"  # row 11
    lines[20] = lines[5]  # row 21 repeats row 6
    before, events = _count(world), len(world.store.events())
    preview = member_import.preview(world.store, world.actor("admin"), _csv(lines))
    assert [(p.row, p.column, p.code) for p in preview.problems] == [
        (11, "username", "missing_username"),
        (21, "username", "duplicate_in_file"),
    ]
    assert "dòng 6" in preview.problems[1].message and "row 6" in preview.problems[1].message_en
    assert len(preview.rows) == 48 and preview.rows[0].body_name == BODY and preview.rows[0].roles == [Role.MEMBER]
    with pytest.raises(ImportRowsError) as refused:
        member_import.import_members(world.store, world.actor("admin"), _csv(lines))
    first = refused.value.details["problems"][0]
    assert (first["row"], first["column"], first["code"]) == (11, "username", "missing_username")
    assert (first["message"], first["message_en"]) == ("Thiếu tên đăng nhập", "The username is missing")
    assert "dòng 11" in refused.value.message_vi and "row 21" in refused.value.message_en
    assert (_count(world), len(world.store.events())) == (before, events)


@pytest.mark.parametrize(
    ("line", "column", "code"),
    [
        ("member1,Người Đã Có,,,", "username", "already_exists"),
        ("MEMBER1,Người Đã Có,,,", "username", "already_exists"),  # usernames are lower case
        ("a b,Tên Sai,,,", "username", "bad_username"),
        ("moi.nguoi,,,,", "full_name", "missing_full_name"),
        (f"moi.nguoi,Người Mới,,{BODY} khác,", "body", "unknown_body"),
        ("moi.nguoi,Người Mới,,,Vua", "roles", "unknown_role"),
        ('moi.nguoi,=HYPERLINK("http://x"),,,', "full_name", "formula"),
        ("moi.nguoi,+cmd|' /C calc'!A0,,,", "full_name", "formula"),  # what a spreadsheet runs as well as "="
        ("moi.nguoi,Người Mới,-2+3,,", "title", "formula"),
        ("moi.nguoi,-,,,", "full_name", "missing_full_name"),  # a lone "-" is an empty cell, not a formula
        ("moi.nguoi,@SUM(1+1),,,", "full_name", "formula"),
        ("moi.nguoi,Người\u202eMới,,,", "full_name", "bad_value"),
    ],
)
def test_each_reason_names_the_row_and_column(world: World, line: str, column: str, code: str) -> None:
    assert _problems(world, _csv([HEADER_VI, _people(1)[0], line])) == [(3, column, code)]


def test_bad_bytes_are_named_where_they_are(world: World) -> None:
    data = _csv([HEADER_VI, _people(1)[0]]) + "\r\nmoi.nguoi,Lê Tí,,,".encode("cp1252")  # saved as "ANSI" by an old Excel
    assert _problems(world, data) == [(3, "full_name", "bad_encoding")]


def test_headers_in_english_other_delimiters_no_bom_and_nfc(world: World) -> None:
    nfd = unicodedata.normalize("NFD", "Phạm Thị Thủy")
    data = _csv(
        ["Username;Full name;Title;Body;Roles", f"thuy.pt;{nfd};Ủy viên;HĐND;member, Secretary", "tan.nv;Ngô Văn Tân;;;"], bom=False
    )
    preview = member_import.preview(world.store, world.actor("admin"), data)
    assert preview.problems == []
    first, second = preview.rows
    assert first.full_name == "Phạm Thị Thủy" and unicodedata.is_normalized("NFC", first.full_name)
    assert first.roles == [Role.MEMBER, Role.SECRETARY] and first.body_id == world.body_id  # the unique short name
    assert (second.title, second.body_id, second.roles) == (None, None, [Role.MEMBER])
    assert preview.columns == ["username", "full_name", "title", "body", "roles"]


def test_import_creates_all_with_temporary_passwords_in_one_transaction(world: World) -> None:
    before, events = _count(world), len(world.store.events())
    issued = member_import.import_members(world.store, world.actor("admin"), _csv([HEADER_VI, *_people(12)]))
    assert [i.username for i in issued] == [f"daibieu{i:02d}" for i in range(1, 13)]
    assert _count(world) == before + 12
    added = world.store.events()[events:]
    assert [e.type for e in added[:2]] == ["member.created", "member.password_set"] and added[1].data["temporary"] is True
    assert len({i.temporary_password for i in issued}) == 12
    login = auth.login(world.store, "daibieu03", issued[2].temporary_password, hours=1)
    assert login.actor.must_change_password
    with world.store.read() as session:
        assert all(
            c.must_change for c in session.scalars(select(t.Credential).where(t.Credential.member_id.in_([i.member_id for i in issued])))
        )
    with pytest.raises(ImportRowsError):  # the same file again: every row already exists
        member_import.import_members(world.store, world.actor("admin"), _csv([HEADER_VI, *_people(12)]))


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_a_formula_is_refused_and_a_clean_one_imports(world: World) -> None:
    header: list[object] = ["STT", "Tên đăng nhập", "Họ tên", "Chức vụ", "Đơn vị", "Vai trò"]  # a row-number column is ignored
    rows = [[1, "lan.nt", "Nguyễn Thị Lan", "Ủy viên", "HĐND", "Thư ký"], [2, '=LOWER("MINH")', "Lê Minh", None, None, None]]
    assert _problems(world, _xlsx([header, *rows])) == [(3, "username", "formula")]
    rows[1][1] = 20261130  # a number typed as a username reads as its digits
    issued = member_import.import_members(world.store, world.actor("admin"), _xlsx([header, *rows]))
    assert [i.username for i in issued] == ["lan.nt", "20261130"]


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (30 << 20))
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "rỗng"),
        (b"\xef\xbb\xbf\r\n\r\n", "rỗng"),
        (HEADER_VI.encode(), "chỉ có dòng tiêu đề"),
        (b"%PDF-1.7\n\x00\x01binary", "nhị phân"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04 not really a zip", "bị hỏng"),
        (_zip_bomb(), "giải nén ra quá lớn"),
        (_csv(["Họ và tên,Chức vụ", "Nguyễn Văn A,"]), "thiếu cột “Tên đăng nhập”"),
        (_csv([HEADER_VI + ",Mật khẩu", "a.b,Nguyễn Văn A,,,,mk"]), "đừng gửi mật khẩu"),
        (_csv([HEADER_VI, *_people(member_import.MAX_ROWS + 1)]), f"hơn {member_import.MAX_ROWS} thành viên"),
        (b"x" * (member_import.MAX_BYTES + 1), "quá lớn"),
    ],
    ids=["empty", "blank", "header only", "binary", "xls", "bad zip", "zip bomb", "no username column", "passwords", "too many", "huge"],
)
def test_hostile_or_wrong_files_get_a_clear_error_and_nothing_is_stored(world: World, data: bytes, words: str) -> None:
    before = len(world.store.events())
    with pytest.raises(ImportFileError) as refused:
        member_import.import_members(world.store, world.actor("admin"), data)
    assert words in refused.value.message_vi and refused.value.message_en.isascii()
    assert len(world.store.events()) == before


def test_only_an_admin_imports(world: World) -> None:
    from meeting_room.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        member_import.preview(world.store, world.actor("secretary"), _csv([HEADER_VI, *_people(2)]))


def _rezip(data: bytes, sheet: bytes | None = None, compress_type: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The same workbook zipped again: its sheet replaced, its members compressed with ``compress_type``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = sheet if sheet is not None and info.filename == "xl/worksheets/sheet1.xml" else zin.read(info.filename)
            zout.writestr(info.filename, body, compress_type=compress_type)
    return out.getvalue()


def test_an_xlsx_compressed_as_excel_never_does_is_refused_before_unpacking() -> None:
    """bzip2 unpacks a whole block before zipfile checks the declared size: a few KB could take gigabytes."""
    data = _rezip(_xlsx([["username", "full name"], ["hoa.lt", "Lê Thị Hoa"]]), compress_type=zipfile.ZIP_BZIP2)
    with pytest.raises(ImportFileError, match="compressed in a way Excel does not use"):
        member_import.read_cells(data)


def test_a_sheet_that_jumps_to_a_far_row_is_refused_without_reading_every_blank_row() -> None:
    data = _xlsx([["username", "full name"], ["hoa.lt", "Lê Thị Hoa"], ["zzz", "Z"]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    far = sheet.replace(b'r="3"', b'r="1000000"').replace(b'"A3"', b'"A1000000"').replace(b'"B3"', b'"B1000000"')
    assert far != sheet
    with pytest.raises(ImportFileError, match="blank ones included") as refused:
        member_import.read_cells(_rezip(data, far))
    assert refused.value.details["limit"] == member_import.MAX_SHEET_ROWS
    assert len(member_import.read_cells(_rezip(data, sheet))) == 3  # the same file, rows in place: read
