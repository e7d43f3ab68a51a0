"""Debounce of sightings, departures, and the unknown-face count."""

from __future__ import annotations

from vision.tracker import Arrived, Left, PresenceTracker, UnknownCount


def test_three_sightings_within_the_window_mark_arrival_once() -> None:
    t = PresenceTracker(sightings=3, window_s=10)
    assert t.observe(0.0, {"an": 0.6}, 0) == []
    assert t.observe(0.5, {"an": 0.7}, 0) == []
    assert t.observe(1.0, {"an": 0.5}, 0) == [Arrived("an", 1.0, 0.7)]
    assert t.observe(1.5, {"an": 0.9}, 0) == []


def test_sightings_far_apart_do_not_add_up() -> None:
    t = PresenceTracker(sightings=2, window_s=5)
    t.observe(0.0, {"an": 0.6}, 0)
    assert t.observe(6.0, {"an": 0.6}, 0) == []
    assert t.observe(7.0, {"an": 0.6}, 0) == [Arrived("an", 7.0, 0.6)]


def test_leaving_and_already_present() -> None:
    t = PresenceTracker(sightings=1, leave_after_s=60)
    t.mark_present("binh", 0.0)
    assert t.observe(1.0, {"an": 0.8, "binh": 0.8}, 0) == [Arrived("an", 1.0, 0.8)]
    assert t.observe(62.0, {"binh": 0.8}, 0) == [Left("an", 1.0)]


def test_unknown_count_is_smoothed_and_reported_on_change() -> None:
    t = PresenceTracker(unknown_frames=3)
    counts = [t.observe(float(i), {}, n) for i, n in enumerate([2, 2, 2, 0, 2, 2, 0, 0, 0])]
    assert counts == [[], [], [UnknownCount(2, 2.0)], [], [], [], [], [UnknownCount(0, 7.0)], []]  # a one-frame flicker is ignored
