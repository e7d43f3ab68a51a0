"""What a transcription produces: segments of text with times, words, confidence and speaker."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    speaker: str | None = None  # a member's name, "Người nói 1", or None before diarization
    channel: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """Mean token probability (exp of the average log-probability), 0..1."""
        return float(min(1.0, max(0.0, math.exp(self.avg_logprob))))

    def shifted(self, offset: float) -> Segment:
        if offset == 0:
            return self
        words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in self.words)
        return replace(self, start=self.start + offset, end=self.end + offset, words=words)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "speaker": self.speaker,
            "channel": self.channel,
            "confidence": round(self.confidence, 4),
            "avg_logprob": round(self.avg_logprob, 4),
            "no_speech_prob": round(self.no_speech_prob, 4),
            "words": [
                {"start": round(w.start, 3), "end": round(w.end, 3), "word": w.text, "probability": round(w.probability, 4)}
                for w in self.words
            ],
        }
