"""The speech models of the process: the live model loads (and decodes once) beside the server's
start, so that the first caption does not wait for it; final passes run their own Whisper at a
lower priority (``hardware.priority``)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from hardware import priority
from meeting_room.live import speech_runtime
from speech.asr import AsrOptions
from speech.models import ModelStore
from tests.conftest import _settings


def test_warm_up_leaves_the_live_model_and_the_voice_encoder_loaded(tmp_path: Path, model_store: ModelStore) -> None:
    """Both models of a room's captions load at start: the voice encoder (torch and pyannote) too,
    which the first caption in the room otherwise imported on the captions' worker mid-meeting."""
    model_store.resolve_diarization()  # on disk, as after set-up
    speech_runtime._encoder.cache_clear()  # not loaded by an earlier test
    speech_runtime._live_transcriber.cache_clear()  # (the model itself stays cached below it: asked for again, not reloaded)
    settings = _settings(tmp_path, models_dir=model_store.root)
    thread = speech_runtime.warm_up(settings, voices=True)
    assert thread is not None
    thread.join(timeout=600)
    assert not thread.is_alive()
    loads, encoders = speech_runtime._live_transcriber.cache_info().misses, speech_runtime._encoder.cache_info().misses
    assert loads == 1 and encoders == 1  # both asked for by the warm-up
    whisper = speech_runtime.transcriber(settings, live=True)
    encoder = speech_runtime.voice_encoder(settings)
    assert speech_runtime._live_transcriber.cache_info().misses == loads  # already there: nothing loaded now
    assert speech_runtime._encoder.cache_info().misses == encoders
    assert whisper.model_dir == speech_runtime.live_model_dir(settings)
    assert encoder.embed(np.full(8000, 1e-3, np.float32)).shape[0] > 0


def test_rooms_whose_seats_name_the_speaker_do_not_load_the_voice_encoder(tmp_path: Path, model_store: ModelStore) -> None:
    """~500 MB and seconds of a start that no caption of theirs would use."""
    model_store.resolve_diarization()
    speech_runtime._encoder.cache_clear()
    thread = speech_runtime.warm_up(_settings(tmp_path, models_dir=model_store.root))
    assert thread is not None
    thread.join(timeout=600)
    assert speech_runtime._encoder.cache_info().currsize == 0


def test_warm_up_without_the_model_on_disk_starts_nothing(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    assert speech_runtime.warm_up(_settings(tmp_path, models_dir=models, asr_live_model="khong-co")) is None
    assert speech_runtime.warm_up(_settings(tmp_path, models_dir=models)) is None  # the default is not assembled at start


IDLE = 99  # in place of a nice value: the thread runs under SCHED_IDLE (none of the server's threads may)


def _nice_of_threads() -> dict[int, int]:
    """This process's threads: their nice value, or ``IDLE``."""
    found = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            tid = int(task.name)
            nice = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
            found[tid] = IDLE if os.sched_getscheduler(tid) == os.SCHED_IDLE else nice
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are read from Linux /proc")
def test_a_final_pass_runs_its_own_model_at_a_lower_priority(tmp_path: Path, model_store: ModelStore) -> None:
    """The final pass's Whisper is not the live captions' one, and its compute threads (started
    from the pass's lowered thread) yield the CPU to the calls."""
    own = tmp_path / "whisper-final"  # a folder of its own (hard links): a model this test is the first to load
    own.mkdir()
    base = speech_runtime.model_store(_settings(tmp_path, models_dir=model_store.root)).resolve()
    for f in base.iterdir():
        if f.is_file():
            os.link(f, own / f.name)
    settings = _settings(tmp_path, models_dir=model_store.root, asr_model=str(own))
    live = speech_runtime.transcriber(settings, live=True)
    before = _nice_of_threads()
    seen: dict[str, object] = {}

    def final_pass() -> None:
        priority.background()
        whisper = speech_runtime.pipeline(settings, diarize=False, background=True).transcriber
        seen["whisper"] = whisper
        list(whisper.transcribe_array(np.zeros(16000, np.float32) + 1e-4, AsrOptions(beam_size=1, vad_filter=False)))
        seen["threads"] = {tid: nice for tid, nice in _nice_of_threads().items() if tid not in before}

    job = threading.Thread(target=final_pass)
    job.start()
    job.join(timeout=600)
    assert seen["whisper"] is not live
    started = seen["threads"]
    assert isinstance(started, dict) and len(started) >= 2, started  # the pass's thread and the model's own
    server = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # this thread: untouched
    assert all(min(19, server + priority.BACKGROUND_NICE) <= nice <= 19 for nice in started.values()), (server, started)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are read from Linux /proc")
def test_the_live_model_computes_at_a_lower_priority_than_the_calls(tmp_path: Path, model_store: ModelStore) -> None:
    """The live captions' compute threads yield the CPU to the event loop and the mixer (a call's
    audio is due every 20 ms), while the thread that asked for the model keeps its own priority."""
    own = tmp_path / "whisper-live"  # a folder of its own (hard links): a model this test is the first to load
    own.mkdir()
    base = speech_runtime.model_store(_settings(tmp_path, models_dir=model_store.root)).resolve()
    for f in base.iterdir():
        if f.is_file():
            os.link(f, own / f.name)
    settings = _settings(tmp_path, models_dir=model_store.root, asr_live_model=str(own))
    here = threading.get_native_id()
    server = os.getpriority(os.PRIO_PROCESS, here)
    before = _nice_of_threads()
    whisper = speech_runtime.transcriber(settings, live=True)
    list(whisper.transcribe_array(np.zeros(16000, np.float32) + 1e-4, AsrOptions(beam_size=1, vad_filter=False)))
    started = {tid: nice for tid, nice in _nice_of_threads().items() if tid not in before}
    assert started, "the model started no threads of its own"
    # as low as nice goes, and still ahead of background work
    assert all(min(19, server + priority.LIVE_NICE) <= nice <= 19 for nice in started.values()), (server, started)
    assert os.getpriority(os.PRIO_PROCESS, here) == server  # the caller's thread: untouched
    assert speech_runtime.transcriber(settings, live=True) is whisper  # loaded once


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are read from Linux /proc")
def test_the_voice_encoder_computes_at_a_lower_priority_than_the_calls(tmp_path: Path, model_store: ModelStore) -> None:
    """Asked from a room's caption worker (the server's priority), the voice encoder computes on a
    thread of its own niced like the live Whisper, and so do torch's compute threads it starts."""
    model_store.resolve_diarization()
    speech_runtime._encoder.cache_clear()  # its own pool, started by this test
    settings = _settings(tmp_path, models_dir=model_store.root, asr_threads=2)
    here = threading.get_native_id()
    server = os.getpriority(os.PRIO_PROCESS, here)
    before = _nice_of_threads()
    encoder = speech_runtime.voice_encoder(settings)
    clip = np.random.default_rng(0).standard_normal(32000).astype(np.float32) * 0.1
    assert encoder.embed(clip).shape[0] > 0
    started = {tid: nice for tid, nice in _nice_of_threads().items() if tid not in before}
    low = min(19, server + priority.LIVE_NICE)
    assert sum(low <= nice <= 19 for nice in started.values()) >= 2, (server, started)  # the pool's thread and torch's
    assert os.getpriority(os.PRIO_PROCESS, here) == server  # the caller's thread: untouched
