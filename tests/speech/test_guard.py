"""The hallucination guard: known phrases, loops, silence; real text untouched."""

from __future__ import annotations

from typing import Any

from speech.guard import clean, collapse_loops, fold
from speech.transcript import Segment, Word


def _seg(text: str, **kw: Any) -> Segment:
    return Segment(0.0, 2.0, text, **kw)


def test_real_speech_is_left_alone() -> None:
    s = _seg("Kính thưa các đại biểu, hôm nay chúng ta biểu quyết dự toán ngân sách năm 2027.")
    assert clean(s) is s


def test_known_youtube_phrases_are_removed() -> None:
    assert clean(_seg("Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn")) is None
    assert clean(_seg("Cảm ơn các bạn đã theo dõi.")) is None
    kept = clean(_seg("Đề nghị thông qua tờ trình. Cảm ơn các bạn đã theo dõi."))
    assert kept is not None and kept.text == "Đề nghị thông qua tờ trình."


def test_repeated_phrase_loops_are_collapsed() -> None:
    assert collapse_loops("xin cảm ơn xin cảm ơn xin cảm ơn xin cảm ơn") == "xin cảm ơn"
    assert collapse_loops("một hai một hai") == "một hai một hai"  # twice is speech, not a loop
    words = tuple(Word(i * 0.1, i * 0.1 + 0.1, w, 0.9) for i, w in enumerate("vâng vâng vâng vâng đúng".split()))
    s = clean(_seg("vâng vâng vâng vâng đúng", words=words))
    assert s is not None and s.text == "vâng đúng"


def test_text_over_silence_and_whispers_silence_rule() -> None:
    assert clean(_seg("Xin chào"), loudness_db=-70.0) is None
    assert clean(_seg("Xin chào", no_speech_prob=0.9, avg_logprob=-1.5)) is None
    assert clean(_seg("Xin chào", no_speech_prob=0.9, avg_logprob=-0.2)) is not None


def test_text_is_nfc_and_fold_drops_diacritics() -> None:
    decomposed = "Bie\u0302\u0309u quye\u0302\u0301t"
    s = clean(_seg(decomposed))
    assert s is not None and s.text == "Biểu quyết"
    assert fold("Đại biểu TRƯỜNG") == "dai bieu truong"
