"""The minutes' content: a vote's result said once, and no section signed with nothing written in it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.transcripts.conftest import FAILED, sample_minutes
from transcripts.errors import MinutesError
from transcripts.minutes import UNWRITTEN, Section, draft_text


def test_a_vote_result_says_its_outcome_once() -> None:
    assert FAILED.result() == "Không thông qua: tán thành 10/25 tổng số thành viên (40,00%); cần quá 1/2 (ít nhất 13)."
    tie = dataclasses.replace(FAILED, outcome="Số phiếu ngang nhau", reason="Ngang phiếu (10) giữa A, B: cần biểu quyết lại.")
    assert tie.result() == "Số phiếu ngang nhau. Ngang phiếu (10) giữa A, B: cần biểu quyết lại."
    # an outcome that is only the start of the reason's first word is not the outcome said again
    close = dataclasses.replace(FAILED, outcome="Thông qua", reason="Thông qua được 2 phương án.")
    assert close.result() == "Thông qua. Thông qua được 2 phương án."
    assert dataclasses.replace(FAILED, reason="").result() == "Không thông qua."



def test_a_section_with_nothing_said_or_decided_drafts_empty() -> None:
    assert draft_text([]) == ""
    assert Section("i1", "Khai mạc", "").empty and Section("i1", "Khai mạc", f"  {UNWRITTEN}\n").empty
    assert not Section("i1", "Khai mạc", "", (FAILED,)).empty  # its vote is printed
    assert Section("i1", "Khai mạc", f"Chủ tọa khai mạc.\n\n{UNWRITTEN}").paragraphs() == ["Chủ tọa khai mạc.", UNWRITTEN]


def test_an_unwritten_agenda_item_blocks_signing_and_names_itself() -> None:
    sample = sample_minutes(0)
    sample.check_signable()
    unwritten = dataclasses.replace(
        sample, sections=(*sample.sections, Section("i2", "Các vấn đề phát sinh", ""), Section("i3", "Kết luận", UNWRITTEN))
    )
    with pytest.raises(MinutesError) as err:
        unwritten.check_signable()
    assert err.value.message_vi.startswith("Chưa thể ký biên bản: mục “Các vấn đề phát sinh”, “Kết luận” chưa có nội dung")
    assert "'Các vấn đề phát sinh', 'Kết luận'" in err.value.message_en
    assert err.value.details["sections"] == ["Các vấn đề phát sinh", "Kết luận"]


def test_an_empty_optional_section_is_left_out() -> None:
    sample = sample_minutes(0)
    other = Section("general", "Ý kiến phát biểu khác", "", optional=True)
    with_other = dataclasses.replace(sample, sections=(*sample.sections, other))
    assert with_other.printed_sections() == list(sample.sections)
    with_other.check_signable()
    said = dataclasses.replace(other, text="Đại biểu đề nghị bổ sung kinh phí.")
    assert dataclasses.replace(sample, sections=(*sample.sections, said)).printed_sections()[-1] == said
