"""The input rules for text (meeting_room.text): judged when a person types, not when the log is replayed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meeting_room import events as ev


def test_a_stored_event_made_before_a_stricter_rule_is_still_read_back() -> None:
    """A name with a direction mark was accepted before it was refused: a rebuild or an upgrade
    replays it as it was instead of stopping on it."""
    old = {"body_id": "b1", "name": "Hội đồng\u200e nhân dân", "short_name": "HĐND"}
    with pytest.raises(ValidationError, match="U\\+200E"):
        ev.BodyCreated(**old)
    replayed = ev.parse_payload("body.created", old)
    assert isinstance(replayed, ev.BodyCreated) and replayed.name == "Hội đồng\u200e nhân dân"
