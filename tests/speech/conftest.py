"""The packaged Whisper base, assembled once per test session into a temporary models directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech.asr import Transcriber
from speech.models import ModelStore


@pytest.fixture(scope="session")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("models"))
    store.ensure_default()
    return store


@pytest.fixture(scope="session")
def base_model(model_store: ModelStore) -> Path:
    return model_store.resolve("whisper-base")


@pytest.fixture(scope="session")
def transcriber(base_model: Path) -> Transcriber:
    return Transcriber(base_model)
