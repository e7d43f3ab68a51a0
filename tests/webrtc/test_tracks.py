"""The tracks the server sends (a participant's mix as Opus packets on its own clock) and what it
makes of those it receives."""

from __future__ import annotations

import asyncio
import threading

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hardware.media import AudioChunk
from webrtc.mixer import FRAME, RATE
from webrtc.opus import OpusEncoder
from webrtc.tracks import FRAMES_DROPPED, MixTrack, _mono, read_audio


def test_a_listener_that_falls_behind_loses_the_oldest_packet_and_the_gap_shows_in_the_timestamps() -> None:
    """...and the process's count of dropped frames (the metrics) grows with it, whatever becomes of the track."""
    before = FRAMES_DROPPED.value

    async def run() -> list[tuple[bytes, int | None]]:
        track = MixTrack(asyncio.get_running_loop(), max_queued=2)
        got: list[tuple[bytes, int | None]] = []
        for payload in (b"a", b"b"):
            track._put(payload, 0.0)
            packet = await track.recv()
            got.append((bytes(packet), packet.pts))
            assert packet.time_base * RATE == 1
        for payload in (b"c", b"d", b"e"):  # the sender fell behind: "c" goes
            track._put(payload, 0.0)
        got += [(bytes(p), p.pts) for p in (await track.recv(), await track.recv())]
        assert track.dropped == 1
        return got

    assert asyncio.run(run()) == [(b"a", 0), (b"b", FRAME), (b"d", 3 * FRAME), (b"e", 4 * FRAME)]
    assert FRAMES_DROPPED.value == before + 1


def test_a_burst_handed_on_by_a_busy_event_loop_reaches_the_listener_whole() -> None:
    """The mixer's thread goes on every 20 ms while the event loop is busy: the frames of 100 ms
    arrive at once, and the sender, running again, sends them all (with room for 40 ms, the first
    three were lost, for every listener at once)."""

    async def run() -> tuple[list[bytes], int]:
        track = MixTrack(asyncio.get_running_loop())

        def mixer_ticks() -> None:
            for i in range(5):
                track.sink(bytes([i]), 0.0)

        mixer = threading.Thread(target=mixer_ticks)
        mixer.start()
        mixer.join()  # the loop is held meanwhile: all five wait as callbacks
        await asyncio.sleep(0)  # they run, one after another, before the sender's next turn
        got = [bytes(await asyncio.wait_for(track.recv(), 5)) for _ in range(5)]
        return got, track.dropped

    assert asyncio.run(run()) == ([bytes([i]) for i in range(5)], 0)


class _Frames(MediaStreamTrack):
    kind = "audio"

    def __init__(self, frames: list[av.AudioFrame]) -> None:
        super().__init__()
        self.frames = frames

    async def recv(self) -> av.AudioFrame:
        if not self.frames:
            raise MediaStreamError
        return self.frames.pop(0)


def _frame(samples: np.ndarray, fmt: str, layout: str, rate: int = RATE) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples, format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


@pytest.mark.parametrize(
    ("fmt", "layout", "rate", "n", "numpy"),
    [
        ("s16", "stereo", RATE, FRAME, True),
        ("s16", "stereo", RATE, 481, True),  # an odd count: the plane is padded past it
        ("s16", "mono", RATE, FRAME, True),
        ("fltp", "stereo", RATE, FRAME, False),
        ("s16", "stereo", 16000, 320, False),
    ],
    ids=["aiortc-opus", "odd-length", "mono", "planar-float", "16-khz"],
)
def test_a_received_voice_comes_out_mono_at_48_khz_at_the_level_libswresample_gives(
    fmt: str, layout: str, rate: int, n: int, numpy: bool
) -> None:
    """aiortc's decoded Opus (interleaved 16-bit stereo at 48 kHz) is converted in numpy; anything
    else goes through a resampler; both give the same mono float32 at the same level."""
    rng = np.random.default_rng(7)
    channels = 2 if layout == "stereo" else 1
    if fmt == "s16":
        data = rng.integers(-20000, 20000, size=(1, n * channels), dtype=np.int16)
    else:
        data = rng.uniform(-0.6, 0.6, size=(channels, n)).astype(np.float32)
    assert (_mono(_frame(data, fmt, layout, rate)) is not None) == numpy  # which path the frame takes
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    expected = np.concatenate([o.to_ndarray().reshape(-1) for o in resampler.resample(_frame(data, fmt, layout, rate))])
    chunks: list[AudioChunk] = []
    asyncio.run(read_audio(_Frames([_frame(data, fmt, layout, rate)]), chunks.append))
    got = np.concatenate([c.samples for c in chunks])
    assert got.dtype == np.float32 and all(c.sample_rate == RATE for c in chunks)
    assert len(got) == len(expected) and np.abs(got - expected).max() < 1e-6


def test_what_aiortc_s_opus_decoder_gives_takes_the_numpy_path() -> None:
    """A frame as aiortc decodes a participant's Opus: an upgrade that changed its format would
    quietly fall back to the slower resampler."""
    from aiortc.codecs.opus import OpusDecoder
    from aiortc.jitterbuffer import JitterFrame

    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(FRAME * 5) / RATE)).astype(np.float32)
    encoder, decoder = OpusEncoder(), OpusDecoder()
    frames = [f for k in range(5) for f in decoder.decode(JitterFrame(encoder.encode(tone[k * FRAME : (k + 1) * FRAME]), k * FRAME))]
    assert frames and all(isinstance(f, av.AudioFrame) for f in frames)
    mono = [_mono(f) for f in frames if isinstance(f, av.AudioFrame)]
    assert all(m is not None for m in mono)
    level = float(np.sqrt(np.mean(np.concatenate([m for m in mono[2:] if m is not None]) ** 2)))
    # libswresample's downmix of a mono voice decoded as two equal channels: √2 its level (+3 dB), as before
    assert 0.7 * 0.3 < level < 1.3 * 0.3, level
