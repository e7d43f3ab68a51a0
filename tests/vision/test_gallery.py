"""Matching: tolerance, and the margin that keeps look-alike members apart."""

from __future__ import annotations

import numpy as np

from vision.gallery import Gallery


def _vec(*head: float) -> np.ndarray:
    v = np.zeros(128)
    v[: len(head)] = head
    return v


def test_nearest_member_within_tolerance_is_accepted() -> None:
    g = Gallery([("an", _vec(0.0)), ("an", _vec(0.2)), ("binh", _vec(1.0))])
    m = g.match(_vec(0.25), tolerance=0.55, margin=0.04)
    assert (m.member_id, round(m.distance, 2), round(m.runner_up or 0, 2)) == ("an", 0.05, 0.75)
    assert 0.9 < m.confidence <= 1


def test_too_far_is_unknown_but_the_nearest_is_reported() -> None:
    m = Gallery([("an", _vec(0.0))]).match(_vec(0.7), tolerance=0.55, margin=0.04)
    assert m.member_id is None and m.nearest == "an"


def test_two_members_equally_close_are_not_guessed() -> None:
    g = Gallery([("an", _vec(0.0)), ("binh", _vec(0.6))])
    assert g.match(_vec(0.3), tolerance=0.55, margin=0.04).member_id is None
    assert g.match(_vec(0.25), tolerance=0.55, margin=0.04).member_id == "an"  # 0.25 vs 0.35: clear enough


def test_empty_gallery() -> None:
    assert Gallery().match(_vec(0.0), 0.55, 0.04).member_id is None
