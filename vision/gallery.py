"""The enrolled faces and the best match for a face seen by a camera."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Match:
    member_id: str | None  # None: nobody close enough, or two members too close to tell apart
    distance: float  # to the nearest enrolled face
    nearest: str | None  # the nearest member, accepted or not
    runner_up: float | None  # distance to the nearest *other* member

    @property
    def confidence(self) -> float:
        """1 at distance 0, 0 at distance 1 (dlib's encodings: same person is usually < 0.5)."""
        return float(min(1.0, max(0.0, 1.0 - self.distance)))


class Gallery:
    """Encodings per member; a member's distance is that of their nearest enrolled photo."""

    def __init__(self, entries: Iterable[tuple[str, np.ndarray]] = ()) -> None:
        pairs = list(entries)
        self.member_ids = [m for m, _ in pairs]
        self.matrix = np.array([e for _, e in pairs], dtype=np.float64).reshape(len(pairs), 128)

    def __len__(self) -> int:
        return len(self.member_ids)

    @property
    def members(self) -> set[str]:
        return set(self.member_ids)

    def distances(self, encoding: np.ndarray) -> dict[str, float]:
        """The distance from ``encoding`` to each member (their nearest photo)."""
        if not self.member_ids:
            return {}
        d = np.linalg.norm(self.matrix - encoding, axis=1)
        out: dict[str, float] = {}
        for member_id, dist in zip(self.member_ids, d, strict=True):
            if dist < out.get(member_id, np.inf):
                out[member_id] = float(dist)
        return out

    def match(self, encoding: np.ndarray, tolerance: float, margin: float) -> Match:
        """Accept the nearest member if within ``tolerance`` and at least ``margin`` nearer than any
        other member, so that two look-alike members are never confused for one another."""
        ranked = sorted(self.distances(encoding).items(), key=lambda kv: kv[1])
        if not ranked:
            return Match(None, float("inf"), None, None)
        nearest, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else None
        accepted = best <= tolerance and (runner_up is None or runner_up - best >= margin)
        return Match(nearest if accepted else None, best, nearest, runner_up)
