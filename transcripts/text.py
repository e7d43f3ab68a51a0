"""Text for documents and search: NFC normalisation and diacritics folding.

``fold`` maps every character to exactly one character ("Đường" -> "duong"), so a position in
the folded text is the same position in the original: a hit found in the folded text is
highlighted in the original without re-aligning anything.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[ \t\u00a0]+")


def nfc(text: str) -> str:
    """Unicode NFC: decomposed marks (NFD, as some keyboards and PDFs give) become precomposed letters."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":  # a letter of its own in Unicode, not d + a mark
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    return base.lower() if len(base.lower()) == 1 else ch


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one character of ``nfc(text)``."""
    return "".join(_fold_char(ch) for ch in nfc(text))


def clean_line(text: str) -> str:
    """NFC, runs of spaces collapsed, ends trimmed (newlines kept)."""
    return "\n".join(_SPACES.sub(" ", line).strip() for line in nfc(text).splitlines()).strip()
