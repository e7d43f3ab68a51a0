"""The one bilingual error base that every package's error hierarchy derives from.

A foundation module (README, "How it is built"): every package may import it, so it imports
nothing of the project. Each error carries a Vietnamese message (shown first), an English one, a
stable ``code`` and ``details`` naming the values involved. The class says what kind of failure it
is; ``meeting_room.api.errors`` is the one place that gives each class its HTTP status (ARCHITECTURE
rule 8: the domain knows no HTTP), and the CLI the one place that prints them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BilingualError(Exception):
    """Base class of every error the project raises on purpose: Vietnamese and English messages,
    a stable code and details."""

    code: ClassVar[str] = "error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in another process (a bounded check) and rebuilt here with its messages and details
        # (Exception's own pickling would call the class with one joined message)
        return (_rebuild, (type(self), self.message_vi, self.message_en, self.details))


def _rebuild(cls: type[BilingualError], message_vi: str, message_en: str, details: dict[str, Any]) -> BilingualError:
    return cls(message_vi, message_en, **details)
