"""The speech models of this process, loaded once from the settings (lazily: a server that never
transcribes never loads them)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

from hardware import priority
from hardware.media import SAMPLE_RATE
from meeting_room import heap
from meeting_room.operations.health import ModelReadiness
from meeting_room.settings import Settings
from speech.asr import Transcriber
from speech.diarization import Diarizer
from speech.models import DEFAULT_CLUSTERING, ModelStore
from speech.pipeline import SpeechPipeline
from speech.voiceprint import VoiceEncoder, VoiceGallery, VoiceRules

log = logging.getLogger(__name__)
_lock = threading.Lock()  # finding a model's folder (the packaged default is assembled on first use)
_load_lock = threading.Lock()  # loading a Whisper: held for seconds, so apart (a live pass opens meanwhile)
# loading the voice encoder or the diarization pipeline (torch and pyannote: seconds): apart from
# Whisper's, so that a room's first caption does not wait for the encoder that loads after it at start
_voices_lock = threading.Lock()


@cache
def _transcriber(model_dir: Path, compute_type: str, threads: int, background: bool = False, live: bool = False) -> Transcriber:
    # ``background``: an instance of its own for final passes, apart from the live captions' one
    # (whose calls would otherwise queue behind a final pass's windows in the same model); ``live``:
    # the live captions' own (loaded on a thread run as ``hardware.priority.live``), never handed to any other use
    transcriber = Transcriber(model_dir, compute_type=compute_type, cpu_threads=threads)
    heap.settle_again()  # loaded once, kept as long as the server: out of the collector's way (meeting_room.heap)
    return transcriber


@cache
def _live_transcriber(model_dir: Path, compute_type: str, threads: int) -> Transcriber:
    """The live captions' Whisper, loaded on a thread of its own that is niced first: the compute
    threads it starts inherit that (``hardware.priority``: a thread apart rather than this one)."""
    loaded: list[Transcriber] = []
    failed: list[BaseException] = []

    def load() -> None:
        try:
            priority.live()
            loaded.append(_transcriber(model_dir, compute_type, threads, live=True))
        except BaseException as exc:  # handed to the caller, as if loaded here
            failed.append(exc)

    loader = threading.Thread(target=load, name="live-model-load", daemon=True)
    loader.start()
    loader.join()
    if failed:
        raise failed[0]
    return loaded[0]


@cache
def _diarizer(pipeline_dir: Path, threshold: float | None, threads: int) -> Diarizer:
    diarizer = Diarizer(pipeline_dir, threads=threads)
    if threshold is not None:
        diarizer.pipeline.instantiate(
            {"segmentation": {"min_duration_off": 0.0}, "clustering": {**DEFAULT_CLUSTERING, "threshold": threshold}}
        )
    heap.settle_again()  # torch and pyannote: ~140,000 objects more
    return diarizer


@cache
def _encoder(embedding_dir: Path, threads: int) -> VoiceEncoder:
    # computes on a thread niced like the live Whisper's: torch's compute threads are that thread's
    # own and take its priority (on the room's caption worker they had a call's audio's)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice-encoder", initializer=priority.live)
    encoder = VoiceEncoder(embedding_dir, threads=threads, executor=pool)
    heap.settle_again()
    return encoder


def model_store(settings: Settings) -> ModelStore:
    return ModelStore(settings.models_root)


def transcriber(settings: Settings, live: bool = False) -> Transcriber:
    with _lock:
        folder = model_store(settings).resolve(settings.asr_live_model if live else settings.asr_model)
    with _load_lock:
        if live:
            return _live_transcriber(folder.resolve(), settings.asr_compute_type, settings.asr_threads)
        return _transcriber(folder.resolve(), settings.asr_compute_type, settings.asr_threads)


def live_model_dir(settings: Settings) -> Path:
    """The live captions' model directory, checked (``ModelError`` when missing), not loaded."""
    with _lock:
        return model_store(settings).resolve(settings.asr_live_model).resolve()


def warm_up(settings: Settings, voices: bool = False) -> threading.Thread | None:
    """Load the live captions' models and run each once, on a thread of its own, so that the
    first caption after a start does not wait for them (a server with rooms calls this at start:
    their meetings' captions begin by themselves): Whisper, then, with ``voices`` (a room whose
    microphone is a mix, its speakers told apart by voice), the voice encoder. Loaded later, on the
    captions' worker, the encoder's import of torch and pyannote held Python's lock for seconds in
    the middle of the meeting, and every remote participant's audio broke up meanwhile. Rooms whose
    seats name the speaker never need it (it is ~500 MB). Only models already on disk: the packaged
    defaults are assembled by their first real use (None: nothing to warm up)."""
    store = model_store(settings)
    ready, where = store.readiness(settings.asr_live_model)
    whisper_ready = ready and Path(where).is_dir()
    ready, where = store.readiness(settings.diarization_pipeline, "diarization")
    voices_ready = voices and ready and Path(where).is_dir()
    if not whisper_ready and not voices_ready:
        return None

    def run() -> None:
        began = time.monotonic()
        if whisper_ready:
            try:
                whisper = transcriber(settings, live=True)
                whisper.warm_up()
            except Exception as exc:  # a missing model shows in /api/health; captions say it again when they start
                log.warning("live captions model not loaded at start: %s", getattr(exc, "message_en", exc))
            else:
                log.info("live captions model %s loaded and warmed up in %.1f s", whisper.model_dir.name, time.monotonic() - began)
        if voices_ready:
            began = time.monotonic()
            try:
                voice_encoder(settings).embed(np.full(SAMPLE_RATE, 1e-4, np.float32))
            except Exception as exc:  # the room's speakers are named later, or stay anonymous; the captions go on
                log.warning("voice encoder not loaded at start: %s", getattr(exc, "message_en", exc))
            else:
                log.info("voice encoder loaded and warmed up in %.1f s", time.monotonic() - began)

    thread = threading.Thread(target=run, name="speech-warm-up", daemon=True)
    thread.start()
    return thread


def pipeline(settings: Settings, *, model: str | None = None, diarize: bool = True, background: bool = False) -> SpeechPipeline:
    """The models of a transcription of a recording: the Whisper ``model`` (default: the asr_model
    setting) and, with ``diarize``, the diarization pipeline (loaded only then). ``background``
    (the server's final passes): a Whisper instance apart from the live captions' one; called
    from a thread lowered by ``hardware.priority.background``, its compute threads stay low."""
    with _lock:
        folder = model_store(settings).resolve(model or settings.asr_model)
    with _load_lock:
        whisper = _transcriber(folder.resolve(), settings.asr_compute_type, settings.asr_threads, background)
    return SpeechPipeline(whisper, diarizer(settings) if diarize else None)


def diarizer(settings: Settings) -> Diarizer:
    with _lock:
        folder = model_store(settings).resolve_diarization(settings.diarization_pipeline)
    with _voices_lock:
        return _diarizer(folder.resolve(), settings.diarization_threshold, settings.asr_threads)


def voice_encoder(settings: Settings) -> VoiceEncoder:
    with _lock:
        folder = model_store(settings).resolve_diarization(settings.diarization_pipeline)
    with _voices_lock:
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
