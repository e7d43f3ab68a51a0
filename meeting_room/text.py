"""Text value types: every user-entered string is stripped and normalised to Unicode NFC, and
refused when it carries control characters or bidirectional overrides.

NFD input (common from macOS and some Vietnamese keyboards) would otherwise compare unequal and
render with misplaced marks in PDFs. Control characters (C0, DEL, C1) break the Word and PDF
exports and hide text; bidi overrides make a name or file name read differently from what it is
("invoice\u202eFDP.exe"). Tab and newline are allowed in multi-line fields only. This is the one rule:
the event payloads and route schemas use these types, and ``check_text`` serves the rest (file names).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from meeting_room.errors import InvalidInputError
from transcripts.text import fold

# C0 controls, DEL and C1 controls; the bidi embeddings, overrides and isolates (U+202A-E, U+2066-9);
# the noncharacters (U+FDD0-FDEF and the last two of every plane), which XML (the Word export) refuses.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
# Lone surrogates (U+D800-DFFF) too: JSON's "\\ud800" gives one, which no UTF-8 store or file can hold (a 500).
_FORBIDDEN = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff" + _NONCHARACTERS
# In one line also the direction marks (U+200E-F, U+061C), which reorder how a name reads, the line and
# paragraph separators (U+2028-9), which break it, and the invisible zero-width space and BOM (U+200B,
# U+FEFF), which make two names that read the same differ.
_SINGLE_LINE = re.compile(f"[{_FORBIDDEN}\u200b\u200e\u200f\u061c\u2028\u2029\ufeff]")
_ANY_TEXT = re.compile(f"[{_FORBIDDEN}]")


def _bad_character(value: str, multiline: bool) -> tuple[int, str] | None:
    forbidden = _ANY_TEXT if multiline else _SINGLE_LINE
    for i, ch in enumerate(value):
        if forbidden.match(ch) and not (multiline and ch in "\t\n\r"):
            return i, f"U+{ord(ch):04X}"
    return None


def _explain(position: int, code: str, multiline: bool) -> tuple[str, str]:
    allowed_vi = " (chỉ cho phép tab và xuống dòng)" if multiline else ""
    allowed_en = " (only tab and newline are allowed)" if multiline else ""
    return (
        f"chứa ký tự điều khiển, ký tự đảo chiều hoặc ký tự không hợp lệ {code} ở vị trí {position + 1}{allowed_vi}",
        f"contains the control, bidi or invalid character {code} at position {position + 1}{allowed_en}",
    )


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or ``InvalidInputError`` naming ``field`` and the character."""
    bad = _bad_character(value, multiline)
    if bad is not None:
        vi, en = _explain(*bad, multiline)
        raise InvalidInputError(f"“{field}” {vi}", f"{field!r} {en}", field=field, character=bad[1], position=bad[0] + 1)
    return value


def _validator(multiline: bool) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        if replaying(info):
            return value
        bad = _bad_character(value, multiline)
        if bad is not None:
            vi, en = _explain(*bad, multiline)
            raise PydanticCustomError("control_character", f"{vi} / {en}", {"character": bad[1], "position": bad[0] + 1})
        return value

    return AfterValidator(check)


def replaying(info: ValidationInfo) -> bool:
    """Whether a stored event is being read back (``events.parse_payload``): what was accepted once is
    replayed as it was, so that a rule made stricter later never stops a rebuild or an upgrade."""
    return isinstance(info.context, dict) and bool(info.context.get("stored"))


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def matches_words(query: str, *texts: str | None) -> bool:
    """Whether every word of ``query`` is in one of ``texts``, regardless of case and diacritics
    (``fold``: "nguyen van" finds "Nguyễn Văn An"; "Đ" is "d"). An empty query matches everything."""
    haystack = " ".join(fold(t) for t in texts if t)
    return all(word in haystack for word in fold(query).split())


# The same rule in the OpenAPI description (clients and the fuzzer see it; the validator above enforces it).
_ONE_LINE_SCHEMA = Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"})
_LINES_SCHEMA = Field(
    json_schema_extra={"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"}
)
_ONE_LINE = _validator(multiline=False)
_LINES = _validator(multiline=True)

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(nfc), _ONE_LINE, _ONE_LINE_SCHEMA
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(nfc), _ONE_LINE, _ONE_LINE_SCHEMA
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), AfterValidator(nfc), _ONE_LINE, _ONE_LINE_SCHEMA
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), AfterValidator(nfc), _LINES, _LINES_SCHEMA]
Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9._-]{3,64}$"),
]
# An e-mail address for notices: an ASCII local part (what every SMTP server takes) and a dotted domain,
# nothing a header could be split on.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
Email = Annotated[
    str,
    BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
    StringConstraints(max_length=254, pattern=rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$"),
]
