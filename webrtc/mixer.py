"""The conference's audio bus: every source in, each listener's own mix out ("mix-minus").

Sources are the room (its microphones mixed) and each remote participant; listeners are each
remote participant (through their WebRTC track) and the room (its loudspeakers). Every 20 ms the
mixer takes one frame from each source's jitter buffer, sums them, and hands each listener the sum
minus its own frame, so nobody hears themselves back and the room loudspeakers never replay the
room microphones (no echo loop through the server).

Sources arrive in blocks of any size from their own threads (PortAudio reads, decoded RTP), so each
has a small jitter buffer: it starts playing once ``prebuffer_ms`` is queued, keeps at most
``max_buffer_ms``, and trims back to the prebuffer when more has stood queued for half a second
(older audio is dropped: delay must not grow when a source runs fast or arrived in a burst).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
RATE = 48_000
FRAME_MS = 20
FRAME = RATE * FRAME_MS // 1000

TRIM_AFTER = 25  # ticks (0.5 s)

FrameSink = Callable[[np.ndarray, float], None]  # (960 float32 samples, wall time of the frame) -> None


@dataclass
class LegStats:
    received_s: float = 0.0
    underruns: int = 0
    dropped_s: float = 0.0
    level: float = 0.0  # RMS of its last frame (0..1), for a speaking indicator


class Leg:
    """One party of the conference: what it says (``push``) and what it hears (``sink``)."""

    def __init__(
        self, key: str, sink: FrameSink | None, prebuffer: int, max_buffer: int, group: str | None = None, hears: str | None = None
    ) -> None:
        self.key, self.sink = key, sink
        self.group = group or key  # a listener hears everything but its group (the room: all its inputs)
        self.hears = hears  # or only this group (the room's own feed into an SFU: its inputs, nobody remote)
        self.prebuffer, self.max_buffer = prebuffer, max_buffer
        self.stats = LegStats()
        self.muted = False
        self._blocks: deque[np.ndarray] = deque()
        self._queued = 0
        self._playing = False
        self._over = 0  # ticks in a row with more than the target queued
        self._lock = threading.Lock()

    def push(self, samples: np.ndarray) -> None:
        """Thread-safe: mono float32 samples at 48 kHz, in order."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not len(samples):
            return
        with self._lock:
            self._blocks.append(samples)
            self._queued += len(samples)
            self.stats.received_s += len(samples) / RATE
            excess = self._queued - self.max_buffer
            if excess > 0:  # running ahead of the clock: drop the oldest, back to the prebuffer level
                self._drop(self._queued - self.prebuffer)

    def queued_ms(self) -> float:
        return self._queued * 1000 / RATE

    def _drop(self, n: int) -> None:
        self.stats.dropped_s += n / RATE
        while n > 0 and self._blocks:
            head = self._blocks[0]
            if len(head) <= n:
                self._blocks.popleft()
                self._queued -= len(head)
                n -= len(head)
            else:
                self._blocks[0] = head[n:]
                self._queued -= n
                n = 0

    def take(self) -> np.ndarray | None:
        """The next frame, or None while it has nothing to play (not started, or starved)."""
        with self._lock:
            if not self._playing:
                if self._queued < max(self.prebuffer, FRAME):
                    return None
                self._playing = True
            out = np.zeros(FRAME, np.float32)
            filled = 0
            while filled < FRAME and self._blocks:
                head = self._blocks[0]
                n = min(FRAME - filled, len(head))
                out[filled : filled + n] = head[:n]
                filled += n
                if n == len(head):
                    self._blocks.popleft()
                else:
                    self._blocks[0] = head[n:]
                self._queued -= n
            if filled < FRAME:  # starved: play what there is, then wait for the buffer to refill
                self._playing = False
                self.stats.underruns += 1
            # A level that stays above the target (a burst at start, a source running fast) would be
            # delay for good: after half a second of it, the excess goes.
            self._over = self._over + 1 if self._queued > self.prebuffer + FRAME else 0
            if self._over >= TRIM_AFTER:
                self._drop(self._queued - self.prebuffer)
                self._over = 0
        if self.muted:
            out[:] = 0
        self.stats.level = float(np.sqrt(np.mean(out * out)))
        return out


class Mixer:
    """Mixes every 20 ms on its own thread, paced by the monotonic clock."""

    def __init__(self, name: str = "mixer", prebuffer_ms: float = 40, max_buffer_ms: float = 200) -> None:
        if not 0 <= prebuffer_ms < max_buffer_ms:
            raise ValueError(f"prebuffer_ms ({prebuffer_ms}) must be below max_buffer_ms ({max_buffer_ms})")
        self.name = name
        self.prebuffer, self.max_buffer = int(prebuffer_ms * RATE / 1000), int(max_buffer_ms * RATE / 1000)
        self._legs: dict[str, Leg] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.late_frames = 0

    def add(self, key: str, sink: FrameSink | None = None, group: str | None = None, hears: str | None = None) -> Leg:
        """A party joins (or rejoins: the same key replaces the old leg). Legs of one ``group`` (the
        room's inputs and its loudspeakers) do not hear each other; a listener that ``hears`` one
        group gets that group's sum only."""
        leg = Leg(key, sink, self.prebuffer, self.max_buffer, group, hears)
        with self._lock:
            self._legs[key] = leg
        return leg

    def remove(self, key: str, leg: Leg | None = None) -> None:
        """Remove ``key`` (only if it is still ``leg``, when given: a rejoin may have replaced it)."""
        with self._lock:
            if leg is None or self._legs.get(key) is leg:
                self._legs.pop(key, None)

    def legs(self) -> list[Leg]:
        with self._lock:
            return list(self._legs.values())

    def tick(self, wall: float | None = None) -> None:
        """Mix one frame and hand it to every listener."""
        wall = time.time() if wall is None else wall
        legs = self.legs()
        total = np.zeros(FRAME, np.float32)
        groups: dict[str, np.ndarray] = {}
        for leg in legs:
            frame = leg.take()
            if frame is not None:
                total += frame
                if leg.group in groups:
                    groups[leg.group] = groups[leg.group] + frame
                else:
                    groups[leg.group] = frame
        for leg in legs:
            if leg.sink is None:
                continue
            if leg.hears is not None:
                only = groups.get(leg.hears)
                out = only.copy() if only is not None else np.zeros(FRAME, np.float32)
            else:
                own = groups.get(leg.group)
                out = total - own if own is not None else total.copy()
            np.clip(out, -1.0, 1.0, out=out)
            try:
                leg.sink(out, wall)
            except Exception:  # one listener's failure must not silence the others
                log.exception("%s: delivering to %s", self.name, leg.key)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        period = FRAME / RATE
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -5 * period:  # the machine stalled: do not burst to catch up
                self.late_frames += 1
                next_at = time.monotonic()
