"""The one bilingual error base that every package's error hierarchy derives from.

A foundation module (README, "How it is built"): every package may import it, so it imports
nothing of the project. Each error carries a Vietnamese message (shown first), an English one, a
stable ``code`` and ``details`` naming the values involved, and a ``status``: the HTTP status that
its meaning calls for. The class says what kind of failure it is; ``meeting_room.api.errors`` is
still the one place that turns errors into responses (and the CLI into messages).
"""

from __future__ import annotations

from typing import Any, ClassVar


class BilingualError(Exception):
    """Base class of every error the project raises on purpose: Vietnamese and English messages,
    a stable code, details, and the HTTP status its meaning calls for (a subclass inherits its
    parent's unless it says otherwise)."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details
