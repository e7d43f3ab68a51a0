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


@pytest.fixture(scope="session")
def pipeline_dir(model_store: ModelStore) -> Path:
    return model_store.resolve_diarization()


@pytest.fixture(scope="session")
def diarizer(pipeline_dir: Path):  # type: ignore[no-untyped-def]
    from speech.diarization import Diarizer

    return Diarizer(pipeline_dir)


@pytest.fixture(scope="session")
def voice_encoder(pipeline_dir: Path):  # type: ignore[no-untyped-def]
    from speech.voiceprint import VoiceEncoder

    return VoiceEncoder(pipeline_dir / "embedding")


@pytest.fixture(scope="session")
def two_voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two clearly different generated voices (espeak-ng Vietnamese, low male and high female
    variants) taking turns: A B A B, with the true turn boundaries."""
    import numpy as np

    from speech.audio import SAMPLE_RATE, read_all
    from tests.speech_audio import speak

    folder = tmp_path_factory.mktemp("voices")
    lines = {
        "A": ["Chủ tọa đề nghị các đại biểu chuẩn bị biểu quyết về dự thảo nghị quyết.", "Xin mời đại biểu tiếp tục phát biểu ý kiến."],
        "B": ["Tôi đồng ý với ý kiến của đại biểu, đề nghị bổ sung thêm kinh phí cho giáo dục.", "Tôi xin cảm ơn chủ tọa và các đại biểu."],
    }
    voices = {"A": ("vi", 30, 150), "B": ("vi+f3", 75, 135)}
    clips = {}
    for who, texts in lines.items():
        voice, pitch, speed = voices[who]
        clips[who] = []
        for i, text in enumerate(texts):
            path = folder / f"{who}{i}.wav"
            speak(path, text, voice=voice, speed=speed, pitch=pitch)
            clips[who].append(read_all(path))
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    audio, truth, t = [], [], 0.0
    for who, i in (("A", 0), ("B", 0), ("A", 1), ("B", 1)):
        clip = clips[who][i]
        audio += [clip, gap]
        truth.append((t, t + len(clip) / SAMPLE_RATE, who))
        t += (len(clip) + len(gap)) / SAMPLE_RATE
    return {"audio": np.concatenate(audio), "truth": truth, "clips": clips}
