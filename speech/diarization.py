"""Who spoke when: pyannote.audio's SpeakerDiarization run from a local pipeline directory.

Audio reaches the pipeline as an in-memory waveform (decoded by PyAV in ``hardware.media``), so
neither torchcodec nor ffmpeg bindings of torchaudio are involved. The result keeps one centroid
embedding per speaker cluster: ``speech.voiceprint`` matches those against enrolled voices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hardware.errors import AudioError
from hardware.media import SAMPLE_RATE, probe_duration, read_all
from speech.errors import ModelError
from speech.pyannote_runtime import load_pyannote

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]  # (step name, fraction 0..1 of that step)


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str  # the cluster label, "SPEAKER_00", …

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class DiarizationOptions:
    num_speakers: int | None = None  # when the number of speakers is known
    min_speakers: int | None = None
    max_speakers: int | None = None
    max_duration_s: float = 4 * 3600.0  # the waveform is held in memory (~230 MB/hour)

    def __post_init__(self) -> None:
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 64:
                raise ValueError(f"{name} must be between 1 and 64, got {value}")


@dataclass
class Diarization:
    turns: list[Turn]  # may overlap (two people at once)
    exclusive: list[Turn]  # one speaker at a time: what transcript lines are attributed with
    centroids: dict[str, np.ndarray] = field(default_factory=dict)  # cluster label -> mean embedding
    duration: float = 0.0

    @property
    def speakers(self) -> list[str]:
        return sorted({t.speaker for t in self.turns})

    def speaker_at(self, start: float, end: float) -> str | None:
        """The cluster that speaks longest within [start, end] (None if nobody does)."""
        best, best_overlap = None, 0.0
        totals: dict[str, float] = {}
        for t in self.exclusive:
            overlap = min(end, t.end) - max(start, t.start)
            if overlap > 0:
                totals[t.speaker] = totals.get(t.speaker, 0.0) + overlap
        for speaker, overlap in totals.items():
            if overlap > best_overlap:
                best, best_overlap = speaker, overlap
        if best is None:  # words in a pause: the one who just spoke (turns end early, word times run late)
            mid = (start + end) / 2
            before = [t for t in self.exclusive if t.end <= mid and mid - t.end <= 1.0]
            after = [t for t in self.exclusive if t.start >= mid and t.start - mid <= 0.5]
            if before:
                best = max(before, key=lambda t: t.end).speaker
            elif after:
                best = min(after, key=lambda t: t.start).speaker
        return best


def _check_duration(duration: float, options: DiarizationOptions) -> None:
    if duration > options.max_duration_s:
        raise AudioError(
            f"Bản ghi dài {duration / 3600:.1f} giờ, quá giới hạn phân tách người nói {options.max_duration_s / 3600:.1f} giờ",
            f"The recording lasts {duration / 3600:.1f} h, over the diarization limit of {options.max_duration_s / 3600:.1f} h",
            duration_s=duration,
        )


# Averaged over the overlapping chunks, a frame counts as one more speaker from this much of a
# speaker on (pyannote rounds at 0.5). See ``SoftSpeakerCount``.
COUNT_THRESHOLD = 0.4


class SoftSpeakerCount:
    """Count the speakers of each frame from the segmentation's probabilities, not its argmax.

    pyannote 3.1/4 takes each chunk's powerset argmax (0, 1 or 2 local speakers), averages those
    hard counts over the ~10 chunks that cover a frame and rounds at 0.5. A voice that the model
    hears in 4 of 10 chunks (a quiet or short turn, a second voice in an overlap, the first and
    last seconds, which fewer chunks cover) is then dropped: measured on the shared AMI excerpts,
    4.5 % of the reference speech was heard by some chunk and lost in this averaging, another
    8.6 % was overlap counted one short, and on trn01 (6 s of short turns) the count was 0
    everywhere, so nobody was found at all. Here each chunk contributes its expected number of
    speakers (the powerset probabilities times each class's size), and the average is rounded
    up from ``COUNT_THRESHOLD``. Which frames belong to which local speaker (and so the
    embeddings and the clustering) still come from the argmax, exactly as before; which clusters
    take a frame's count is ranked by each local speaker's probability rather than by the argmax
    (a frame counted where every chunk's argmax was silence went to an arbitrary cluster).

    Installed on a loaded pipeline instance: its segmentation inference returns log-probabilities
    (its powerset-to-multilabel conversion is taken out), ``get_segmentations`` turns them into
    the usual hard multilabel segmentation and keeps the expected counts for ``speaker_count``
    and each local speaker's probability for ``reconstruct``.
    Calls must not interleave (``Diarizer`` holds a lock).
    """

    def __init__(self, pipeline: Any, threshold: float = COUNT_THRESHOLD) -> None:  # a pyannote SpeakerDiarization
        import torch
        from pyannote.audio.utils.powerset import Powerset

        inference = pipeline._segmentation
        if not isinstance(inference.conversion, Powerset):
            raise ModelError(
                "Mô hình phân đoạn không phải loại powerset (pyannote segmentation-3.0)",
                "The segmentation model is not a powerset model (pyannote segmentation-3.0)",
            )
        self.threshold = threshold
        self.mapping = np.asarray(inference.conversion.mapping, dtype=np.float32)  # (powerset classes, local speakers)
        self.sizes = self.mapping.sum(axis=1)  # speakers in each powerset class
        self._expected: Any = None
        self._speakers: Any = None
        self._get_segmentations = pipeline.get_segmentations
        self._reconstruct = pipeline.reconstruct
        inference.conversion = torch.nn.Identity()
        pipeline.get_segmentations = self.get_segmentations
        pipeline.speaker_count = self.speaker_count
        pipeline.reconstruct = self.reconstruct

    def get_segmentations(self, file: Any, hook: Any = None) -> Any:
        from pyannote.core import SlidingWindowFeature

        log_probs = self._get_segmentations(file, hook=hook)  # (chunks, frames, powerset classes)
        probs = np.exp(log_probs.data)
        self._expected = SlidingWindowFeature((probs @ self.sizes)[..., None], log_probs.sliding_window)
        self._speakers = SlidingWindowFeature(probs @ self.mapping, log_probs.sliding_window)
        hard = np.eye(probs.shape[-1], dtype=np.float32)[np.argmax(probs, axis=-1)] @ self.mapping
        return SlidingWindowFeature(hard, log_probs.sliding_window)

    def speaker_count(self, _binarized: Any, frames: Any, warm_up: tuple[float, float] = (0.0, 0.0)) -> Any:
        from pyannote.audio.core.inference import Inference

        return count_speakers(Inference.trim(self._expected, warm_up=warm_up), frames, self.threshold)

    def reconstruct(self, _segmentations: Any, hard_clusters: np.ndarray, count: Any) -> Any:
        return self._reconstruct(self._speakers, hard_clusters, count)


def count_speakers(expected: Any, frames: Any, threshold: float = COUNT_THRESHOLD) -> Any:
    """Frame-level speaker count: (chunks, frames, 1) expected counts, averaged over overlapping chunks.

    ``expected`` and the result are pyannote.core SlidingWindowFeatures, ``frames`` the
    segmentation model's SlidingWindow (its receptive field).
    """
    from pyannote.audio.core.inference import Inference

    count = Inference.aggregate(expected, frames, hamming=False, missing=0.0, skip_average=False)
    count.data = np.floor(count.data + (1.0 - threshold)).astype(np.uint8)
    return count


def _turns(annotation: Any) -> list[Turn]:  # a pyannote.core Annotation (pyannote.core has no types)
    return [Turn(round(seg.start, 3), round(seg.end, 3), str(label)) for seg, _track, label in annotation.itertracks(yield_label=True)]


class Diarizer:
    """One loaded pipeline. ``diarize_*`` are thread-safe (one at a time: the models are not)."""

    def __init__(self, pipeline_dir: Path, *, threads: int = 0) -> None:
        load_pyannote()
        import torch
        from pyannote.audio import Pipeline

        if threads > 0:
            torch.set_num_threads(threads)
        folder = Path(pipeline_dir)
        if not (folder / "config.yaml").is_file():
            raise ModelError(f"{folder} không phải thư mục pipeline pyannote (thiếu config.yaml)", f"{folder} has no config.yaml")
        try:
            pipeline = Pipeline.from_pretrained(str(folder))
        except Exception as exc:  # pyannote raises plain exceptions for broken directories
            raise ModelError(
                f"Không nạp được pipeline phân tách người nói {folder}: {exc}",
                f"Cannot load the diarization pipeline {folder}: {exc}",
            ) from None
        if pipeline is None:
            raise ModelError(f"Không nạp được pipeline {folder}", f"Cannot load the pipeline {folder}")
        self.pipeline: Pipeline = pipeline
        self.speaker_count = SoftSpeakerCount(pipeline)
        self.pipeline_dir = folder
        self._lock = threading.Lock()

    def diarize_array(self, audio: np.ndarray, options: DiarizationOptions | None = None, progress: Progress | None = None) -> Diarization:
        """Diarize a 16 kHz mono float32 array."""
        import torch

        options = options or DiarizationOptions()
        duration = len(audio) / SAMPLE_RATE
        _check_duration(duration, options)
        if duration < 1.0 or not np.any(audio):  # too short or digital silence: nobody spoke
            return Diarization([], [], {}, duration)

        def hook(step: str, _artefact: object, file: object = None, completed: int | None = None, total: int | None = None) -> None:
            if progress is not None:
                progress(step, 1.0 if not total else (completed or 0) / total)

        waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).unsqueeze(0)
        with self._lock, torch.inference_mode():
            out = self.pipeline(
                {"waveform": waveform, "sample_rate": SAMPLE_RATE},
                num_speakers=options.num_speakers,
                min_speakers=options.min_speakers,
                max_speakers=options.max_speakers,
                hook=hook,
            )
        annotation: Any = getattr(out, "speaker_diarization", out)  # pyannote 4's output, or 3's Annotation
        exclusive = getattr(out, "exclusive_speaker_diarization", annotation)
        labels = [str(x) for x in annotation.labels()]
        embeddings = getattr(out, "speaker_embeddings", None)
        centroids: dict[str, np.ndarray] = {}
        if embeddings is not None and len(embeddings) == len(labels):
            centroids = {label: np.asarray(embeddings[i], dtype=np.float32) for i, label in enumerate(labels)}
        return Diarization(_turns(annotation), _turns(exclusive), centroids, duration)

    def diarize_file(self, path: str | Path, options: DiarizationOptions | None = None, progress: Progress | None = None) -> Diarization:
        options = options or DiarizationOptions()
        duration = probe_duration(path)
        _check_duration(duration, options)
        return self.diarize_array(read_all(path), options, progress)
