from __future__ import annotations

import io
from pathlib import Path

import pytest

from meeting_room.errors import InvalidInputError, UploadRejectedError, UploadTooLargeError
from meeting_room.files.documents import DocumentFiles, clean_filename
from tests.meeting_room.api.test_documents import make_pdf


class _Trickle(io.RawIOBase):
    """An upload of unknown length that never ends on its own."""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        b[: len(b)] = b"%" * len(b)
        return len(b)


def test_oversize_is_stopped_while_streaming_and_leaves_no_file(tmp_path: Path) -> None:
    files = DocumentFiles(tmp_path, max_bytes=3 << 20)
    with pytest.raises(UploadTooLargeError):
        files.ingest(io.BufferedReader(_Trickle()))
    assert list(tmp_path.iterdir()) == []


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    files = DocumentFiles(tmp_path, max_bytes=1 << 20)
    pdf = make_pdf(2)
    a, b = files.ingest(io.BytesIO(pdf)), files.ingest(io.BytesIO(pdf))
    assert a == b and a.pages == 2 and a.path.read_bytes() == pdf
    assert len(list(tmp_path.rglob("*.pdf"))) == 1


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a/b/c.pdf", "c.pdf"),
        ("C:\\Users\\x\\Tờ trình.pdf", "Tờ trình.pdf"),
        ("", "tai-lieu.pdf"),
        ("To\u031b\u0300 tri\u0300nh.pdf", "Tờ trình.pdf"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


@pytest.mark.parametrize("raw", ["bad\x00name.pdf", "to\x1btrinh.pdf", "hoa-don\u202efdp.exe", "c1\x85.pdf", "two\nlines.pdf"])
def test_clean_filename_refuses_control_and_bidi_characters(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        clean_filename(raw)
    assert caught.value.details["field"] == "filename" and caught.value.message_vi and caught.value.message_en


def _raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (object n is objects[n-1]), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _deep_page_tree(levels: int) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for n in range(2, levels + 2):  # each /Pages node has one kid, the next node
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1))
    objects.append(b"<< /Type /Page /MediaBox [0 0 612 792] >>")
    return _raw_pdf(objects)


def _with_action(action: bytes) -> bytes:
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            action,
        ]
    )


def _refused(files: DocumentFiles, pdf: bytes) -> UploadRejectedError:
    with pytest.raises(UploadRejectedError) as caught:
        files.ingest(io.BytesIO(pdf))
    assert caught.value.message_vi and caught.value.message_en
    return caught.value


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>", "JavaScript"),
        (b"<< /S /Launch /F (calc.exe) >>", "Launch"),
        (b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (x) >> >>", "JavaScript"),  # nested in a chain
    ],
)
def test_pdfs_with_scripts_or_launch_actions_are_refused_and_not_stored(tmp_path: Path, action: bytes, kind: str) -> None:
    files = DocumentFiles(tmp_path, max_bytes=1 << 20)
    assert _refused(files, _with_action(action)).details["reason"] == kind
    assert list(tmp_path.rglob("*.pdf")) == []
    assert files.ingest(io.BytesIO(_with_action(b"<< /S /GoTo /D [3 0 R /Fit] >>"))).pages == 1  # a plain link is fine


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>", "GoToR"),  # opens another file
        (b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /Rendition /JS (x) >> >>", "JavaScript"),
    ],
)
def test_actions_that_open_other_files_are_refused(tmp_path: Path, action: bytes, kind: str) -> None:
    assert _refused(DocumentFiles(tmp_path, max_bytes=1 << 20), _with_action(action)).details["reason"] == kind
    web_link = b"<< /S /URI /URI (https://thuvienphapluat.vn/) >>"  # laws are cited by address: kept
    assert DocumentFiles(tmp_path, max_bytes=1 << 20).ingest(io.BytesIO(_with_action(web_link))).pages == 1


def test_a_script_hidden_deeper_than_the_check_looks_is_refused(tmp_path: Path) -> None:
    """40 actions chained by /Next, the script in the last, and a script inside 40 nested arrays: both
    passed when the check stopped looking at 32 levels (attacker probe); nesting that deep is refused."""
    chain = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    for _ in range(40):
        chain = b"<< /S /Named /N /NextPage /Next " + chain + b" >>"
    arrays = b"[" * 40 + b"<< /S /JavaScript /JS (x) >>" + b"]" * 40
    files = DocumentFiles(tmp_path, max_bytes=1 << 20)
    for action in (chain, b"<< /S /GoTo /D [3 0 R /Fit] /Extra " + arrays + b" >>"):
        refused = _refused(files, _with_action(action))
        assert refused.message_en.startswith("The PDF nests its objects too deep"), refused.message_en
    shallow = b"<< /S /Named /N /NextPage /Next " * 5 + b"<< /S /GoTo /D [3 0 R /Fit] >>" + b" >>" * 5
    assert files.ingest(io.BytesIO(_with_action(shallow))).pages == 1  # a short chain of harmless actions is fine
    assert list(tmp_path.rglob("*.pdf")) != []


def test_a_script_left_out_of_the_cross_reference_table_is_found(tmp_path: Path) -> None:
    """The opening action points at an object the table does not list: a viewer (and pypdf) finds it by
    reading the file, so the check follows every reference from the trailer too (attacker probe)."""
    pdf = _with_action(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>")
    start = pdf.index(b"xref\n")
    table = pdf[start:].replace(b"0 5\n", b"0 4\n", 1)  # 4 entries listed: object 4, the script, is left out
    lines = table.split(b"\n")
    unlisted = b"\n".join(lines[:6] + lines[7:]).replace(b"/Size 5", b"/Size 4")
    assert _refused(DocumentFiles(tmp_path, max_bytes=1 << 20), pdf[:start] + unlisted).details["reason"] == "JavaScript"


def test_xfa_forms_and_attached_files_are_refused(tmp_path: Path) -> None:
    files = DocumentFiles(tmp_path, max_bytes=1 << 20)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    xfa = _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 4 0 R >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            b"<< /Length 44 >>\nstream\n<xdp:xdp><script>app.alert(1)</script></xdp>\nendstream",
        ]
    )
    attached = _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(evil.exe) 4 0 R] >> >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            b"<< /Type /Filespec /F (evil.exe) /EF << /F 5 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
        ]
    )
    assert _refused(files, xfa).details["reason"] == "XFA"
    assert _refused(files, attached).details["reason"] == "EmbeddedFiles"
    assert list(tmp_path.rglob("*.pdf")) == []


def test_a_script_in_the_document_names_tree_is_found(tmp_path: Path) -> None:
    pdf = _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            b"<< /Names [(a) 5 0 R] >>",
            b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
        ]
    )
    _refused(DocumentFiles(tmp_path, max_bytes=1 << 20), pdf)


def test_a_deep_page_tree_is_refused_not_a_crash(tmp_path: Path) -> None:
    files = DocumentFiles(tmp_path, max_bytes=4 << 20)
    assert "page tree" in _refused(files, _deep_page_tree(3000)).message_en
    assert files.ingest(io.BytesIO(_deep_page_tree(5))).pages == 1


def test_a_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    from meeting_room.files import documents

    monkeypatch.setattr(documents, "MAX_DECODED_BYTES", 1 << 20)
    data = zlib.compress(b"\0" * (2 << 20), 9)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    pdf = _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            stream,
        ]
    )
    assert "decompresses" in _refused(DocumentFiles(tmp_path, max_bytes=1 << 20), pdf).message_en
