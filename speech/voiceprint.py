"""Voiceprints: a member's enrolled voice as a CAM++ embedding, and matching speakers against them.

Enrolment takes a short reading (about 20–60 s). Only the speech in it counts (Silero VAD, which
ships with faster-whisper); a recording with too little speech, too quiet or clipped is refused with
the reason. Matching compares unit-length embeddings by cosine similarity and names a speaker only
when the best member is both above the threshold and clearly ahead of the second best.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hardware.media import SAMPLE_RATE
from speech.errors import SpeechError

DIMENSION = 192


class VoiceEnrolmentError(SpeechError):
    """A recording that cannot make a voiceprint; ``reason`` says why."""

    code = "voice_enrolment"

    def __init__(self, message_vi: str, message_en: str, reason: str, **details: object) -> None:
        super().__init__(message_vi, message_en, reason=reason, **details)
        self.reason = reason


@dataclass(frozen=True)
class VoiceRules:
    min_speech_s: float = 8.0
    max_duration_s: float = 300.0
    min_level_db: float = -45.0  # speech RMS in dBFS
    max_clipped: float = 0.01  # share of samples at full scale


@dataclass(frozen=True)
class Voiceprint:
    embedding: np.ndarray  # (192,), unit length
    speech_s: float
    level_db: float


@dataclass(frozen=True)
class VoiceMatch:
    member_id: str
    score: float  # cosine similarity
    runner_up: float


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def speech_only(audio: np.ndarray) -> np.ndarray:
    """The voiced parts of ``audio`` joined (Silero VAD); empty when nobody speaks."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
    if not stamps:
        return np.zeros(0, np.float32)
    return np.concatenate([audio[s["start"] : s["end"]] for s in stamps]).astype(np.float32)


class VoiceEncoder:
    """CAM++ loaded from a pipeline's ``embedding`` folder (see ``speech.models``)."""

    def __init__(self, embedding_dir: Path, *, threads: int = 0, executor: Executor | None = None) -> None:
        """``executor``: where ``embed`` computes (torch's compute threads belong to the thread that
        calls it, and take that thread's priority); None: the caller's thread."""
        from speech.pyannote_runtime import load_pyannote

        load_pyannote()
        import torch
        from pyannote.audio import Model

        from speech.errors import ModelError

        if threads > 0:
            torch.set_num_threads(threads)
        try:
            model = Model.from_pretrained(str(embedding_dir))
        except Exception as exc:
            raise ModelError(
                f"Không nạp được mô hình giọng nói {embedding_dir}: {exc}", f"Cannot load the voice model {embedding_dir}: {exc}"
            ) from None
        if model is None:
            raise ModelError(f"Không nạp được mô hình giọng nói {embedding_dir}", f"Cannot load the voice model {embedding_dir}")
        self.model: Model = model
        self.model.eval()
        self._lock = threading.Lock()
        self._executor = executor

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """A unit-length embedding of a 16 kHz mono clip (at least 0.5 s)."""
        if self._executor is not None:
            return self._executor.submit(self._embed, audio).result()
        return self._embed(audio)

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        import torch

        if len(audio) < SAMPLE_RATE // 2:
            raise ValueError("a clip shorter than 0.5 s has no reliable voiceprint")
        wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).reshape(1, 1, -1)
        with self._lock, torch.inference_mode():
            return unit(self.model(wav)[0].numpy())

    def enrol(self, audio: np.ndarray, rules: VoiceRules | None = None) -> Voiceprint:
        rules = rules or VoiceRules()
        duration = len(audio) / SAMPLE_RATE
        if duration > rules.max_duration_s:
            raise VoiceEnrolmentError(
                f"Bản ghi dài {duration:.0f} giây; bản ghi giọng nói tối đa {rules.max_duration_s:.0f} giây",
                f"The recording lasts {duration:.0f} s; a voice recording may last {rules.max_duration_s:.0f} s at most",
                "too_long",
            )
        clipped = float(np.mean(np.abs(audio) >= 0.999)) if len(audio) else 0.0
        if clipped > rules.max_clipped:
            raise VoiceEnrolmentError(
                f"Âm thanh bị rè (quá mức ở {clipped:.1%} mẫu): giảm âm lượng micro rồi ghi lại",
                f"The audio is clipped ({clipped:.1%} of samples at full scale): lower the microphone gain and record again",
                "clipped",
            )
        speech = speech_only(audio)
        speech_s = len(speech) / SAMPLE_RATE
        if speech_s < rules.min_speech_s:
            raise VoiceEnrolmentError(
                f"Chỉ nghe được {speech_s:.1f} giây lời nói; cần ít nhất {rules.min_speech_s:.0f} giây (đọc một đoạn văn khoảng 30 giây)",
                f"Only {speech_s:.1f} s of speech heard; at least {rules.min_speech_s:.0f} s are needed (read a passage of about 30 s)",
                "too_little_speech",
                speech_s=round(speech_s, 1),
            )
        level = float(20 * np.log10(np.sqrt(np.mean(np.square(speech, dtype=np.float64))) + 1e-12))
        if level < rules.min_level_db:
            raise VoiceEnrolmentError(
                f"Giọng nói quá nhỏ ({level:.0f} dBFS, cần trên {rules.min_level_db:.0f}): nói gần micro hơn",
                f"The voice is too quiet ({level:.0f} dBFS, above {rules.min_level_db:.0f} needed): speak closer to the microphone",
                "too_quiet",
            )
        return Voiceprint(self.embed(speech), round(speech_s, 2), round(level, 1))


class VoiceGallery:
    """Enrolled voiceprints; several per member are averaged into one."""

    def __init__(self, threshold: float = 0.5, margin: float = 0.08) -> None:
        self.threshold = threshold
        self.margin = margin
        self._members: list[str] = []
        self._matrix = np.zeros((0, DIMENSION), np.float32)

    def __len__(self) -> int:
        return len(self._members)

    @classmethod
    def build(cls, prints: dict[str, list[np.ndarray]], threshold: float = 0.5, margin: float = 0.08) -> VoiceGallery:
        gallery = cls(threshold, margin)
        items = [(m, unit(np.mean([unit(e) for e in embs], axis=0))) for m, embs in sorted(prints.items()) if embs]
        gallery._members = [m for m, _ in items]
        gallery._matrix = np.stack([e for _, e in items]) if items else np.zeros((0, DIMENSION), np.float32)
        return gallery

    def match(self, embedding: np.ndarray) -> VoiceMatch | None:
        if not self._members:
            return None
        scores = self._matrix @ unit(embedding)
        order = np.argsort(-scores)
        best = float(scores[order[0]])
        second = float(scores[order[1]]) if len(order) > 1 else -1.0
        if not (best >= self.threshold and best - second >= self.margin):  # a NaN score (an empty cluster's mean) names nobody
            return None
        return VoiceMatch(self._members[int(order[0])], round(best, 4), round(second, 4))
