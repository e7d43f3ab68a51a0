"""Frames and where they come from: one interface for a room camera, a remote participant's video
and a video file. Sources yield ``Frame``s; ``sample`` keeps a rate the CPU can sustain."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from vision.errors import SourceError
from vision.image import load_image

log = logging.getLogger(__name__)


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


class ImageSequence:
    """Still images shown one after another at ``fps`` (a slideshow as a camera; also for tests)."""

    def __init__(self, images: Iterable[np.ndarray | str | Path], name: str = "ảnh", fps: float = 2.0, realtime: bool = False) -> None:
        self.images = list(images)
        self.name = name
        self.fps = fps
        self.realtime = realtime

    def frames(self) -> Iterator[Frame]:
        start = time.monotonic()
        for i, item in enumerate(self.images):
            at = i / self.fps
            if self.realtime:
                time.sleep(max(0.0, at - (time.monotonic() - start)))
            image = item if isinstance(item, np.ndarray) else load_image(item)
            yield Frame(image, at, self.name)


def sample(frames: Iterable[Frame], fps: float) -> Iterator[Frame]:
    """At most ``fps`` frames per second of source time; the rest are skipped, not queued."""
    step = 1.0 / fps
    next_at: float | None = None
    for frame in frames:
        if next_at is None or frame.at >= next_at - 1e-6:
            next_at = frame.at + step
            yield frame


def reconnecting(open_source: Callable[[], FrameSource], *, retry_s: float = 2.0, max_retry_s: float = 30.0,
                 should_stop: Callable[[], bool] = lambda: False) -> Iterator[Frame]:  # fmt: skip
    """Frames from a live source that may drop out: each failure or end is logged and the source is
    reopened after a growing pause, until ``should_stop`` says so. Never raises on a lost camera."""
    pause = retry_s
    while not should_stop():
        source = None
        try:
            source = open_source()
            got_any = False
            for frame in source.frames():
                got_any = True
                pause = retry_s
                yield frame
                if should_stop():
                    return
            log.warning("camera %s: the stream ended; reconnecting in %.0f s", getattr(source, "name", "?"), pause)
            if not got_any:
                pause = min(max_retry_s, pause * 2)
        except SourceError as exc:
            log.warning("camera %s: %s; reconnecting in %.0f s", getattr(source, "name", "?"), exc.message_en, pause)
            pause = min(max_retry_s, pause * 2)
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not should_stop():
            time.sleep(0.1)
