"""scripts/eval_asr.py runs on a folder laid out like ../shared/testdata/asr_vi/vivos, one setting
or a table of them, utterance by utterance or joined into one recording, and ends with its line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from speech.models import ModelStore
from tests.speech_audio import speak

ROOT = Path(__file__).resolve().parents[2]
LAST = re.compile(r"WER=\d\.\d{4} CER=\d\.\d{4} n=2 audio_s=\d+\.\d rtf=\d+\.\d{4}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "audio").mkdir()
    said = {"a.wav": "hôm nay chúng ta họp", "b.wav": "đề nghị biểu quyết"}
    for name, text in said.items():
        speak(tmp_path / "audio" / name, text)
    rows = ["file\ttranscript\tspeaker", *(f"audio/{n}\t{t.upper()}\tS1" for n, t in said.items())]
    (tmp_path / "transcripts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


def _run(model_store: ModelStore, *args: str) -> list[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, str(ROOT / "scripts" / "eval_asr.py"), "--models-dir", str(model_store.root), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_one_setting_and_a_table(model_store: ModelStore, folder: Path) -> None:
    lines = _run(model_store, "--data", str(folder), "--greedy")
    assert LAST.fullmatch(lines[-1]), lines[-1]
    assert any(line.startswith(f"{folder.name}: WER ") for line in lines)
    lines = _run(model_store, "--data", str(folder), "--recording", "--settings", "seq-b1-vad-noprompt-nofb,batched-b1-novad-prompt")
    assert LAST.fullmatch(lines[-1]), lines[-1]
    rows = [line for line in lines if line.startswith("| seq-b1") or line.startswith("| batched-b1")]
    assert len(rows) == 2 and all(len(r.split("|")) == 6 for r in rows), rows


def test_the_live_path_with_digital_silence_before_each_utterance(model_store: ModelStore, folder: Path) -> None:
    lines = _run(model_store, "--data", str(folder), "--live", "--streams", "2", "--lead-in", "silence")
    assert LAST.fullmatch(lines[-1]), lines[-1]
    assert "digital silence before each utterance" in lines[0] and any(line.startswith(f"{folder.name}: WER ") for line in lines)


def test_a_bad_setting_is_named(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "eval_asr.py"), "--data", str(tmp_path), "--settings", "seq-b99"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and "seq-b99" in done.stderr and "b1..b10" in done.stderr
