"""Times people type (a meeting's start and end, an opinion's deadline): with a time zone, and within
the years 2000-2099. Year 9999 (or 0001 with an offset) cannot even be turned into local time or UTC:
it broke the minutes, the search index and the close of a meeting. This is the one rule: the route
schemas use ``Moment`` and the services ``check_moment``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, ValidationInfo
from pydantic_core import PydanticCustomError

from meeting_room.errors import InvalidInputError
from meeting_room.text import replaying

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_VI = "Thời điểm phải nằm trong các năm 2000–2099"
_EN = "The time must fall within the years 2000-2099"


def in_range(value: datetime) -> bool:
    try:
        return EARLIEST <= value.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        return False


def check_moment(value: datetime, field: str) -> datetime:
    if not in_range(value):
        raise InvalidInputError(f"“{field}”: {_VI}", f"{field!r}: {_EN}", field=field, given=str(value))
    return value


def _check(value: datetime, info: ValidationInfo) -> datetime:
    if not replaying(info) and not in_range(value):
        raise PydanticCustomError("time_out_of_range", f"{_VI} / {_EN}", {"earliest": EARLIEST.year, "latest": LATEST.year - 1})
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_check)]
