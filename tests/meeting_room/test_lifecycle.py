from __future__ import annotations

import pytest

from meeting_room.errors import InvalidTransitionError
from meeting_room.lifecycle import TRANSITIONS, MeetingState, check_transition

S = MeetingState


def test_the_main_path_is_allowed() -> None:
    path = [S.SCHEDULED, S.OPEN, S.IN_SESSION, S.ADJOURNED, S.IN_SESSION, S.CLOSED, S.MINUTES_SIGNED, S.ARCHIVED]
    for current, target in zip(path, path[1:], strict=False):
        check_transition("m", current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in S for t in S if t not in TRANSITIONS[c]],
)
def test_every_other_transition_is_refused_with_the_allowed_ones(current: S, target: S) -> None:
    with pytest.raises(InvalidTransitionError) as info:
        check_transition("m1", current, target)
    assert info.value.details["allowed"] == sorted(TRANSITIONS[current])
    assert current.label_vi in info.value.message_vi and target.label_vi in info.value.message_vi


def test_final_states() -> None:
    assert TRANSITIONS[S.ARCHIVED] == frozenset() and TRANSITIONS[S.CANCELLED] == frozenset()
