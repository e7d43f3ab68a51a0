"""Continuous, crash-safe recording of a room input: FLAC segments of a few seconds, each written
to a temporary name, synced and renamed, so that a file on disk is always complete. A crash loses
the segment being filled (at most ``segment_s`` plus what was queued for the disk), nothing before.

Each segment is named after the wall-clock time of its first sample (``<input>-<ms>.flac``): after
an outage (a device pulled, a server restart) recording resumes in the same folder, and
``assemble`` puts the pieces back on one timeline, with silence where audio is missing, into one
seekable FLAC file for the archive. FLAC holds up to 8 channels per file.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardware.errors import RecordingError
from hardware.media import AudioChunk

log = logging.getLogger(__name__)
MAX_CHANNELS = 8
_SEGMENT = re.compile(r"^(?P<name>.+)-(?P<ms>\d{13})\.flac$")


@dataclass(frozen=True)
class Segment:
    path: Path
    wall: float  # time.time() of the first sample
    frames: int
    sample_rate: int
    channels: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


@dataclass
class RecorderStats:
    segments: int = 0
    written_s: float = 0.0
    dropped_s: float = 0.0  # the disk could not keep up
    encode_ms: list[float] = field(default_factory=list)


class SegmentRecorder:
    """Not thread-safe on the writing side: one feeder (the input's dispatcher). Encoding and disk
    writes run on the recorder's own thread behind a bounded queue."""

    def __init__(self, folder: Path, name: str, channels: int, sample_rate: int, segment_s: float = 5.0, queue_segments: int = 24) -> None:
        if not 1 <= channels <= MAX_CHANNELS:
            raise RecordingError(
                f"Ghi âm FLAC tối đa {MAX_CHANNELS} kênh mỗi đầu vào (có {channels})",
                f"FLAC recording holds at most {MAX_CHANNELS} channels per input (got {channels})", channels=channels,
            )  # fmt: skip
        if not re.fullmatch(r"[\w.-]{1,60}", name):
            raise RecordingError(f"Tên đầu vào “{name}” không dùng được làm tên tệp", f"Input name {name!r} cannot name a file", name=name)
        self.folder, self.name, self.channels, self.sample_rate = Path(folder), name, channels, sample_rate
        self.segment_frames = int(segment_s * sample_rate)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(f"Không tạo được thư mục ghi âm {folder}: {exc}", f"Cannot create {folder}: {exc}") from None
        for stale in self.folder.glob(f"{name}-*.flac.part"):  # a segment a crash left half-written
            stale.unlink(missing_ok=True)
        self.stats = RecorderStats()
        self._parts: list[np.ndarray] = []
        self._frames = 0
        self._wall: float | None = None
        self._queue: queue.Queue[tuple[float, np.ndarray] | None] = queue.Queue(maxsize=queue_segments)
        self._thread = threading.Thread(target=self._write_loop, name=f"rec-{name}", daemon=True)
        self._thread.start()

    def write(self, block: AudioChunk) -> None:
        if block.samples.shape[1] != self.channels or block.sample_rate != self.sample_rate:
            raise RecordingError(
                f"Khối âm thanh {block.samples.shape[1]} kênh {block.sample_rate} Hz, "
                f"bộ ghi cần {self.channels} kênh {self.sample_rate} Hz",
                f"Block of {block.samples.shape[1]} channels at {block.sample_rate} Hz; "
                f"the recorder takes {self.channels} at {self.sample_rate}",
            )  # fmt: skip
        if self._wall is not None and abs(block.start - (self._wall + self._frames / self.sample_rate)) > 0.25:
            self._cut()  # a gap (the device was away): the next segment starts at the block's own time
        if self._wall is None:
            self._wall = block.start
        self._parts.append(block.samples)
        self._frames += len(block.samples)
        if self._frames >= self.segment_frames:
            self._cut()

    def close(self) -> RecorderStats:
        self._cut()
        self._queue.put(None)
        self._thread.join()
        return self.stats

    def _cut(self) -> None:
        if not self._parts or self._wall is None:
            return
        data = np.concatenate(self._parts)
        wall = self._wall
        self._parts, self._frames, self._wall = [], 0, None
        try:
            self._queue.put_nowait((wall, data))
        except queue.Full:
            self.stats.dropped_s += len(data) / self.sample_rate
            log.error("recorder %s: the disk is not keeping up; %.1f s lost so far", self.name, self.stats.dropped_s)

    def _write_loop(self) -> None:
        while (item := self._queue.get()) is not None:
            wall, data = item
            started = time.perf_counter()
            path = self.folder / f"{self.name}-{int(round(wall * 1000)):013d}.flac"
            try:
                write_flac(path, data, self.sample_rate)
            except (OSError, RecordingError) as exc:
                self.stats.dropped_s += len(data) / self.sample_rate
                log.error("recorder %s: cannot write %s: %s", self.name, path.name, exc)
                continue
            self.stats.segments += 1
            self.stats.written_s += len(data) / self.sample_rate
            self.stats.encode_ms.append((time.perf_counter() - started) * 1000)


def write_flac(path: Path, data: np.ndarray, sample_rate: int) -> None:
    """``data`` (frames, channels) float32 as a complete FLAC file, atomically: written beside as
    ``.part``, synced, renamed, the folder synced."""
    import av

    part = path.with_name(path.name + ".part")
    pcm = (np.clip(data, -1.0, 1.0) * 32767).astype("<i2")
    channels = pcm.shape[1]
    try:
        with av.open(str(part), "w", format="flac") as out:
            stream = out.add_stream("flac", rate=sample_rate, layout=_layout(channels))
            stream.format = "s16"
            step = 4608
            for i in range(0, len(pcm), step):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm[i : i + step]).reshape(1, -1), format="s16", layout=_layout(channels)
                )
                frame.sample_rate = sample_rate
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except av.error.FFmpegError as exc:
        part.unlink(missing_ok=True)
        raise RecordingError(f"Không mã hoá được {path.name}: {exc}", f"Cannot encode {path.name}: {exc}") from None


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}[channels]


def segments(folder: Path, name: str) -> list[Segment]:
    """The complete segments of input ``name`` in ``folder``, oldest first."""
    import av

    found = []
    for path in Path(folder).glob(f"{name}-*.flac"):
        m = _SEGMENT.match(path.name)
        if m is None or m["name"] != name:
            continue
        try:
            with av.open(str(path)) as c:
                s = c.streams.audio[0]
                frames = (
                    int(s.duration * s.time_base * s.sample_rate) if s.duration and s.time_base else sum(f.samples for f in c.decode(s))
                )
                found.append(Segment(path, int(m["ms"]) / 1000, frames, s.sample_rate, s.codec_context.channels))
        except (av.error.FFmpegError, IndexError) as exc:
            log.warning("recording %s: segment %s unreadable, skipped: %s", name, path.name, exc)
    return sorted(found, key=lambda s: s.wall)


def inputs(folder: Path) -> list[str]:
    """The input names that have segments in ``folder``."""
    return sorted({m["name"] for p in Path(folder).glob("*.flac") if (m := _SEGMENT.match(p.name))})


@dataclass(frozen=True)
class Assembled:
    path: Path
    start_wall: float
    duration_s: float
    channels: int
    sample_rate: int
    segments: int
    gaps: tuple[tuple[float, float], ...]  # (at second, missing seconds), for the record


def assemble(folder: Path, name: str, out: Path, start_wall: float | None = None) -> Assembled:
    """Join the segments of ``name`` into one FLAC file ``out`` on the wall-clock timeline from
    ``start_wall`` (default: the first segment), silence filling what is missing. Streams segment by
    segment: an hours-long meeting never sits in memory."""
    import av

    parts = segments(folder, name)
    if not parts:
        raise RecordingError(f"Không có đoạn ghi âm nào của {name} trong {folder}", f"No segments of {name} in {folder}", name=name)
    rate, channels = parts[0].sample_rate, parts[0].channels
    start = parts[0].wall if start_wall is None else min(start_wall, parts[0].wall)
    part = out.with_name(out.name + ".part")
    gaps: list[tuple[float, float]] = []
    written = 0  # frames
    with av.open(str(part), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout=_layout(channels))
        stream.format = "s16"

        def put(pcm: np.ndarray) -> None:
            nonlocal written
            for i in range(0, len(pcm), 4608):
                piece = np.ascontiguousarray(pcm[i : i + 4608])
                frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout=_layout(channels))
                frame.sample_rate, frame.pts = rate, written
                written += len(piece)
                for packet in stream.encode(frame):
                    container.mux(packet)

        for seg in parts:
            if seg.sample_rate != rate or seg.channels != channels:
                log.warning("recording %s: %s has a different format, skipped", name, seg.path.name)
                continue
            at = int(round((seg.wall - start) * rate))
            if at - written > rate // 50:  # more than 20 ms missing
                gaps.append((round(written / rate, 2), round((at - written) / rate, 2)))
                silence = np.zeros((at - written, channels), "<i2")
                put(silence)
            skip = max(0, written - at)  # overlaps by clock jitter: drop the repeated start
            with av.open(str(seg.path)) as c:
                s = c.streams.audio[0]
                for frame in c.decode(s):
                    pcm = frame.to_ndarray().reshape(-1, channels) if frame.format.is_packed else frame.to_ndarray().T
                    if skip:
                        cut = min(skip, len(pcm))
                        pcm, skip = pcm[cut:], skip - cut
                    if len(pcm):
                        put(pcm.astype("<i2", copy=False))
        for packet in stream.encode(None):
            container.mux(packet)
    os.replace(part, out)
    return Assembled(out, start, written / rate, channels, rate, len(parts), tuple(gaps))
