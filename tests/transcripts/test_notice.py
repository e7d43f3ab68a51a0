"""The first draft of a conclusion: the minutes' "kết luận" part, else the polls, else nothing."""

from __future__ import annotations

from transcripts.minutes import PollTable
from transcripts.notice import conclusion_of

PASSED = PollTable("Thông qua đề án", "quá 1/2", "", (), "Thông qua", "Thông qua: tán thành 5/7 tổng số thành viên (71,43%)")


def test_the_conclusion_is_what_the_minutes_say_after_ket_luan() -> None:
    text = "- Ông A (00:01:00): đề nghị làm rõ.\nChủ tọa kết luận: thống nhất thông qua.\nGiao Sở Tài chính thực hiện."
    assert conclusion_of(text, [PASSED]) == "Thống nhất thông qua.\nGiao Sở Tài chính thực hiện."
    assert conclusion_of("Thảo luận.\n- KẾT LUẬN. đồng ý", []) == "Đồng ý"


def test_without_a_conclusion_the_polls_are_drafted_and_otherwise_nothing() -> None:
    said = "Ông B đề nghị chưa kết luận vội vấn đề này."  # "kết luận" within a sentence is no conclusion
    assert conclusion_of(said, [PASSED]) == "Biểu quyết “Thông qua đề án”: Thông qua: tán thành 5/7 tổng số thành viên (71,43%)"
    assert conclusion_of(said, []) == ""
    assert conclusion_of("Kết luận:", []) == ""  # a heading with nothing under it
