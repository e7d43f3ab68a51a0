"""Apps the API tests share: one that trusts the test CA (minutes, signatures, archive, search) and
one with the speech models (voices, recordings, transcripts, live audio)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from meeting_room.server import open_store
from meeting_room.settings import Settings
from speech.models import ModelStore
from tests.conftest import World, _settings, make_world
from tests.pki import root_ca


@pytest.fixture
def msettings(tmp_path: Path) -> Settings:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(root_ca().pem)
    return _settings(tmp_path, trust_roots=[ca])


@pytest.fixture
def mworld(msettings: Settings) -> Iterator[World]:
    store = open_store(msettings)
    yield make_world(store)
    store.engine.dispose()


@pytest.fixture
def mclient(msettings: Settings, mworld: World) -> Iterator[TestClient]:
    from meeting_room.api.app import create_app

    with TestClient(create_app(msettings, mworld.store)) as c:
        yield c


@pytest.fixture
def speech_settings(tmp_path: Path, model_store: ModelStore) -> Settings:
    # espeak voices are at the edge of what Whisper base reads: sampled re-decodes made the words (and so
    # their times, which the attribution splits on) differ from run to run; greedy decoding is reproducible
    return _settings(tmp_path, models_dir=model_store.root, max_upload_mb=5, asr_temperature_fallback=False)


@pytest.fixture
def sworld(speech_settings: Settings) -> Iterator[World]:
    store = open_store(speech_settings)
    yield make_world(store)
    store.engine.dispose()


@pytest.fixture
def sclient(speech_settings: Settings, sworld: World) -> Iterator[TestClient]:
    from meeting_room.api.app import create_app

    with TestClient(create_app(speech_settings, sworld.store)) as c:
        yield c
