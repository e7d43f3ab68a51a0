"""The served process's heap (meeting_room.heap): frozen once settled, and again after a model loads."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from meeting_room import heap


@pytest.fixture
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(heap, "_settled", False)
    yield
    gc.unfreeze()  # this test process goes on making and dropping apps


def test_settle_takes_what_start_up_made_out_of_the_collectors_view(unfrozen: None) -> None:
    watched = len(gc.get_objects())  # every object the cycle collector walks
    heap.settle()
    assert gc.get_freeze_count() >= watched // 2
    assert len(gc.get_objects()) < watched // 10


def test_a_model_loaded_later_is_frozen_only_in_a_settled_process(unfrozen: None) -> None:
    model = [[n] for n in range(5000)]  # what a model's load leaves behind (lists: always tracked)
    heap.settle_again()  # a test process, or a command that never served: nothing is frozen
    assert gc.get_freeze_count() == 0
    heap.settle()
    frozen = gc.get_freeze_count()
    loaded = [[n] for n in range(5000)]
    heap.settle_again()
    assert gc.get_freeze_count() >= frozen + len(loaded) and model
