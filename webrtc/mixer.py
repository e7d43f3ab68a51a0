"""The conference's audio bus: every source in, each listener's own mix out ("mix-minus").

Sources are the room (its microphones mixed) and each remote participant; listeners are each
remote participant (through their WebRTC track) and the room (its loudspeakers). Every 20 ms the
mixer takes one frame from each source's jitter buffer, sums them, and hands each listener the sum
minus its own frame, so nobody hears themselves back audibly and the room loudspeakers never replay
the room microphones (no echo loop through the server).

Each distinct mix costs an Opus encoding a frame, so a remote listener whose own microphone has
stayed under ``GATE`` for ``QUIET_HOLD`` (room tone, or nobody there) shares the one mix of
everything: what it would have heard back of itself is under the gate, inaudible. The rest keep
their own mix-minus from their first frame over the gate (what came back before it was under the
gate too). With 16 open microphones and one person talking that is two encodings a frame instead of
sixteen, which had made the mixer's tick outlast its 20 ms once the room's captions decoded beside
it. The price: a listener's stream switches encoder when they start or stop talking (after a second
of quiet), which may be heard as a short glitch at that moment (not measured). The room's
loudspeakers always keep theirs: its own microphones' noise played back into them would be a loop.

Sources arrive in blocks of any size from their own threads (PortAudio reads, decoded RTP), so each
has a small jitter buffer: it starts playing once ``prebuffer_ms`` is queued, keeps at most
``max_buffer_ms``, and trims back to the prebuffer when more has stood queued for half a second
(older audio is dropped: delay must not grow when a source runs fast or arrived in a burst).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from webrtc.opus import FRAME as FRAME  # re-exported: the conference's frame and rate are Opus's
from webrtc.opus import RATE as RATE
from webrtc.opus import OpusEncoder, load

log = logging.getLogger(__name__)
ENCODER_IDLE = 50  # ticks (1 s) a mix nobody hears keeps its encoder

TRIM_AFTER = 25  # ticks (0.5 s)
GATE = 10 ** (-55 / 20)  # RMS of a frame (-55 dBFS): under it, a microphone carries no speech worth keeping out of its own ear
QUIET_HOLD = 50  # ticks (1 s) under the gate before a listener shares the mix of everything (not at every pause)

FrameSink = Callable[[np.ndarray, float], None]  # (960 float32 samples, wall time of the frame) -> None
PacketSink = Callable[[bytes, float], None]  # (the frame as an Opus payload, wall time of the frame) -> None


class Tally:
    """A count of this process that any thread adds to and that never goes down (for the metrics:
    kept where the loss happens, so that no call or conference ending can take it out of the sum)."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        with self._lock:
            self._n += n

    @property
    def value(self) -> int:
        return self._n


FRAMES_SKIPPED = Tally()  # 20 ms frames that any mixer of this process never mixed


@dataclass
class LegStats:
    received_s: float = 0.0
    underruns: int = 0
    dropped_s: float = 0.0
    level: float = 0.0  # RMS of its last frame (0..1), for a speaking indicator


_FADE_OUT = np.linspace(1.0, 0.0, FRAME, dtype=np.float32)
_FADE_IN = _FADE_OUT[::-1].copy()


class Leg:
    """One party of the conference: what it says (``push``) and what it hears (``sink``)."""

    def __init__(
        self, key: str, sink: FrameSink | None, prebuffer: int, max_buffer: int, group: str | None = None, hears: str | None = None,
        packets: PacketSink | None = None,
    ) -> None:  # fmt: skip
        self.key, self.sink = key, sink
        self.packets = packets  # or hears its mix as Opus (a WebRTC track): encoded once per distinct mix
        self.group = group or key  # a listener hears everything but its group (the room: all its inputs)
        self.hears = hears  # or only this group (the room's own feed into an SFU: its inputs, nobody remote)
        self.prebuffer, self.max_buffer = prebuffer, max_buffer
        self.stats = LegStats()
        self.muted = False
        self.audible = True  # its last frame goes into the mixes: not muted, or fading out
        self.quiet_ticks = QUIET_HOLD  # frames in a row under the gate, or none at all (a new leg has said nothing yet)
        self._was_muted: bool | None = None  # as of its last frame (None: none yet, nothing to fade)
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
        muted = self.muted
        if self._was_muted is None:
            self._was_muted = muted
        if muted != self._was_muted:  # muted or unmuted: over one frame, not at once (a step is a click)
            out *= _FADE_OUT if muted else _FADE_IN
            self._was_muted, self.audible = muted, True
        elif muted:
            out[:] = 0
            self.audible = False
        else:
            self.audible = True
        self.stats.level = float(np.sqrt(np.dot(out, out) / FRAME))  # (``np.mean`` of the squares: 6x the time)
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
        self.late_frames = 0  # 20 ms frames never mixed: its thread was held up longer than 5 frames (a stalled machine)
        self._encoders: dict[str, tuple[OpusEncoder, int]] = {}  # mix -> its encoder, the tick it last encoded
        self._ticks = 0
        with contextlib.suppress(OSError):  # found now, not on the first frame (else the encoder says why)
            load()

    def add(
        self, key: str, sink: FrameSink | None = None, group: str | None = None, hears: str | None = None,
        packets: PacketSink | None = None,
    ) -> Leg:  # fmt: skip
        """A party joins (or rejoins: the same key replaces the old leg). Legs of one ``group`` (the
        room's inputs and its loudspeakers) do not hear each other; a listener that ``hears`` one
        group gets that group's sum only. A listener hears through ``sink`` (samples) or ``packets``
        (Opus)."""
        leg = Leg(key, sink, self.prebuffer, self.max_buffer, group, hears, packets)
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
        """Mix one frame and hand it to every listener. Listeners who hear the same mix share it:
        every muted participant, and every remote one whose microphone stayed under the gate for
        ``QUIET_HOLD``, hears the whole sum, so a meeting of muted or quiet remote members costs one
        Opus encoding a frame, not one each."""
        wall = time.time() if wall is None else wall
        legs = self.legs()
        total = np.zeros(FRAME, np.float32)
        groups: dict[str, np.ndarray] = {}
        speaking: set[str] = set()  # groups with a leg over the gate within the hold
        for leg in legs:
            frame = leg.take()
            if frame is not None and leg.audible:  # a muted leg's frame is silence: it changes no mix
                total += frame
                if leg.group in groups:
                    groups[leg.group] = groups[leg.group] + frame
                else:
                    groups[leg.group] = frame
            loud = frame is not None and leg.audible and leg.stats.level >= GATE
            leg.quiet_ticks = 0 if loud else min(leg.quiet_ticks + 1, QUIET_HOLD)
            if leg.quiet_ticks < QUIET_HOLD:
                speaking.add(leg.group)
        mixes: dict[str, np.ndarray] = {}
        payloads: dict[str, bytes | None] = {}
        for leg in legs:
            if leg.sink is None and leg.packets is None:
                continue
            if leg.hears is not None:
                mix = f"only:{leg.hears}"
            elif leg.muted and leg.group not in groups:
                mix = "all"  # (one who merely paused, under a second, keeps their own stream: a switch may click)
            elif leg.sink is None and leg.group not in speaking:
                mix = "all"  # quiet for a second: what comes back of them is under the gate (see the module's note)
            else:
                mix = f"minus:{leg.group}"
            out = mixes.get(mix)
            if out is None:
                if leg.hears is not None:
                    only = groups.get(leg.hears)
                    out = only.copy() if only is not None else np.zeros(FRAME, np.float32)
                elif mix == "all":  # everything, whoever asks first (a quiet listener's own frame is in it)
                    out = total.copy()
                else:
                    own = groups.get(leg.group)
                    out = total - own if own is not None else total.copy()
                mixes[mix] = np.clip(out, -1.0, 1.0, out=out)
            try:
                if leg.sink is not None:
                    leg.sink(out.copy(), wall)  # its own copy: a sink may keep or change it
                if leg.packets is not None:
                    if mix not in payloads:
                        payloads[mix] = None  # tried once a frame: a failing encoder is not retried per listener
                        payloads[mix] = self._encoder(mix).encode(out)
                    payload = payloads[mix]
                    if payload is not None:
                        leg.packets(payload, wall)
            except Exception:  # one listener's failure must not silence the others
                log.exception("%s: delivering to %s", self.name, leg.key)
        self._ticks += 1
        for mix in [m for m, (_, used) in self._encoders.items() if self._ticks - used > ENCODER_IDLE]:
            del self._encoders[mix]

    def _encoder(self, mix: str) -> OpusEncoder:
        """The one encoder of this mix (an Opus stream's state carries from frame to frame, so a mix
        keeps its encoder while anyone hears it)."""
        encoder = self._encoders[mix][0] if mix in self._encoders else OpusEncoder()
        self._encoders[mix] = (encoder, self._ticks)
        return encoder

    def encoders(self) -> int:
        """Opus streams being encoded (one per distinct mix that someone hears)."""
        return len(self._encoders)

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
        failed_at = -1e9
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the conference goes on: the next frame is mixed anyway (logged once a minute)
                if time.monotonic() - failed_at > 60:
                    failed_at = time.monotonic()
                    log.exception("%s: mixing a frame", self.name)
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -5 * period:  # the machine stalled: do not burst to catch up
                skipped = int(-delay / period)
                self.late_frames += skipped
                FRAMES_SKIPPED.add(skipped)
                next_at = time.monotonic()
