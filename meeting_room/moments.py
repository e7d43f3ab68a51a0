"""Times people type (a meeting's start and end, an opinion's deadline): with a time zone, and within
the years 2000-2099. Year 9999 (or 0001 with an offset) cannot even be turned into local time or UTC:
it broke the minutes, the search index and the close of a meeting. This is the one rule: the route
schemas use ``Moment`` and the services ``check_moment``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from meeting_room.errors import InvalidInputError
from meeting_room.text import replaying

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_VI = "Thời điểm phải nằm trong các năm 2000–2099, với múi giờ từ UTC-12:00 đến UTC+14:00"
_EN = "The time must fall within the years 2000-2099, with a time zone from UTC-12:00 to UTC+14:00"
_FORMAT_VI = "Thời điểm phải viết theo ISO 8601 có múi giờ, ví dụ 2026-12-20T08:00:00+07:00"
_FORMAT_EN = "Write the time as ISO 8601 with a time zone, e.g. 2026-12-20T08:00:00+07:00"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# The offsets of real time zones: UTC-12:00 to UTC+14:00 (pydantic takes any up to ±23:59).
_WEST, _EAST = timedelta(hours=-12), timedelta(hours=14)


def in_range(value: datetime) -> bool:
    offset = value.utcoffset()
    if offset is None or not _WEST <= offset <= _EAST:
        return False
    try:
        return EARLIEST <= value.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        return False


def _written(value: object) -> object:
    """A time is written as ISO 8601 text: pydantic would also take a number (or digits) as Unix seconds."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):  # other text: pydantic's own refusal, in words
        raise PydanticCustomError("time_not_iso", f"{_FORMAT_VI} / {_FORMAT_EN}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("time_not_iso", f"{_FORMAT_VI} / {_FORMAT_EN}")
    return value


def check_moment(value: datetime, field: str) -> datetime:
    if not in_range(value):
        raise InvalidInputError(f"“{field}”: {_VI}", f"{field!r}: {_EN}", field=field, given=str(value))
    return value


def _check(value: datetime, info: ValidationInfo) -> datetime:
    if not replaying(info) and not in_range(value):
        raise PydanticCustomError("time_out_of_range", f"{_VI} / {_EN}", {"earliest": EARLIEST.year, "latest": LATEST.year - 1})
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_written), AfterValidator(_check)]
