"""From sightings to attendance: debounce, so that one lucky frame never marks anyone present."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from statistics import median_low


@dataclass(frozen=True)
class Arrived:
    member_id: str
    at: float
    confidence: float  # the best of the sightings that confirmed it


@dataclass(frozen=True)
class Left:
    member_id: str
    at: float  # when they were last seen


@dataclass(frozen=True)
class UnknownCount:
    count: int
    at: float


@dataclass
class PresenceTracker:
    """``sightings`` matches of the same member within ``window_s`` mark them arrived; not seen for
    ``leave_after_s`` (when set) marks them left. The number of unknown faces is the median over
    the last ``unknown_frames`` frames (the lower median), reported when it changes."""

    sightings: int = 3
    window_s: float = 10.0
    leave_after_s: float | None = None
    unknown_frames: int = 5
    _seen: dict[str, deque[tuple[float, float]]] = field(default_factory=dict)
    _present: dict[str, float] = field(default_factory=dict)  # member -> last seen
    _unknown: deque[int] = field(default_factory=deque)
    _reported_unknown: int = 0

    def observe(self, at: float, matches: dict[str, float], unknown: int) -> list[Arrived | Left | UnknownCount]:
        """One analysed frame: ``matches`` maps each recognised member to the match's confidence."""
        changes: list[Arrived | Left | UnknownCount] = []
        for member_id, confidence in matches.items():
            if member_id in self._present:
                self._present[member_id] = at
                continue
            seen = self._seen.setdefault(member_id, deque())
            seen.append((at, confidence))
            while seen and seen[0][0] < at - self.window_s:
                seen.popleft()
            if len(seen) >= self.sightings:
                changes.append(Arrived(member_id, at, max(c for _, c in seen)))
                self._present[member_id] = at
                del self._seen[member_id]
        if self.leave_after_s is not None:
            for member_id, last in list(self._present.items()):
                if at - last > self.leave_after_s:
                    changes.append(Left(member_id, last))
                    del self._present[member_id]
        self._unknown.append(unknown)
        while len(self._unknown) > self.unknown_frames:
            self._unknown.popleft()
        if len(self._unknown) < self.unknown_frames:
            return changes  # not enough frames yet to tell a face from a flicker
        typical = int(median_low(self._unknown))
        if typical != self._reported_unknown:
            self._reported_unknown = typical
            changes.append(UnknownCount(typical, at))
        return changes

    def forget(self, member_id: str) -> None:
        """Count this member's sightings again from zero (their arrival could not be recorded)."""
        self._present.pop(member_id, None)
        self._seen.pop(member_id, None)

    def mark_present(self, member_id: str, at: float) -> None:
        """Someone already recorded present (by hand, or before a restart): no second arrival."""
        self._present.setdefault(member_id, at)


@dataclass(frozen=True)
class Confirmed:
    """The claimed member's own face was seen ``sightings`` times: the person is the member."""

    at: float
    confidence: float  # the best of the sightings that confirmed it


@dataclass(frozen=True)
class Mismatch:
    """Faces were seen ``sightings`` times and none was the claimed member's."""

    at: float
    looks_like: str | None  # the other enrolled member it matched; None: nobody enrolled
    distance: float  # the nearest those faces came to the claimed member's enrolment


@dataclass
class IdentityCheck:
    """Is the person on one camera the member it claims to be (a remote participant's own camera)?

    Each analysed frame gives, per face, the member it was accepted as (or None) and its distance to
    the claimed member's enrolment. A frame counts *for* the member when one face is accepted as
    them; *against* when no face is, and every face is either accepted as someone else or farther
    than ``tolerance`` from them (a face near them but too close to another member to tell counts
    neither way). ``sightings`` frames for, within ``window_s``, confirm (once; then the check is
    over); as many against, with none for in between, report a mismatch, once per look-alike."""

    claimed: str
    tolerance: float
    sightings: int = 3
    window_s: float = 30.0
    done: bool = False
    _for: deque[tuple[float, float]] = field(default_factory=deque)
    _against: deque[tuple[float, str | None, float]] = field(default_factory=deque)
    _warned: set[str | None] = field(default_factory=set)

    def observe(self, at: float, faces: list[tuple[str | None, float]]) -> Confirmed | Mismatch | None:
        if self.done or not faces:
            return None
        own = [1.0 - d for accepted, d in faces if accepted == self.claimed]
        if own:
            self._against.clear()
            self._for.append((at, max(own)))
            while self._for[0][0] < at - self.window_s:
                self._for.popleft()
            if len(self._for) < self.sightings:
                return None
            self.done = True
            return Confirmed(at, min(1.0, max(0.0, max(c for _, c in self._for))))
        others = [(accepted, d) for accepted, d in faces if accepted is not None]
        if not others and min(d for _, d in faces) <= self.tolerance:
            return None  # near the member, yet not told apart from someone else: no verdict
        looks_like = others[0][0] if others else None
        self._against.append((at, looks_like, min(d for _, d in faces)))
        while self._against[0][0] < at - self.window_s:
            self._against.popleft()
        if len(self._against) < self.sightings:
            return None
        named = [who for _, who, _ in self._against if who is not None]
        verdict = max(set(named), key=named.count) if len(named) * 2 > len(self._against) else None
        distance = min(d for _, _, d in self._against)
        self._against.clear()
        if verdict in self._warned:
            return None
        self._warned.add(verdict)
        return Mismatch(at, verdict, distance)
