"""The served process's heap (meeting_room.heap): frozen once settled, and again after a model loads."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from meeting_room import heap


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(heap, "_settled", False)
    gc.unfreeze()  # whatever froze before this test (another test's app) is not this test's to count
    yield
    gc.unfreeze()  # this test process goes on making and dropping apps


def test_settle_takes_what_start_up_made_out_of_the_collectors_view(unfrozen: None) -> None:
    watched = len(gc.get_objects())  # every object the cycle collector walks
    heap.settle()
    assert gc.get_freeze_count() >= watched // 2
    assert len(gc.get_objects()) < watched // 10


def test_a_model_loaded_later_is_frozen_only_in_a_settled_process(unfrozen: None) -> None:
    # Asked of the objects themselves, not of the freeze count: other tests' threads still free objects.
    model = [[n] for n in range(5000)]  # what a model's load leaves behind (lists: always tracked)
    heap.settle_again()  # a test process, or a command that never served: nothing is frozen
    assert _watched(model)
    heap.settle()
    loaded = [[n] for n in range(5000)]
    assert _watched(loaded)
    heap.settle_again()
    assert not _watched(loaded) and not _watched(loaded[-1])


def _watched(thing: object) -> bool:
    """Whether the cycle collector still walks this object (frozen ones are out of gc.get_objects())."""
    return any(o is thing for o in gc.get_objects())
