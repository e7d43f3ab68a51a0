"""Debounce of sightings, departures, and the unknown-face count."""

from __future__ import annotations

from vision.tracker import Arrived, Confirmed, IdentityCheck, Left, Mismatch, PresenceTracker, UnknownCount


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


# --- a remote participant's own camera: is it them? -------------------------------------------------


def test_their_own_face_three_times_confirms_them_once_then_the_check_is_over() -> None:
    c = IdentityCheck("an", tolerance=0.55, sightings=3, window_s=30)
    assert c.observe(0.0, [("an", 0.40)]) is None
    assert c.observe(1.0, []) is None  # no face in this frame: neither way
    assert c.observe(2.0, [("an", 0.45)]) is None
    assert c.observe(3.0, [(None, 0.30), ("an", 0.35)]) == Confirmed(3.0, 0.65)  # someone behind them changes nothing
    assert c.done and c.observe(4.0, [("binh", 0.9)]) is None


def test_someone_else_on_their_camera_is_a_mismatch_said_once_never_a_confirmation() -> None:
    c = IdentityCheck("an", tolerance=0.55, sightings=3, window_s=30)
    assert [c.observe(t, [("binh", 0.75)]) for t in (0.0, 1.0)] == [None, None]
    assert c.observe(2.0, [("binh", 0.72)]) == Mismatch(2.0, "binh", 0.72)
    assert [c.observe(t, [("binh", 0.8)]) for t in (3.0, 4.0, 5.0)] == [None, None, None]  # said already
    assert [c.observe(t, [(None, 0.9)]) for t in (6.0, 7.0, 8.0)] == [None, None, Mismatch(8.0, None, 0.9)]  # a stranger now
    assert not c.done


def test_a_face_near_them_but_not_told_apart_counts_neither_way_and_their_face_resets_the_doubt() -> None:
    c = IdentityCheck("an", tolerance=0.55, sightings=2, window_s=30)
    assert c.observe(0.0, [(None, 0.50)]) is None  # within tolerance of them, yet too close to someone else
    assert c.observe(1.0, [(None, 0.50)]) is None
    assert c.observe(2.0, [(None, 0.80)]) is None
    assert c.observe(3.0, [("an", 0.40)]) is None  # them: the doubt starts again
    assert c.observe(4.0, [(None, 0.80)]) is None
    assert c.observe(5.0, [("an", 0.42)]) == Confirmed(5.0, 0.6)


def test_sightings_too_far_apart_do_not_confirm() -> None:
    c = IdentityCheck("an", tolerance=0.55, sightings=2, window_s=5)
    assert c.observe(0.0, [("an", 0.4)]) is None
    assert c.observe(6.0, [("an", 0.4)]) is None
    assert c.observe(7.0, [("an", 0.4)]) == Confirmed(7.0, 0.6)
