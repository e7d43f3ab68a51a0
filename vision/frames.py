"""Frames and where they come from: one interface for a room camera, a remote participant's video
and a video file. Sources yield ``Frame``s (``hardware.media``, with ``VideoSource``, the file and
camera decoder); here: a slideshow as a source, ``sample`` keeps a rate the CPU can sustain, and
``reconnecting`` survives a camera that drops."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from hardware.errors import SourceError
from hardware.media import Frame, FrameSource
from vision.image import load_image

log = logging.getLogger(__name__)


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
