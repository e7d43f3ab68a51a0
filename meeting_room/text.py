"""Text value types: every user-entered string is stripped and normalised to Unicode NFC.

NFD input (common from macOS and some Vietnamese keyboards) would otherwise compare unequal and
render with misplaced marks in PDFs.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(nfc)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(nfc)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), AfterValidator(nfc)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), AfterValidator(nfc)]
Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9._-]{3,64}$"),
]
