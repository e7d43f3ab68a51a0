"""What this machine has: audio inputs and outputs (PortAudio through sounddevice) and cameras
(V4L2 device nodes, and any camera URL probed by opening it with PyAV)."""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass

from hardware.errors import DeviceError


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    input_channels: int
    output_channels: int
    default_sample_rate: float
    default_input: bool
    default_output: bool


@dataclass(frozen=True)
class CameraInfo:
    url: str
    ok: bool
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    fps: float | None = None
    detail: str = ""


def audio_devices() -> list[AudioDevice]:
    """Every PortAudio device; empty when the machine has no sound card (or PortAudio is missing,
    which raises ``DeviceError`` with the package to install)."""
    try:
        import sounddevice as sd
    except OSError as exc:  # libportaudio2 missing
        raise DeviceError(
            f"Thiếu thư viện PortAudio ({exc}); cài gói Debian libportaudio2",
            f"PortAudio is missing ({exc}); install the Debian package libportaudio2",
        ) from None
    apis = [a["name"] for a in sd.query_hostapis()]
    try:
        default_in, default_out = sd.default.device
    except Exception:
        default_in = default_out = -1
    out = []
    for d in sd.query_devices():
        out.append(
            AudioDevice(
                index=int(d["index"]),
                name=str(d["name"]),
                host_api=apis[d["hostapi"]] if d["hostapi"] < len(apis) else "?",
                input_channels=int(d["max_input_channels"]),
                output_channels=int(d["max_output_channels"]),
                default_sample_rate=float(d["default_samplerate"]),
                default_input=d["index"] == default_in,
                default_output=d["index"] == default_out,
            )  # fmt: skip
        )
    return out


def find_audio_device(device: str | int | None, kind: str = "input") -> AudioDevice:
    """The device a configuration names (an index, a name or part of one; None: the default)."""
    devices = audio_devices()
    want = "input_channels" if kind == "input" else "output_channels"
    usable = [d for d in devices if getattr(d, want) > 0]
    if device is None:
        found = [d for d in usable if (d.default_input if kind == "input" else d.default_output)]
    elif isinstance(device, int):
        found = [d for d in usable if d.index == device]
    else:
        found = [d for d in usable if d.name == device] or [d for d in usable if device.lower() in d.name.lower()]
    if not found:
        names = ", ".join(f"{d.index}: {d.name}" for d in usable) or "không có / none"
        raise DeviceError(
            f"Không tìm thấy thiết bị {'thu' if kind == 'input' else 'phát'} âm “{device}”. Có: {names}",
            f"No audio {kind} device “{device}”. Available: {names}", device=str(device), kind=kind,
        )  # fmt: skip
    return found[0]


def video_devices() -> list[str]:
    return sorted(glob.glob("/dev/video*"))


def probe_camera(url: str, format: str | None = None, timeout_s: float = 5.0) -> CameraInfo:
    """Open the camera, read one frame, and say what it sends."""
    import av

    fmt = format or ("v4l2" if url.startswith("/dev/video") else None)
    started = time.monotonic()
    try:
        with av.open(url, format=fmt, timeout=(timeout_s, timeout_s)) as c:
            stream = c.streams.video[0]
            for frame in c.decode(stream):
                rate = float(stream.average_rate) if stream.average_rate else None
                return CameraInfo(url, True, frame.width, frame.height, stream.codec_context.name, rate,
                                  f"{(time.monotonic() - started) * 1000:.0f} ms")  # fmt: skip
            return CameraInfo(url, False, detail="no frame")
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        return CameraInfo(url, False, detail=str(exc)[:200])
