"""The speech models of this process, loaded once from the settings (lazily: a server that never
transcribes never loads them)."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from meeting_room.operations.health import ModelReadiness
from meeting_room.settings import Settings
from speech.asr import Transcriber
from speech.diarization import Diarizer
from speech.models import DEFAULT_CLUSTERING, ModelStore
from speech.pipeline import SpeechPipeline
from speech.voiceprint import VoiceEncoder, VoiceGallery, VoiceRules

_lock = threading.Lock()


@cache
def _transcriber(model_dir: Path, compute_type: str, threads: int) -> Transcriber:
    return Transcriber(model_dir, compute_type=compute_type, cpu_threads=threads)


@cache
def _diarizer(pipeline_dir: Path, threshold: float | None, threads: int) -> Diarizer:
    diarizer = Diarizer(pipeline_dir, threads=threads)
    if threshold is not None:
        diarizer.pipeline.instantiate(
            {"segmentation": {"min_duration_off": 0.0}, "clustering": {**DEFAULT_CLUSTERING, "threshold": threshold}}
        )
    return diarizer


@cache
def _encoder(embedding_dir: Path, threads: int) -> VoiceEncoder:
    return VoiceEncoder(embedding_dir, threads=threads)


def model_store(settings: Settings) -> ModelStore:
    return ModelStore(settings.models_root)


def transcriber(settings: Settings, live: bool = False) -> Transcriber:
    with _lock:
        folder = model_store(settings).resolve(settings.asr_live_model if live else settings.asr_model)
        return _transcriber(folder.resolve(), settings.asr_compute_type, settings.asr_threads)


def pipeline(settings: Settings, *, model: str | None = None, diarize: bool = True) -> SpeechPipeline:
    """The models of a transcription of a recording: the Whisper ``model`` (default: the asr_model
    setting) and, with ``diarize``, the diarization pipeline (loaded only then)."""
    with _lock:
        folder = model_store(settings).resolve(model or settings.asr_model)
        whisper = _transcriber(folder.resolve(), settings.asr_compute_type, settings.asr_threads)
    return SpeechPipeline(whisper, diarizer(settings) if diarize else None)


def diarizer(settings: Settings) -> Diarizer:
    with _lock:
        folder = model_store(settings).resolve_diarization(settings.diarization_pipeline)
        return _diarizer(folder.resolve(), settings.diarization_threshold, settings.asr_threads)


def voice_encoder(settings: Settings) -> VoiceEncoder:
    with _lock:
        folder = model_store(settings).resolve_diarization(settings.diarization_pipeline)
        return _encoder((folder / "embedding").resolve(), settings.asr_threads)


def voice_rules(settings: Settings) -> VoiceRules:
    return VoiceRules()


def enrolled_voices(settings: Settings) -> tuple[VoiceGallery | None, dict[str, str]]:
    """Every enrolled voice in the database, for the command line (None when there is no database)."""
    from meeting_room.server import open_store
    from meeting_room.services.voices import member_names, voice_gallery

    if settings.database_url is None and not (settings.data_dir / "meeting-room.sqlite3").exists():
        return None, {}
    store = open_store(settings)
    with store.read() as session:
        return voice_gallery(session, None, settings.voice_threshold, settings.voice_margin), member_names(session)


def model_readiness(settings: Settings) -> list[ModelReadiness]:
    """The configured models, checked cheaply (for ``/api/health``)."""
    store = model_store(settings)
    uses = [
        (settings.asr_model, "whisper", "transcription"),
        (settings.asr_live_model, "whisper", "live captions"),
        (settings.diarization_pipeline, "diarization", "diarization"),
    ]
    return [ModelReadiness(str(name), use, *store.readiness(name, kind)) for name, kind, use in uses]
