"""The hallucination guard: known phrases, loops inside a segment and across neighbours, captions
of music and noise, silence and sound that is not speech; real text untouched."""

from __future__ import annotations

from typing import Any

from speech.diarization import Diarization, Turn
from speech.guard import clean, collapse_loops, compression_ratio, drop_repeated, fold
from speech.speakers import attribute
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
    # a loop glued by punctuation is one word to a split on spaces (seen over FPT speech, confident)
    assert collapse_loops("Chắc xưa tiền 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,") == "Chắc xưa tiền 1"
    assert collapse_loops("ha-ha-ha-ha-ha-ha-ha") == "ha"
    for number in ("1.000.000.000.000 đồng", "ngày 1/1/2026", "1,1,1,1 lần", "tỷ lệ 0,5,"):  # numbers and dates stay
        assert collapse_loops(number) == number
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


def test_a_sentence_repeated_inside_one_segment_is_kept_once() -> None:
    # the unseen-data case: one segment held the same sentence twice and passed the guard
    twice = "Hôm nay chúng ta họp bàn về dự toán ngân sách. Hôm nay chúng ta họp bàn về dự toán ngân sách."
    kept = clean(_seg(twice))
    assert kept is not None and kept.text == "Hôm nay chúng ta họp bàn về dự toán ngân sách."
    # case, diacritics and punctuation do not hide a repeat; the text around it stays
    kept = clean(_seg("Vâng. Đề nghị thông qua tờ trình, đề nghị thông qua tờ trình. Xin mời."))
    assert kept is not None and kept.text == "Vâng. đề nghị thông qua tờ trình. Xin mời."
    # seen on the shared FPT set: a word looping inside a long line
    fpt = "công an tỉnh cầm trai viện cầm cẩn cẩn cẩn cẩn cẩn cẩn cẩn cẩn cẩn, cho biết 1 người 27 tuổi"
    kept = clean(_seg(fpt))
    assert kept is not None and kept.text == "công an tỉnh cầm trai viện cầm cẩn, cho biết 1 người 27 tuổi"
    # a long loop of a whole sentence, as decoded over a noisy stretch
    loop = " ".join(["Các bạn hãy ủng hộ cho mình nhé."] * 6)
    kept = clean(_seg(loop))
    assert kept is not None and kept.text == "Các bạn hãy ủng hộ cho mình nhé."


def test_a_loop_does_not_come_back_when_a_segment_is_split_between_speakers() -> None:
    # seen in a final pass: the text was collapsed but a line rebuilt from the timed words at a change
    # of speaker came back as "Biểu quyết mạc." five times
    said = "Kính thưa. " + " ".join(["Biểu quyết mạc."] * 5) + " Xin mời."
    words = tuple(Word(i * 0.3, i * 0.3 + 0.3, " " + w, 0.9) for i, w in enumerate(said.split()))
    kept = clean(Segment(0.0, words[-1].end, said, words=words))
    assert kept is not None and kept.text == "Kính thưa. Biểu quyết mạc. Xin mời."
    assert kept.words == words  # their times follow the speech, which a split between speakers needs
    turns = [Turn(0.0, 0.6, "A"), Turn(0.6, 6.0, "B")]
    lines = [(seg.text, who) for seg, who in attribute([kept], Diarization(turns, turns, {}, 6.0))]
    assert lines == [("Kính thưa.", "A"), ("Biểu quyết mạc. Xin mời.", "B")]


def test_short_repeats_are_speech() -> None:
    for said in ("Đồng ý, đồng ý.", "một hai một hai", "vâng vâng", "Có có có ạ"):
        assert clean(_seg(said)) is not None
    assert collapse_loops("Có có có ạ") == "có ạ"  # three times is a loop even when short
    assert collapse_loops("người dân phải ăn cỏ người dân phải ăn cỏ ở afghanistan") == "người dân phải ăn cỏ ở afghanistan"


def test_a_sentence_repeated_by_the_next_segment_is_dropped() -> None:
    def at(start: float, text: str, avg_logprob: float = -0.4) -> Segment:
        return Segment(start, start + 2.0, text, avg_logprob=avg_logprob)  # one window's segments share its scores

    said = [
        at(0.0, "Kính thưa các đại biểu, hôm nay chúng ta biểu quyết dự toán."),
        at(2.5, "Kính thưa các đại biểu hôm nay chúng ta biểu quyết dự toán"),  # the loop of the next window
        at(5.0, "chúng ta biểu quyết dự toán"),  # the end of a neighbour again
        at(7.0, "Đồng ý."),
        at(9.0, "Đồng ý."),  # said again by another member: short, kept
        at(11.0, "Đề nghị các đại biểu biểu quyết."),
        at(13.0, "Đề nghị các đại biểu biểu quyết.", avg_logprob=-0.3),  # another window: said again, kept
        at(200.0, "Kính thưa các đại biểu, hôm nay chúng ta biểu quyết dự toán."),  # minutes later: said again
    ]
    kept = list(drop_repeated(said))
    assert [s.start for s in kept] == [0.0, 7.0, 9.0, 11.0, 13.0, 200.0]
    # seen on the shared FPT set joined into one recording: one window wrote the same line twice
    fpt = [Segment(t, t + 1.5, "Hàng tóc không lợi.", avg_logprob=-1.1, no_speech_prob=0.2) for t in (40.0, 41.5, 43.0)]
    assert [s.start for s in drop_repeated(fpt)] == [40.0]
    # seen there too, batched: one voiced stretch decoded into the same line eight times
    line = "Đó là nền tạng sướng Học Bộ Kỳ thức."
    batch = [Segment(60.0 + i, 61.0 + i, line, avg_logprob=-0.9, no_speech_prob=0.4) for i in range(8)]
    assert [s.start for s in drop_repeated(batch)] == [60.0]
    # over noise without VAD, Whisper base wrote a short line again and again, one segment each
    noise = [Segment(t, t + 2.0, "bây giờ,", avg_logprob=-0.55, no_speech_prob=0.83) for t in range(0, 26, 2)]
    assert [s.start for s in drop_repeated(noise)] == [0, 2]


def test_captions_of_music_and_noise_are_removed() -> None:
    assert clean(_seg("♪ ♪ ♪")) is None
    assert clean(_seg("[Âm nhạc]")) is None
    assert clean(_seg("(Tiếng vỗ tay)")) is None
    kept = clean(_seg("[Music] Xin mời đại biểu phát biểu ♪"))
    assert kept is not None and kept.text == "Xin mời đại biểu phát biểu"


def test_text_over_noise_by_whispers_own_signals() -> None:
    # a loop that zips too well, decoded with low confidence: noise, not speech
    loop = "ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ ờ"
    assert compression_ratio(loop) > 2.4
    assert clean(_seg(loop, avg_logprob=-1.3, no_speech_prob=0.2)) is None
    assert clean(_seg(loop, avg_logprob=-0.3)) is not None  # confident: kept, collapsed
    assert compression_ratio("Kính thưa các đại biểu, hôm nay chúng ta biểu quyết dự toán ngân sách.") < 2.4
    # the window's text zipped well (faster-whisper's compression ratio 3.62 over noise), no-speech 0.83
    assert clean(_seg("bây giờ,", avg_logprob=-0.55, no_speech_prob=0.83), window_compression=3.62) is None
    assert clean(_seg("bây giờ,", avg_logprob=-0.55, no_speech_prob=0.2), window_compression=3.62) is not None
    # no-speech probability high but the words confident: speech (a quiet voice), kept
    assert clean(_seg("Xin chào", no_speech_prob=0.7, avg_logprob=-0.4)) is not None
