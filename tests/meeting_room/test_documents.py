from __future__ import annotations

import io
from pathlib import Path

import pytest

from meeting_room.documents import DocumentFiles, clean_filename
from meeting_room.errors import InvalidInputError, UploadTooLargeError
from tests.meeting_room.api.test_documents import make_pdf


class _Trickle(io.RawIOBase):
    """An upload of unknown length that never ends on its own."""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
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
