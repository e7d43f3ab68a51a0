"""The media vocabulary that producers (``hardware``, ``webrtc``) and consumers (``speech``,
``vision``) share: one audio chunk type, one frame type and the one file decoder.

Audio in: any file FFmpeg reads (wav, mp3, flac, ogg/opus, m4a, the audio track of a video) as
16 kHz mono float32, in chunks, so that an hours-long recording is never held whole in memory.
Live sources (a room microphone, a remote participant, a file replay) produce the same
``AudioChunk``s. Video in: a room camera, a remote participant's video and a video file all yield
the same ``Frame``s.

It sits at the bottom of the domain packages (README: "Who imports whom") and imports none of them.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from hardware.errors import AudioError, SourceError

if TYPE_CHECKING:  # PyAV loads when a file is opened
    from av.audio.stream import AudioStream
    from av.container import InputContainer

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray  # float32 in [-1, 1]: mono (n,), or (n, channels) as a device captures them
    start: float  # seconds on the source's clock: from the file's beginning, or time.time() of the first live sample
    source: str = ""
    channel: int | None = None  # the microphone channel (one per seat), when known
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    channels: int
    sample_rate: int
    codec: str


def probe(path: str | Path) -> AudioInfo:
    """What the file's first audio stream is; refuses missing, empty and non-audio files, and a stream
    whose decoder does not open (a WAV declaring 1,000 channels read as 0 channels here, and was kept
    as one, to fail at its transcription)."""
    import av

    with _open(path) as container:
        stream = _audio_stream(container, path)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = float(container.duration or 0) / 1_000_000
        ctx = stream.codec_context
        try:
            ctx.open()
        except av.error.FFmpegError as exc:
            raise AudioError(
                f"Không giải mã được âm thanh của {Path(path).name}", f"The audio of {Path(path).name} cannot be decoded", reason=str(exc)
            ) from None
        if not ctx.channels:
            raise AudioError(f"{Path(path).name} không có kênh âm thanh nào", f"{Path(path).name} has no audio channel", path=str(path))
        return AudioInfo(duration, int(ctx.channels), int(ctx.sample_rate or 0), str(ctx.name))


def probe_duration(path: str | Path) -> float:
    """The duration of the file's first audio stream in seconds (0.0 when unknown)."""

    with _open(path) as container:
        stream = _audio_stream(container, path)
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1_000_000


def measure_duration(path: str | Path) -> float:
    """The first audio stream's length as its packets say (demuxed, not decoded: fast even for hours),
    to hold against the header's ``probe`` duration."""
    import av

    with _open(path) as container:
        stream = _audio_stream(container, path)
        start = end = total = 0
        first = None
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the flush packet at the end
                total += packet.duration or 0
                if packet.pts is not None:
                    first = packet.pts if first is None else min(first, packet.pts)
                    end = max(end, packet.pts + (packet.duration or 0))
        except av.error.FFmpegError as exc:
            raise AudioError(
                f"{Path(path).name} bị hỏng giữa chừng", f"{Path(path).name} is damaged part-way through", reason=str(exc)
            ) from None
        start = first if first is not None else 0
        ticks = end - start if end > start else total
        return float(ticks * stream.time_base) if stream.time_base is not None else 0.0


# The containers a recording or a voice sample may be in (FFmpeg's demuxer names; "mov" covers MP4 and
# M4A, "matroska" WebM). Not every format FFmpeg reads: a playlist or concat file (ffconcat, HLS)
# names other files, and an upload would open another meeting's recording on the server.
FILE_FORMATS = "wav,w64,mp3,flac,ogg,mov,matroska,aac,aiff,asf,avi,mpegts,amr,caf,wv"


def _open(path: str | Path) -> InputContainer:
    import av

    p = Path(path)
    if not p.is_file():
        raise AudioError(f"Không có tệp {p}", f"No file {p}", path=str(p))
    if p.stat().st_size == 0:
        raise AudioError(f"Tệp {p.name} rỗng", f"The file {p.name} is empty", path=str(p))
    try:
        return av.open(str(p), options={"format_whitelist": FILE_FORMATS, "protocol_whitelist": "file"})
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise AudioError(
            f"Không đọc được {p.name} như tệp âm thanh hoặc video", f"{p.name} is not an audio or video file we can read", reason=str(exc)
        ) from None


def _audio_stream(container: InputContainer, path: str | Path) -> AudioStream:
    if not container.streams.audio:
        raise AudioError(f"{Path(path).name} không có âm thanh", f"{Path(path).name} has no audio track", path=str(path))
    return container.streams.audio[0]


def decode(
    path: str | Path, rate: int = SAMPLE_RATE, *, channel: int | None = None, channels: int | None = None, strict: bool = False
) -> Generator[np.ndarray, None, None]:
    """The one audio file decoder: the first audio stream resampled to ``rate``, as float32 arrays as
    they decode. Mono by default (all channels mixed); ``channel`` picks one; ``channels=n`` keeps the
    first n as columns, ``(frames, n)`` (a room recording replayed as its audio interface). A damaged
    tail ends the stream (what decoded is kept), or with ``strict`` raises ``AudioError``."""
    import av

    container = _open(path)
    try:
        stream = _audio_stream(container, path)
        have = int(stream.codec_context.channels or 1)
        if channel is not None and not 0 <= channel < have:
            raise AudioError(
                f"{Path(path).name} có {have} kênh; không có kênh {channel}",
                f"{Path(path).name} has {have} channel(s); there is no channel {channel}",
                channels=have,
            )
        if channels is not None and have < channels:
            raise AudioError(
                f"Tệp {Path(path).name} có {have} kênh, cấu hình cần {channels}",
                f"{Path(path).name} has {have} channels, the configuration needs {channels}",
                file=str(path), channels=have,
            )  # fmt: skip
        if channel is None and channels is None:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        else:
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate)

        def samples_of(out: av.AudioFrame) -> np.ndarray:
            data = out.to_ndarray()
            if channels is not None:
                return np.ascontiguousarray(data[:channels].T)
            data = data.reshape(-1) if channel is None else data[channel]
            return data.astype(np.float32, copy=False)

        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield samples_of(out)
        except av.error.FFmpegError as exc:
            if strict:
                raise AudioError(f"Tệp {path} hỏng: {exc}", f"{path} is damaged: {exc}", file=str(path)) from None
            # a truncated or damaged tail: keep what decoded
        for out in resampler.resample(None):
            yield samples_of(out)
    finally:
        container.close()


def read_chunks(
    path: str | Path, chunk_s: float = 30.0, source: str | None = None, *, channel: int | None = None, start_s: float = 0.0
) -> Iterator[AudioChunk]:
    """Decode and resample as it goes; each chunk holds ``chunk_s`` seconds (the last may be shorter).
    ``channel`` picks one microphone of a multi-channel recording (else all are mixed to mono);
    ``start_s`` skips the beginning (resuming). A file cut short yields what was readable, then stops."""
    name = source or Path(path).name
    size = int(chunk_s * SAMPLE_RATE)
    skip = int(start_s * SAMPLE_RATE)
    buffer: list[np.ndarray] = []
    held = 0
    position = skip
    blocks = decode(path, SAMPLE_RATE, channel=channel)
    try:
        for data in blocks:
            if skip:
                dropped = min(skip, len(data))
                data, skip = data[dropped:], skip - dropped
            buffer.append(data)
            held += len(data)
            while held >= size:
                joined = np.concatenate(buffer)
                yield AudioChunk(joined[:size], position / SAMPLE_RATE, name, channel)
                position += size
                buffer, held = [joined[size:]], len(joined) - size
    finally:
        blocks.close()
    rest = np.concatenate(buffer) if buffer else np.zeros(0, np.float32)
    if len(rest):
        yield AudioChunk(rest, position / SAMPLE_RATE, name, channel)


def read_all(path: str | Path, max_s: float | None = None, channel: int | None = None) -> np.ndarray:
    """The whole file (or its first ``max_s`` seconds) as one array: for short clips only."""
    parts = []
    for chunk in read_chunks(path, channel=channel):
        parts.append(chunk.samples)
        if max_s is not None and chunk.end >= max_s:
            break
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return audio[: int(max_s * SAMPLE_RATE)] if max_s is not None else audio


# --- video ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # RGB uint8 (H, W, 3)
    at: float  # seconds on the source's clock (media time for files, monotonic time for live sources)
    source: str  # the camera's name


class FrameSource(Protocol):
    name: str

    def frames(self) -> Iterator[Frame]: ...


class VideoSource:
    """Any input FFmpeg opens through PyAV: a video file, an RTSP or MJPEG-over-HTTP camera, a V4L2
    device (``/dev/video0`` with ``format="v4l2"``). ``realtime=True`` paces a file like a camera."""

    def __init__(
        self, url: str | Path, name: str | None = None, *, realtime: bool = False, format: str | None = None, timeout_s: float = 10.0
    ) -> None:
        self.url = str(url)
        self.name = name or Path(self.url).name
        self.realtime = realtime
        self.format = format
        self.timeout_s = timeout_s

    def frames(self) -> Iterator[Frame]:
        import av

        try:
            container = av.open(self.url, format=self.format, timeout=(self.timeout_s, self.timeout_s))
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceError(
                f"Không mở được nguồn hình {self.name}: {exc}", f"Cannot open the video source {self.name}: {exc}", source=self.url
            ) from None
        start = time.monotonic()
        try:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                at = float(frame.time) if frame.time is not None else time.monotonic() - start
                if self.realtime:
                    ahead = at - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
                yield Frame(frame.to_ndarray(format="rgb24"), at, self.name)
        except av.error.FFmpegError as exc:
            raise SourceError(
                f"Nguồn hình {self.name} ngừng gửi: {exc}", f"The video source {self.name} stopped: {exc}", source=self.url
            ) from None
        finally:
            container.close()
