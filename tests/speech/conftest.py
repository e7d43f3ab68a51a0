"""Loaded models for the speech tests (the models directory itself is the root conftest's ``model_store``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.asr import Transcriber
from speech.models import ModelStore

if TYPE_CHECKING:
    from speech.diarization import Diarizer
    from speech.voiceprint import VoiceEncoder


@pytest.fixture(scope="session")
def base_model(model_store: ModelStore) -> Path:
    return model_store.resolve("whisper-base")


@pytest.fixture(scope="session")
def transcriber(base_model: Path) -> Transcriber:
    return Transcriber(base_model)


@pytest.fixture(scope="session")
def pipeline_dir(model_store: ModelStore) -> Path:
    return model_store.resolve_diarization()


@pytest.fixture(scope="session")
def diarizer(pipeline_dir: Path) -> Diarizer:
    from speech.diarization import Diarizer

    return Diarizer(pipeline_dir)


@pytest.fixture(scope="session")
def voice_encoder(pipeline_dir: Path) -> VoiceEncoder:
    from speech.voiceprint import VoiceEncoder

    return VoiceEncoder(pipeline_dir / "embedding")
