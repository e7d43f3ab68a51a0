"""Speech to text with faster-whisper (CTranslate2), Vietnamese by default, streaming segments."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hardware.media import SAMPLE_RATE, read_chunks
from speech.audio import rms_db
from speech.errors import ModelError
from speech.guard import clean, drop_repeated
from speech.transcript import Segment, Word

log = logging.getLogger(__name__)
MIN_NEW_TOKENS, MAX_NEW_TOKENS = 16, 220  # a token cap's floor (a short word and its timestamps), and its ceiling


@dataclass(frozen=True)
class AsrOptions:
    language: str = "vi"
    beam_size: int = 5
    vad_filter: bool = True  # Silero VAD, shipped inside faster-whisper
    word_timestamps: bool = True
    initial_prompt: str | None = None  # agenda titles, member names: how the domain's words are spelt
    hotwords: str | None = None
    condition_on_previous_text: bool = False  # True lets one hallucination seed the next window's
    temperature_fallback: bool = True  # re-decode at higher temperature when a window looks wrong (slower)
    window_s: float = 600.0  # long files are decoded window by window: memory stays bounded
    # Batched: the voiced stretches (Silero VAD, joined up to 30 s) are decoded several at a time
    # (faster-whisper's BatchedInferencePipeline), at temperature 0 only. Sequential: one 30 s
    # window after another, re-decoded at higher temperatures when ``temperature_fallback``.
    # Batched takes ~2.5x less CPU but is not the default: a stretch that loops or ends early is
    # not decoded again, so whole sentences go missing (README, Measurements: the WER table).
    batched: bool = False
    batch_size: int = 8
    # Encoder context. None: every window is encoded as Whisper was trained, 30 s (a short clip
    # padded with silence). A number: a clip that fits one window is encoded over its own length
    # plus this many seconds, and at least ``context_min_s`` (the encoder's cost grows with its
    # context: 10 s costs about a seventh of 30 s). For short utterances (live captions).
    context_pad_s: float | None = None
    context_min_s: float = 10.0
    # A cap on the tokens decoded for a clip that fits one window, per second of it (None: Whisper's
    # 448 a window). Read Vietnamese speech in the shared sets takes 6-10 tokens a second; a decoder
    # looping on one sound ("Hààààà…") runs to the window's cap, holding a live decoder for seconds.
    max_tokens_per_s: float | None = None


def _cut(features: np.ndarray, frames: int | None) -> np.ndarray:
    """The first ``frames`` feature frames (all of them for None)."""
    if frames is None or features.shape[-1] <= frames:
        return features
    return np.ascontiguousarray(features[..., :frames])


def build_prompt(names: list[str], titles: list[str], limit: int = 600) -> str | None:
    """An initial prompt from the agenda and the participants: Whisper then spells them right."""
    text = ". ".join([*titles, ", ".join(names)]).strip(". ")
    return text[:limit] or None


class Encoded:
    """The encoder's output for the first 30 s window of one clip (``Transcriber.encode_batch``),
    with the features it was computed from: handed to ``transcribe_array`` it replaces that
    window's encoding, only for exactly those features."""

    def __init__(self, features: np.ndarray, output: Any) -> None:
        self.features = features
        self.output = output


class Transcriber:
    """One loaded Whisper model; ``transcribe_*`` are generators (segments arrive as decoded)."""

    def __init__(self, model_dir: Path, *, compute_type: str = "int8", cpu_threads: int = 0) -> None:
        from faster_whisper import WhisperModel

        if not (Path(model_dir) / "tokenizer.json").is_file():  # else faster-whisper would fetch one from the hub
            raise ModelError(f"Thư mục {model_dir} thiếu tokenizer.json", f"{model_dir} has no tokenizer.json")
        try:
            self.model = WhisperModel(
                str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=True
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"Không nạp được mô hình {model_dir}: {exc}", f"Cannot load the model {model_dir}: {exc}") from None
        self.model_dir = Path(model_dir)
        self._ready = threading.local()  # per thread: an ``Encoded`` the next encoder call may use
        self._encode = self.model.encode
        self.model.encode = self._encode_or_reuse  # the one seam: faster-whisper encodes each window through it

    def _encode_or_reuse(self, features: np.ndarray) -> Any:
        ready: Encoded | None = getattr(self._ready, "value", None)
        self._ready.value = None
        if ready is not None and ready.features.shape == features.shape and np.array_equal(ready.features, features):
            return ready.output
        return self._encode(_cut(features, getattr(self._ready, "frames", None)))

    def _frames(self, samples: int, options: AsrOptions) -> int | None:
        """The encoder context (feature frames) of a clip of ``samples`` under ``options``, or
        None for Whisper's whole window (no context set, or a clip that VAD or the batched
        pipeline cuts first, or one that does not fit well inside one window)."""
        if options.context_pad_s is None or options.vad_filter or options.batched:
            return None
        seconds = max(samples / SAMPLE_RATE + options.context_pad_s, options.context_min_s)
        frames = 2 * math.ceil(seconds * 50)  # 100 frames a second, an even count (the encoder's stride is 2)
        return frames if frames < self.model.feature_extractor.nb_max_frames else None

    def _window(self, audio: np.ndarray) -> np.ndarray:
        """The features of the first 30 s window of ``audio``, as faster-whisper builds them."""
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        features = extractor(audio)
        size = min(extractor.nb_max_frames, features.shape[-1] - 1)
        return np.asarray(pad_or_trim(features[:, :size]), np.float32)

    def encode_batch(self, clips: Sequence[np.ndarray], options: AsrOptions | None = None) -> list[Encoded]:
        """The first window of every clip through the encoder in one batch (one call for several
        live streams: the encoder is most of a short clip's cost when every window is 30 s). With
        an encoder context (``options.context_pad_s``) each clip is encoded on its own, over its
        own context: batching would widen every clip to the longest one's."""
        import ctranslate2

        windows = [self._window(c) for c in clips]
        if not windows:
            return []
        frames = [self._frames(len(c), options or AsrOptions()) for c in clips]
        if any(f is not None for f in frames):
            return [Encoded(w, self._encode(_cut(w[None], f))) for w, f in zip(windows, frames, strict=True)]
        output = self._encode(np.stack(windows))
        if len(windows) == 1:
            return [Encoded(windows[0], output)]
        rows = np.asarray(output)  # on the CPU: (batch, frames, width), float32
        return [Encoded(w, ctranslate2.StorageView.from_array(np.ascontiguousarray(rows[i : i + 1]))) for i, w in enumerate(windows)]

    def warm_up(self) -> None:
        """Run the encoder once and the decoder for a few steps, so that the first real decode
        pays none of the first-call costs. Bounded: a transcription of noise or silence may loop
        for hundreds of tokens, holding the model for seconds while a caption waits."""
        from faster_whisper.tokenizer import Tokenizer

        encoded = self.encode_batch([np.zeros(SAMPLE_RATE, np.float32)])[0]
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language="vi")
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        self.model.model.generate(encoded.output, [prompt], beam_size=1, max_length=len(prompt) + 4)

    def _kwargs(self, options: AsrOptions) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "language": options.language,
            "task": "transcribe",
            "beam_size": options.beam_size,
            "vad_filter": options.vad_filter,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt,
            "hotwords": options.hotwords,
            "condition_on_previous_text": options.condition_on_previous_text,
        }
        if not options.temperature_fallback:
            kwargs["temperature"] = 0.0
        if options.batched:
            del kwargs["condition_on_previous_text"]  # the batched pipeline never conditions
            kwargs["batch_size"] = options.batch_size
            kwargs["without_timestamps"] = False  # timestamp tokens split a voiced stretch into sentences
            kwargs["temperature"] = 0.0  # it decodes at the first temperature only: say so
        return kwargs

    def _raw(self, audio: np.ndarray, options: AsrOptions) -> Iterable[Any]:
        kwargs = self._kwargs(options)
        cap = _token_cap(len(audio), options)
        if cap is not None:
            kwargs["max_new_tokens"] = cap
        segments: Iterable[Any]
        if not options.batched:
            segments = self.model.transcribe(audio, **kwargs)[0]
            return segments
        from faster_whisper import BatchedInferencePipeline

        if not options.vad_filter:  # without VAD the batched pipeline needs its pieces: plain 30 s windows
            duration = len(audio) / SAMPLE_RATE
            kwargs["clip_timestamps"] = [{"start": t, "end": min(t + 30.0, duration)} for t in np.arange(0.0, duration, 30.0).tolist()]
        # one pipeline per call: it keeps the last word's time between batches, so it is not shared
        segments = BatchedInferencePipeline(self.model).transcribe(audio, **kwargs)[0]
        return segments

    def transcribe_array(
        self, audio: np.ndarray, options: AsrOptions | None = None, offset: float = 0.0, encoded: Encoded | None = None
    ) -> Iterator[Segment]:
        """Segments of a 16 kHz mono float32 array, cleaned of hallucinations, times shifted by
        ``offset``; ``encoded``: its first window, already encoded (``encode_batch``)."""
        return drop_repeated(self._decode(audio, options or AsrOptions(), offset, encoded))

    def _decode(self, audio: np.ndarray, options: AsrOptions, offset: float, encoded: Encoded | None = None) -> Iterator[Segment]:
        if len(audio) < SAMPLE_RATE // 10:  # under 0.1 s: nothing to say
            return
        if options.vad_filter or options.batched:
            encoded = None  # VAD or the batched pipeline cut the audio first: other windows
        raw = self._raw(audio, options)
        self._ready.value = encoded  # the first window is encoded on the first step, on this thread
        self._ready.frames = self._frames(len(audio), options)
        try:
            for s in raw:
                words = tuple(Word(w.start, w.end, w.word.strip(), w.probability) for w in (s.words or ()))
                seg = Segment(s.start, s.end, s.text.strip(), words, s.avg_logprob, s.no_speech_prob)
                piece = audio[int(s.start * SAMPLE_RATE) : int(s.end * SAMPLE_RATE)]
                kept = clean(seg, rms_db(piece), s.compression_ratio)
                if kept is not seg:
                    log.debug("guard: %r -> %r", seg.text, kept.text if kept is not None else None)
                if kept is not None:
                    yield kept.shifted(offset)
        finally:
            self._ready.value = self._ready.frames = None

    @staticmethod
    def _tagged(segments: Iterator[Segment], channel: int | None) -> Iterator[Segment]:
        for s in segments:
            yield s if channel is None else replace(s, channel=channel)

    def transcribe_file(
        self,
        path: str | Path,
        options: AsrOptions | None = None,
        progress: Callable[[float], None] | None = None,
        *,
        channel: int | None = None,
        start_s: float = 0.0,
    ) -> Iterator[Segment]:
        """Segments of a whole file (one ``channel`` of it, from ``start_s``), window by window;
        ``progress(seconds_done)`` after each window. Windows are cut at the quietest half second
        near their end, so words are not split."""
        return drop_repeated(self._tagged(self._windows(path, options or AsrOptions(), progress, channel, start_s), channel))

    def _windows(
        self, path: str | Path, options: AsrOptions, progress: Callable[[float], None] | None, channel: int | None, start_s: float
    ) -> Iterator[Segment]:
        carry = np.zeros(0, np.float32)
        carry_start = start_s
        for chunk in read_chunks(path, chunk_s=options.window_s, channel=channel, start_s=start_s):
            audio = np.concatenate([carry, chunk.samples]) if len(carry) else chunk.samples
            start = carry_start if len(carry) else chunk.start
            cut = _quiet_cut(audio) if len(audio) >= options.window_s * SAMPLE_RATE else len(audio)
            yield from self._decode(audio[:cut], options, start)
            carry, carry_start = audio[cut:], start + cut / SAMPLE_RATE
            if progress is not None:
                progress(carry_start)
        if len(carry):
            yield from self._decode(carry, options, carry_start)
            if progress is not None:
                progress(carry_start + len(carry) / SAMPLE_RATE)


def _token_cap(samples: int, options: AsrOptions) -> int | None:
    """``max_new_tokens`` for a clip of ``samples`` under ``options.max_tokens_per_s``: None when
    unset and for the batched pipeline; at most ``MAX_NEW_TOKENS`` (the window's 448 tokens hold the
    prompt too: faster-whisper keeps up to 227 of an agenda prompt). A window cut short by the cap
    is not lost: faster-whisper goes on from its last timestamp."""
    if options.max_tokens_per_s is None or options.batched:
        return None
    return min(MAX_NEW_TOKENS, MIN_NEW_TOKENS + math.ceil(options.max_tokens_per_s * samples / SAMPLE_RATE))


def _quiet_cut(audio: np.ndarray, search_s: float = 10.0, frame_s: float = 0.5) -> int:
    """The sample index of the quietest ``frame_s`` within the last ``search_s`` seconds."""
    frame = int(frame_s * SAMPLE_RATE)
    begin = max(0, len(audio) - int(search_s * SAMPLE_RATE))
    best, best_energy = len(audio), np.inf
    for i in range(begin, len(audio) - frame + 1, frame // 2):
        energy = float(np.mean(np.square(audio[i : i + frame], dtype=np.float64)))
        if energy < best_energy:
            best, best_energy = i + frame // 2, energy
    return best
