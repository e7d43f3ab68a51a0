"""Documents: what a document is called when its uploader gives no title."""

from __future__ import annotations

import pytest

from meeting_room.services.documents import title_of_filename


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Báo cáo.pdf", "Báo cáo"),
        ("02_To-trinh_du-toan.PDF", "02 To trinh du toan"),
        ("du-thao-nghi-quyet-2026-11-30.pdf", "du thao nghi quyet 2026-11-30"),
        ("Tờ trình số 12 - bản cuối.pdf", "Tờ trình số 12 - bản cuối"),  # a name with spaces keeps its dashes
        ("Phu_luc__1-2.pdf", "Phu luc 1-2"),
        ("___.pdf", "___.pdf"),  # nothing but separators: the name as it is
    ],
)
def test_a_documents_default_title_is_its_file_name_as_words(name: str, title: str) -> None:
    assert title_of_filename(name) == title
