"""Removes what Whisper writes when nobody says it: the known phrases it learnt from subtitled
videos, repeated-phrase loops (inside one segment and across neighbouring segments), captions of
music and noise, and text over silence or over sound that is not speech."""

from __future__ import annotations

import logging
import re
import unicodedata
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace

from speech.transcript import Segment

log = logging.getLogger(__name__)

# Written without diacritics, lower case: compared against the same normalisation of the text.
KNOWN_PHRASES = (
    "hay subscribe cho kenh",
    "hay dang ky kenh",
    "dang ky kenh",
    "nho like va subscribe",
    "like va subscribe",
    "cam on cac ban da theo doi",
    "cam on cac ban da xem",
    "cam on cac ban da lang nghe",
    "hen gap lai cac ban trong nhung video tiep theo",
    "hen gap lai cac ban trong video tiep theo",
    "ghien mi go",
    "la la school",
    "phu de boi",
    "thanks for watching",
    "please subscribe",
    "subtitles by",
    "amara.org",
)
SILENCE_DB = -50.0  # segments over audio quieter than this are not speech
SENTENCE_WORDS = 4  # a run of this many words or more said twice in a row is a loop (shorter ones need 3 times)
COMPRESSION_LIMIT = 2.4  # Whisper's own limit: text that zips this well is a loop
# Captions Whisper learnt for sound that is not speech: "♪", "[Âm nhạc]", "(vỗ tay)", "[Music]".
_SOUND_TAG = re.compile(r"[♪♫♬🎵🎶]+|[\[(](?:[^\[\]()]{0,40})[\])]")


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), for matching only."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def _key(word: str) -> str:
    return re.sub(r"\W", "", fold(word))


def compression_ratio(text: str) -> float:
    """Bytes of the text over bytes of its zlib compression (Whisper's loop measure)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _strip_phrases(text: str) -> str:
    words = text.split()
    folded = [_key(w) for w in words]
    keep = [True] * len(words)
    for phrase in KNOWN_PHRASES:
        p = [_key(w) for w in phrase.split()]
        for i in range(len(words) - len(p) + 1):
            if folded[i : i + len(p)] == p:
                # the phrase and whatever trails it in the same sentence ("… cho kênh Ghiền Mì Gõ")
                j = i + len(p)
                while j < len(words) and not re.search(r"[.!?]$", words[j - 1]):
                    j += 1
                for k in range(i, j):
                    keep[k] = False
    return " ".join(w for w, k in zip(words, keep, strict=True) if k)


def strip_sound_tags(text: str) -> str:
    """Drops captions of music and noise ("♪", "[Âm nhạc]", "(tiếng vỗ tay)")."""
    return " ".join(_SOUND_TAG.sub(" ", text).split())


# One "word" that is a loop of its own: a piece joined to itself by punctuation, no spaces, six
# times or more ("1,1,1,1,1,1,…", seen over FPT speech). Six: 1.000.000.000.000 (a trillion
# đồng, four groups) is a number.
_GLUED_LOOP = re.compile(r"(?<![\w,.;:/-])(\w+)(?:[,.;:/-]\1){5,}(?![\w])[,.;:/-]?")


def collapse_loops(text: str, min_repeats: int = 3, max_ngram: int = 40, sentence_words: int = SENTENCE_WORDS) -> str:
    """ "a b a b a b a b" -> "a b": a phrase repeated ``min_repeats`` or more times in a row is kept
    once, and so is a run of ``sentence_words`` words or more said twice in a row (a repeated
    sentence); a piece glued to itself by punctuation six times or more ("1,1,1,1,1,1") is kept
    once. Words compare without case, diacritics or punctuation."""
    words = _GLUED_LOOP.sub(r"\1", text).split()
    keys = [_key(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        collapsed = False
        for n in range(1, min(max_ngram, (len(words) - i) // 2) + 1):
            gram = keys[i : i + n]
            if not any(gram):
                continue
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == gram:
                reps += 1
            if reps >= (2 if n >= sentence_words else min_repeats):
                last = i + (reps - 1) * n  # the last copy keeps its closing punctuation
                out.extend(words[last : last + n])
                i += reps * n
                collapsed = True
                break
        if not collapsed:
            out.append(words[i])
            i += 1
    return " ".join(out)


def not_speech(segment: Segment, loudness_db: float | None = None, window_compression: float | None = None) -> bool:
    """Whether the segment is text over silence, noise or music rather than speech: too quiet;
    Whisper's own silence rule (no-speech probability over 0.6 with average log-probability under
    −1); or a loop, its own text or its whole decoding window's (``window_compression``, the
    compression ratio faster-whisper reports) zipping too well, decoded with low confidence or
    over what Whisper deems no speech (over noise, Whisper base writes "bây giờ, bây giờ, …")."""
    if loudness_db is not None and loudness_db < SILENCE_DB:
        return True
    if segment.no_speech_prob > 0.6 and segment.avg_logprob < -1.0:
        return True
    doubtful = segment.avg_logprob < -1.0 or segment.no_speech_prob > 0.5
    zips = max(compression_ratio(segment.text), window_compression or 0.0) > COMPRESSION_LIMIT
    return zips and doubtful


def clean(segment: Segment, loudness_db: float | None = None, window_compression: float | None = None) -> Segment | None:
    """The segment with hallucinated text removed, or None if nothing real is left."""
    if not_speech(segment, loudness_db, window_compression):
        return None
    text = unicodedata.normalize("NFC", " ".join(segment.text.split()))
    text = collapse_loops(_strip_phrases(strip_sound_tags(text)))
    if not re.search(r"\w", text):
        return None
    if text == segment.text:
        return segment
    kept = {_key(w) for w in text.split()}
    words = tuple(w for w in segment.words if _key(w.text) in kept) if segment.words else ()
    return replace(segment, text=text, words=words)


def drop_repeated(
    segments: Iterable[Segment], neighbours: int = 2, min_words: int = SENTENCE_WORDS, within_s: float = 30.0
) -> Iterator[Segment]:
    """The segments less Whisper's loops spread over several segments of one decoding (it gives
    the segments of one window the same average log-probability and no-speech probability), within
    ``within_s`` of each other: a segment of ``min_words`` words or more that repeats, word for
    word, one of the ``neighbours`` kept before it or the end of one; a shorter one the third time
    in a row ("Đồng ý." twice is speech). A sentence said again in another window is kept."""
    recent: deque[tuple[str, float, tuple[float, float]]] = deque(maxlen=neighbours)
    run_key, run = "", 0  # the last segment's words and how many times in a row they came
    for segment in segments:
        keys = [k for k in (_key(w) for w in segment.text.split()) if k]
        key = " ".join(keys)
        decode = (segment.avg_logprob, segment.no_speech_prob)
        near = [text for text, end, same in recent if segment.start - end <= within_s and same == decode]
        run = run + 1 if near and key == run_key else 1
        run_key = key
        if (len(keys) >= min_words and any(text == key or text.endswith(" " + key) for text in near)) or run >= 3:
            log.debug("guard: %r repeats a neighbour", segment.text)
            continue
        recent.append((key, segment.end, decode))
        yield segment
