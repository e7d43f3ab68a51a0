"""Room cameras: each captured on its own thread (PyAV: V4L2, RTSP, MJPEG over HTTP, files), only
the newest frames kept (a face recogniser that is busy skips frames, it never queues them), the
camera reopened when it drops out, and every change of state reported."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from hardware.config import CameraConfig
from hardware.errors import SourceError
from hardware.media import Frame, VideoSource
from hardware.microphone import DeviceState, Reporting, StateCallback

log = logging.getLogger(__name__)


class Camera(Reporting):
    kind = "camera"

    def __init__(
        self, config: CameraConfig, on_state: StateCallback | None = None, *, keep: int = 2,
        retry_s: float = 1.0, max_retry_s: float = 10.0, timeout_s: float = 5.0,
    ) -> None:  # fmt: skip
        self.config = config
        self.name = config.name
        self.on_state = on_state
        self.state = DeviceState.STARTING
        self.detail = ""
        self.frames_in = 0
        self.reconnects = 0
        self.retry_s, self.max_retry_s, self.timeout_s = retry_s, max_retry_s, timeout_s
        self._latest: deque[Frame] = deque(maxlen=keep)
        self.on_frame: Callable[[Frame], None] | None = None  # every frame, on the capture thread (keep it quick)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"cam-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 2)
        self._set(DeviceState.STOPPED, "")

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def frames(self, until: Callable[[], bool] = lambda: False) -> Iterator[Frame]:
        """The newest frames as they come, until stopped, ``until()`` or a file's end; older ones are
        dropped. Times are wall-clock seconds, so a reconnect does not make time run backwards."""
        while not until():
            with self._cond:
                while not self._latest and not self._stop.is_set() and self.state != DeviceState.ENDED and not until():
                    self._cond.wait(0.5)
                if not self._latest:
                    return
                frame = self._latest.popleft()
            yield frame

    def _source(self) -> VideoSource:
        c = self.config
        return VideoSource(c.url, c.name, realtime=c.realtime, format=c.format, timeout_s=self.timeout_s)

    def _run(self) -> None:
        pause = self.retry_s
        ever = False
        while not self._stop.is_set():
            got = False
            try:
                for frame in self._source().frames():
                    if not got:
                        got = True
                        if ever:
                            self.reconnects += 1
                        ever = True
                        pause = self.retry_s
                        h, w = frame.image.shape[:2]
                        self._set(DeviceState.CONNECTED, f"{w}x{h}")
                    self.frames_in += 1
                    stamped = Frame(frame.image, time.time(), self.name)
                    with self._cond:
                        self._latest.append(stamped)
                        self._cond.notify_all()
                    if self.on_frame is not None:
                        try:
                            self.on_frame(stamped)
                        except Exception:
                            log.exception("camera %s: frame listener failed", self.name)
                    if self._stop.is_set():
                        return
                if self.config.url and not self.config.url.startswith(("/dev/", "rtsp:", "http:", "https:")) and not self.config.loop:
                    self._set(DeviceState.ENDED, "hết tệp / end of file")
                    with self._cond:
                        self._cond.notify_all()
                    return
                if not self.config.loop or not got:
                    self._set(DeviceState.LOST, "camera ngừng gửi hình / the camera stopped sending")
            except SourceError as exc:
                self._set(DeviceState.LOST, exc.message_en[:200])
            except Exception as exc:  # a decoder surprise must not end the thread
                log.exception("camera %s", self.name)
                self._set(DeviceState.LOST, str(exc)[:200])
            if self.state == DeviceState.LOST:
                self._stop.wait(pause)
                pause = min(self.max_retry_s, pause * 2)
