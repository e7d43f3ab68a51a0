"""Audio the tests make themselves: Vietnamese speech from Debian's espeak-ng (robotic, but real
speech for Whisper), tones, silence, and the same in other containers through PyAV."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from tests import needs

SAMPLE_RATE = 16_000


def speak(path: Path, text: str, voice: str = "vi", speed: int = 150, pitch: int = 50) -> Path:
    if shutil.which("espeak-ng") is None:
        needs.unavailable("espeak-ng is not installed (scripts/test.sh installs it)", needs.AUDIO)
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def tone(seconds: float, freq: float = 440.0, rate: int = SAMPLE_RATE, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def transcode(src: Path, dst: Path, codec: str, rate: int | None = None, with_video: bool = False) -> Path:
    """Re-encode ``src`` (a wav) into ``dst`` with PyAV; optionally inside a video container."""
    import av

    from speech.audio import read_all

    audio = read_all(src)
    out_rate = rate or 48_000 if codec in ("libopus", "opus") else rate or 44_100
    with av.open(str(dst), "w") as out:
        if with_video:
            video = out.add_stream("mpeg4", rate=5)
            assert isinstance(video, av.VideoStream)
            video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        stream = out.add_stream(codec, rate=out_rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "stereo"
        frame_size = 960 if codec in ("libopus", "opus") else 1024
        src_frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
        src_frame.sample_rate = SAMPLE_RATE
        resampler = av.AudioResampler(format=stream.codec_context.format or "fltp", layout="stereo", rate=out_rate, frame_size=frame_size)
        frames = resampler.resample(src_frame) + resampler.resample(None)
        if with_video:
            for i in range(int(len(audio) / SAMPLE_RATE * 5)):
                vf = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i % 255, np.uint8), format="rgb24")
                for packet in video.encode(vf):
                    out.mux(packet)
        for frame in frames:
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if with_video:
            for packet in video.encode():
                out.mux(packet)
    return dst
