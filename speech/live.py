"""Live captions: ``AudioChunk``s in, partial and final captions out, within a bounded delay.

One ``LiveStream`` per audio source (a room microphone channel, a remote participant, a file
replay: all the same). An energy detector with an adaptive noise floor finds where an utterance
starts and ends; while someone speaks a partial caption is decoded every ``partial_every_s``
(greedy, fast); when they pause for ``end_silence_s`` (or talk for ``max_utterance_s``) the
utterance is decoded once more into final segments. The delay from the end of speech to the final
caption is ``end_silence_s`` plus the decoding time of that utterance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from hardware.media import SAMPLE_RATE, AudioChunk
from speech.asr import AsrOptions, Transcriber
from speech.transcript import Segment

# one short utterance at a time: nothing to batch, and the energy detector has already cut it
LIVE_ASR = AsrOptions(beam_size=1, vad_filter=False, temperature_fallback=False, word_timestamps=True, batched=False)


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

    def __post_init__(self) -> None:
        if not 0.01 <= self.frame_s <= 0.1:
            raise ValueError(f"frame_s must be between 0.01 and 0.1 s, got {self.frame_s}")
        if self.end_silence_s <= 0 or self.max_utterance_s < 2:
            raise ValueError("end_silence_s must be > 0 and max_utterance_s >= 2")


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


class LiveStream:
    """Not thread-safe: one feeder per stream (the service gives each its own worker)."""

    def __init__(self, transcriber: Transcriber, stream: str, options: LiveOptions | None = None, channel: int | None = None) -> None:
        self.transcriber = transcriber
        self.stream = stream
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
        self._silence = 0.0
        self._last_partial = 0.0
        self._partial_shown = False

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
        out: list[Caption] = []
        n = len(data) // self._frame
        for i in range(n):
            out.extend(self._step(data[i * self._frame : (i + 1) * self._frame]))
        self._rest = data[n * self._frame :].copy()
        return out

    def flush(self) -> list[Caption]:
        """End of the stream: finish what was being said."""
        return self._finish() if self._utt else []

    # --- internals ----------------------------------------------------------------------------

    def _step(self, frame: np.ndarray) -> list[Caption]:
        o = self.options
        assert self._time is not None
        start = self._time
        self._time += o.frame_s
        level = float(10 * np.log10(np.mean(np.square(frame, dtype=np.float64)) + 1e-12))
        if level < self._floor:
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
                self._voiced, self._silence, self._last_partial = o.frame_s, 0.0, start
            else:
                self._pre.append(frame)
            return out
        self._utt.append(frame)
        if speech:
            self._voiced += o.frame_s
            self._silence = 0.0
        else:
            self._silence += o.frame_s
        length = len(self._utt) * o.frame_s
        if self._silence >= o.end_silence_s:
            keep = len(self._utt) - int((self._silence - 0.2) / o.frame_s)  # keep 0.2 s of the pause
            self._utt = self._utt[: max(1, keep)]
            out.extend(self._finish())
        elif length >= o.max_utterance_s:
            out.extend(self._finish())
        elif o.partial_every_s and start + o.frame_s - self._last_partial >= o.partial_every_s and self._voiced >= 1.0:
            self._last_partial = start + o.frame_s
            text = self._decode_text(np.concatenate(self._utt))
            if text:
                self._partial_shown = True
                out.append(Caption(self.stream, False, self._utt_start, self._utt_start + length, text, channel=self.channel))
        return out

    def _decode_text(self, audio: np.ndarray) -> str:
        fast = replace(self.options.asr, word_timestamps=False, beam_size=1)
        return " ".join(s.text for s in self.transcriber.transcribe_array(audio, fast)).strip()

    def _finish(self) -> list[Caption]:
        audio = np.concatenate(self._utt)
        start, voiced = self._utt_start, self._voiced
        self._utt, self._voiced, self._silence = [], 0.0, 0.0
        self._pre.clear()
        shown, self._partial_shown = self._partial_shown, False
        end = start + len(audio) / SAMPLE_RATE
        if voiced < self.options.min_speech_s:
            return [Caption(self.stream, True, start, end, "", channel=self.channel)] if shown else []
        segments = tuple(replace(s, channel=self.channel) for s in self.transcriber.transcribe_array(audio, self.options.asr, offset=start))
        text = " ".join(s.text for s in segments).strip()
        if not text and not shown:
            return []
        return [Caption(self.stream, True, start, end, text, segments, self.channel, audio)]
