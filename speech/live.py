"""Live captions: ``AudioChunk``s in, partial and final captions out, within a bounded delay.

One ``LiveStream`` per audio source (a room microphone channel, a remote participant, a file
replay: all the same). An energy detector with an adaptive noise floor finds where an utterance
starts and ends; while someone speaks a partial caption is decoded every ``partial_every_s``
(greedy, fast); when they pause for ``end_silence_s`` (or talk for ``max_utterance_s``) the
utterance is decoded once more into final segments. The delay from the end of speech to the final
caption is ``end_silence_s`` plus the decoding time of that utterance.

Several streams (the seats of several rooms) share one ``LiveDecoder``: one thread that owns the
model, decodes final utterances first and partial captions only while its recent busy share is
under ``partial_budget``, so a loaded server drops partials (the newest one of a stream replaces an
older one still waiting) instead of delaying the finals. With it, a stream asks for its final
once ``early_final_s`` of the pause has passed and takes the result when ``end_silence_s`` has:
the delay is then the longer of ``end_silence_s`` and ``early_final_s`` plus the decoding.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk
from speech.asr import AsrOptions, Transcriber
from speech.transcript import Segment

log = logging.getLogger(__name__)
KEEP_PAUSE_S = 0.2  # of the pause that ends an utterance, this much stays in its audio (a soft last syllable)
# One short utterance at a time: nothing to batch, and the energy detector has already cut it.
# Encoded over the utterance plus 10 s, not Whisper's padded 30 s: a final costs half (0.61 s
# against 1.26 s for the shared sets' utterances on 2 cores), which is what lets three rooms on
# one 2-core server caption within about 2 s. The price, measured over both shared sets
# (scripts/eval_asr.py --live, against --context full): WER 0.6184 -> 0.6270 (VIVOS 0.3656 -> 0.3907,
# FPT 0.6629 -> 0.6686), CER 0.4047 -> 0.4017 (the token cap ends the loops a short context invites).
# The recording's final pass decodes whole windows and is what the minutes are made from.
LIVE_ASR = AsrOptions(
    beam_size=1, vad_filter=False, temperature_fallback=False, word_timestamps=True, batched=False,
    context_pad_s=10.0, context_min_s=10.0, max_tokens_per_s=25.0,
)  # fmt: skip


# Quieter frames are digital silence (a gated or muted input, a remote participant's silence
# suppression), not the room: a floor learned from them put the threshold at ``min_speech_db``
# (-50 dBFS), and the room tone after a sentence above it (-39 to -42 dBFS after the FPT clips,
# moments of the VIVOS ones) held the utterance open ~0.5 s past the end of speech
# (``benchmarks/room_live.py``, whose seats are silent between turns). The floor holds while the
# input is digitally silent: a source that never gives room tone learns its floor from speech
# alone, and may trim soft onsets and tails a little.
NO_SIGNAL_DB = -85.0


def _touches_no_signal(power: np.ndarray) -> bool:
    """Any quarter of the frame digitally silent (``power``: its squared samples). A frame across
    a gate's edge, mostly zeros, measures far under the room tone and would drag the floor down."""
    quarter = max(1, len(power) // 4)
    means = power[: len(power) // quarter * quarter].reshape(-1, quarter).mean(axis=1)
    return bool(means.min() < 10 ** (NO_SIGNAL_DB / 10))


def _frames(seconds: float, frame_s: float) -> int:
    """Whole frames that make at least ``seconds`` (0.6 s of 0.03 s frames is 20, not 21 by rounding error)."""
    return math.ceil(seconds / frame_s - 1e-6)


@dataclass(frozen=True)
class LiveOptions:
    asr: AsrOptions = LIVE_ASR
    frame_s: float = 0.03
    end_silence_s: float = 0.6
    min_speech_s: float = 0.3  # shorter bursts (a cough, a click) are dropped
    max_utterance_s: float = 20.0
    partial_every_s: float = 2.0  # 0 turns partial captions off
    speech_margin_db: float = 12.0  # above the noise floor
    min_speech_db: float = -50.0  # dBFS; quieter is never speech
    pre_roll_s: float = 0.3  # audio kept from before the detected start (soft onsets)
    # Partials (shown, then replaced by the final) are encoded over the utterance plus this many
    # seconds, at least this many (None: Whisper's 30 s window), as the finals are (``LIVE_ASR``).
    partial_context_s: float | None = 10.0
    # With a shared decoder, the final is decoded from this much silence on, while the stream
    # waits out ``end_silence_s`` to know the utterance ended: the caption comes that much sooner.
    # Speech resuming before the end cancels it (a pause inside a sentence costs a decode; at 0.2,
    # three rooms of benchmarks/room_live.py cancelled 12-17 of ~50 finals a minute, at 0.3 9-10).
    # None: off.
    early_final_s: float | None = 0.2

    def __post_init__(self) -> None:
        if not 0.01 <= self.frame_s <= 0.1:
            raise ValueError(f"frame_s must be between 0.01 and 0.1 s, got {self.frame_s}")
        if self.end_silence_s <= 0 or self.max_utterance_s < 2:
            raise ValueError("end_silence_s must be > 0 and max_utterance_s >= 2")
        if self.early_final_s is not None and not KEEP_PAUSE_S <= self.early_final_s <= self.end_silence_s:
            raise ValueError(
                f"early_final_s must be between {KEEP_PAUSE_S} and end_silence_s ({self.end_silence_s}), got {self.early_final_s}"
            )


@dataclass(frozen=True)
class Caption:
    stream: str
    final: bool
    start: float  # stream seconds
    end: float
    text: str
    segments: tuple[Segment, ...] = ()
    channel: int | None = None
    audio: np.ndarray | None = field(default=None, repr=False)  # the utterance (finals): for voiceprints


@dataclass(eq=False)  # compared by identity (``cancel``), never by its arrays
class _Request:
    audio: np.ndarray
    options: AsrOptions
    offset: float
    final: bool
    stream: str
    future: Future[list[Segment]]
    at: float = field(default_factory=time.monotonic)
    cancelled: bool = False  # a final asked ahead that is not needed: its result is dropped


class LiveDecoder:
    """One Whisper decoder serving every live stream of the process, on a thread of its own.

    ``final`` blocks its caller until the utterance is decoded (``final_ahead`` returns a future,
    ``cancel`` withdraws it); finals go first, one by one: ``max_batch`` > 1 puts finals waiting
    together through the encoder as one batch, which saved no CPU here (3 clips 1.67 s against
    3 x 0.52 s) and makes the first wait for the others' encoding. ``partial`` returns at once
    with a future: partials are decoded only when no final waits and the decoder was busy less
    than ``partial_budget`` of the last ``window_s`` seconds (0.3: at three rooms on 2 cores 0.5 let
    finals wait behind partials, p90 2.0 s against 1.5 s, README); a stream's newer partial replaces
    its older one still waiting, and a partial left waiting longer than ``stale_s`` is dropped
    (its future gets ``[]``)."""

    def __init__(
        self, transcriber: Transcriber, *, max_batch: int = 1, partial_budget: float = 0.3, window_s: float = 10.0, stale_s: float = 3.0
    ) -> None:
        if max_batch < 1 or not 0 <= partial_budget <= 1:
            raise ValueError(f"max_batch must be >= 1 and partial_budget within 0..1, got {max_batch} and {partial_budget}")
        self.transcriber = transcriber
        self.max_batch, self.partial_budget, self.window_s, self.stale_s = max_batch, partial_budget, window_s, stale_s
        self._finals: list[_Request] = []
        self._running: list[_Request] = []  # the batch being decoded
        self._partials: dict[str, _Request] = {}
        self._busy: deque[tuple[float, float]] = deque()  # (start, end) of recent decodes
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.decoded = {"final": 0, "final_cancelled": 0, "partial": 0, "partial_dropped": 0, "batches": 0}
        # the latest finals' (seconds waiting for the decoder, seconds decoding): what a caption's delay is made of
        self.final_times: deque[tuple[float, float]] = deque(maxlen=1000)

    def final(self, audio: np.ndarray, options: AsrOptions, offset: float, stream: str) -> list[Segment]:
        return self.final_ahead(audio, options, offset, stream).result()

    def final_ahead(self, audio: np.ndarray, options: AsrOptions, offset: float, stream: str) -> Future[list[Segment]]:
        """A final decoded from now on, its result awaited later (or ``cancel``led)."""
        future: Future[list[Segment]] = Future()
        with self._cond:
            dropped = self._partials.pop(stream, None)  # the final says it all
            if dropped is not None:
                dropped.future.set_result([])
            self._finals.append(_Request(audio, options, offset, True, stream, future))
            self._start()
            self._cond.notify()
        return future

    def cancel(self, future: Future[list[Segment]]) -> None:
        """A final asked ahead is not needed after all: not decoded if it still waits (its
        future gets ``[]``); one being decoded finishes and its result is ignored."""
        with self._cond:
            waiting = next((r for r in self._finals if r.future is future), None)
            if waiting is not None:
                self._finals = [r for r in self._finals if r is not waiting]
                future.set_result([])
            running = next((r for r in self._running if r.future is future and not r.future.done()), None)
            if running is not None:
                running.cancelled = True
            if waiting is not None or running is not None:  # (one already decoded counts as decoded)
                self.decoded["final_cancelled"] += 1

    def partial(self, audio: np.ndarray, options: AsrOptions, stream: str) -> Future[list[Segment]]:
        future: Future[list[Segment]] = Future()
        with self._cond:
            older = self._partials.pop(stream, None)
            if older is not None:
                older.future.set_result([])
                self.decoded["partial_dropped"] += 1
            self._partials[stream] = _Request(audio, options, 0.0, False, stream, future)
            self._start()
            self._cond.notify()
        return future

    def busy_share(self, now: float | None = None) -> float:
        """The share of the last ``window_s`` seconds spent decoding."""
        now = time.monotonic() if now is None else now
        begin = now - self.window_s
        with self._cond:
            while self._busy and self._busy[0][1] < begin:
                self._busy.popleft()
            spent = sum(min(end, now) - max(start, begin) for start, end in self._busy)
        return spent / self.window_s

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="captions-decoder", daemon=True)
            self._thread.start()

    def _take(self) -> list[_Request]:
        """Under the lock: the next batch, or [] (then wait)."""
        if self._finals:
            batch, self._finals = self._finals[: self.max_batch], self._finals[self.max_batch :]
            return batch
        now = time.monotonic()
        for key, r in list(self._partials.items()):
            if now - r.at > self.stale_s:
                del self._partials[key]
                r.future.set_result([])
                self.decoded["partial_dropped"] += 1
        if not self._partials:
            return []
        if self.busy_share(now) >= self.partial_budget:  # (the condition's lock is re-entrant)
            return []
        oldest = sorted(self._partials.values(), key=lambda r: r.at)[: self.max_batch]
        for r in oldest:
            del self._partials[r.stream]
        return oldest

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._take()
                while not batch:
                    self._cond.wait(timeout=0.25 if self._partials else 5.0)
                    batch = self._take()
                self._running = batch
            began = time.monotonic()
            try:
                self._decode(batch, began)
            except Exception as exc:  # whatever fails, no caller waits for ever: a stream blocks on its final
                log.exception("live decoder: a batch failed")
                for r in batch:
                    if not r.future.done():
                        r.future.set_exception(exc)
            finally:
                with self._cond:
                    self._running = []
                    self._busy.append((began, time.monotonic()))
                    self.decoded["batches"] += 1

    def _decode(self, batch: list[_Request], began: float) -> None:
        encoded = self.transcriber.encode_batch([r.audio for r in batch], batch[0].options)  # (a batch: one kind, one context)
        for r, enc in zip(batch, encoded, strict=True):
            try:
                r.future.set_result(list(self.transcriber.transcribe_array(r.audio, r.options, r.offset, enc)))
            except Exception as exc:  # one utterance's failure fails its caller, not the others of the batch
                r.future.set_exception(exc)
            with self._cond:
                if not r.cancelled:
                    self.decoded["final" if r.final else "partial"] += 1
                    if r.final:
                        self.final_times.append((began - r.at, time.monotonic() - began))


class LiveStream:
    """Not thread-safe: one feeder per stream (the service gives each its own worker). With a
    ``decoder`` the stream's decodes go through it (shared with other streams); without one, the
    stream decodes on its own caller's thread."""

    def __init__(
        self,
        transcriber: Transcriber,
        stream: str,
        options: LiveOptions | None = None,
        channel: int | None = None,
        decoder: LiveDecoder | None = None,
    ) -> None:
        self.transcriber = transcriber
        self.decoder = decoder
        self._pending: tuple[Future[list[Segment]], float, float] | None = None  # a partial on its way: (result, start, end)
        self.stream = stream
        # the shared decoder's key: unique, for rooms on one server often name their inputs alike
        self._decoder_key = f"{stream}@{id(self):x}"
        self.options = options or LiveOptions()
        self.channel = channel
        self._frame = int(self.options.frame_s * SAMPLE_RATE)
        self._rest = np.zeros(0, np.float32)
        self._time: float | None = None  # stream time of the next unprocessed sample
        self._floor = -60.0
        self._pre: deque[np.ndarray] = deque(maxlen=max(1, int(self.options.pre_roll_s / self.options.frame_s)))
        self._utt: list[np.ndarray] = []
        self._utt_start = 0.0
        self._voiced = 0.0
        self._pause = 0  # frames since the last speech frame of the utterance: counted, not summed (a float sum of
        # frame_s drifts, so two paths that cut at the same pause could keep a frame more or less)
        o = self.options
        self._end_frames = _frames(o.end_silence_s, o.frame_s)
        self._early_frames = _frames(o.early_final_s, o.frame_s) if o.early_final_s is not None else None
        self._keep_frames = _frames(KEEP_PAUSE_S, o.frame_s)
        self._last_partial = 0.0
        self._partial_shown = False
        self._early: tuple[Future[list[Segment]], int] | None = None  # a final asked ahead: (result, utterance frames it covers)

    @property
    def position(self) -> float:
        """Stream seconds processed so far."""
        return self._time or 0.0

    @property
    def in_speech(self) -> bool:
        return bool(self._utt)

    def feed(self, chunk: AudioChunk) -> list[Caption]:
        if chunk.sample_rate != SAMPLE_RATE:
            raise ValueError(f"live audio must be {SAMPLE_RATE} Hz mono, got {chunk.sample_rate} Hz")
        if self._time is None:
            self._time = chunk.start
        samples = chunk.samples.astype(np.float32, copy=False)
        data = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        out: list[Caption] = self._partial_ready()
        n = len(data) // self._frame
        for i in range(n):
            out.extend(self._step(data[i * self._frame : (i + 1) * self._frame]))
        self._rest = data[n * self._frame :].copy()
        return out

    def _partial_ready(self) -> list[Caption]:
        """The partial decoded by the shared decoder since the last call, if any."""
        if self._pending is None or not self._pending[0].done():
            return []
        future, start, end = self._pending
        self._pending = None
        if future.exception() is not None:
            log.warning("live stream %s: partial caption failed: %s", self.stream, future.exception())
            return []
        text = " ".join(s.text for s in future.result()).strip()
        if not text:
            return []
        self._partial_shown = True
        return [Caption(self.stream, False, start, end, text, channel=self.channel)]

    def flush(self) -> list[Caption]:
        """End of the stream: finish what was being said."""
        return self._finish() if self._utt else []

    # --- internals ----------------------------------------------------------------------------

    def _step(self, frame: np.ndarray) -> list[Caption]:
        o = self.options
        assert self._time is not None
        start = self._time
        self._time += o.frame_s
        power = np.square(frame, dtype=np.float64)
        level = float(10 * np.log10(np.mean(power) + 1e-12))
        if _touches_no_signal(power):
            pass  # nothing to learn the room's noise from (and never speech: min_speech_db)
        elif level < self._floor:
            self._floor = level
        else:  # rises slowly: a long utterance does not become the "floor"
            self._floor += (level - self._floor) * 0.002
        speech = level > max(self._floor + o.speech_margin_db, o.min_speech_db)
        out: list[Caption] = []
        if not self._utt:
            if speech:
                pre = list(self._pre)
                self._utt = [*pre, frame]
                self._utt_start = start - len(pre) * o.frame_s
                self._voiced, self._pause, self._last_partial = o.frame_s, 0, start
            else:
                self._pre.append(frame)
            return out
        self._utt.append(frame)
        if speech:
            self._voiced += o.frame_s
            self._pause = 0
            self._cancel_early()  # the pause was inside the utterance
        else:
            self._pause += 1
        length = len(self._utt) * o.frame_s
        if self._pause >= self._end_frames:
            if self._early is None:
                self._utt = self._utt[: self._kept()]
            out.extend(self._finish())
        elif length >= o.max_utterance_s:
            out.extend(self._finish())
        elif (
            self.decoder is not None and self._early is None and self._early_frames is not None
            and self._pause >= self._early_frames and self._voiced >= o.min_speech_s
        ):  # fmt: skip
            kept = self._kept()
            future = self.decoder.final_ahead(np.concatenate(self._utt[:kept]), self.options.asr, self._utt_start, self._decoder_key)
            self._early = (future, kept)
        elif (
            self._early is None and o.partial_every_s and self._voiced >= 1.0 and speech  # (in a pause a final may be near)
            and start + o.frame_s - self._last_partial >= o.partial_every_s
        ):  # fmt: skip
            self._last_partial = start + o.frame_s
            if self.decoder is not None:
                if self._pending is None:  # one on its way at a time
                    audio = np.concatenate(self._utt)
                    self._pending = (
                        self.decoder.partial(audio, self._partial_options(), self._decoder_key),
                        self._utt_start,
                        self._utt_start + length,
                    )
                return out
            text = self._decode_text(np.concatenate(self._utt))
            if text:
                self._partial_shown = True
                out.append(Caption(self.stream, False, self._utt_start, self._utt_start + length, text, channel=self.channel))
        return out

    def _partial_options(self) -> AsrOptions:
        fast = replace(self.options.asr, word_timestamps=False, beam_size=1)
        context = self.options.partial_context_s
        return fast if context is None else replace(fast, context_pad_s=context, context_min_s=context)

    def _kept(self) -> int:
        """The utterance's frames up to ``KEEP_PAUSE_S`` into the pause that ends it."""
        return max(1, len(self._utt) - max(0, self._pause - self._keep_frames))

    def _cancel_early(self) -> None:
        if self._early is not None:
            assert self.decoder is not None
            self.decoder.cancel(self._early[0])
            self._early = None

    def _decode_text(self, audio: np.ndarray) -> str:
        return " ".join(s.text for s in self.transcriber.transcribe_array(audio, self._partial_options())).strip()

    def _finish(self) -> list[Caption]:
        early, self._early = self._early, None
        if early is not None:  # only silence since it was asked: the utterance is what it covers
            self._utt = self._utt[: early[1]]
        audio = np.concatenate(self._utt)
        start, voiced = self._utt_start, self._voiced
        self._utt, self._voiced, self._pause = [], 0.0, 0
        self._pre.clear()
        self._pending = None  # a partial still on its way is of no use now
        shown, self._partial_shown = self._partial_shown, False
        end = start + len(audio) / SAMPLE_RATE
        if voiced < self.options.min_speech_s:
            return [Caption(self.stream, True, start, end, "", channel=self.channel)] if shown else []
        if early is not None:
            decoded = early[0].result()
        elif self.decoder is not None:
            decoded = self.decoder.final(audio, self.options.asr, start, self._decoder_key)
        else:
            decoded = list(self.transcriber.transcribe_array(audio, self.options.asr, offset=start))
        segments = tuple(replace(s, channel=self.channel) for s in decoded)
        text = " ".join(s.text for s in segments).strip()
        if not text and not shown:
            return []
        return [Caption(self.stream, True, start, end, text, segments, self.channel, audio)]
