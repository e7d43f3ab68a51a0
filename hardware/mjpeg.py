"""An MJPEG-over-HTTP "IP camera" on this machine: a video file (or still images) served as
``multipart/x-mixed-replace`` JPEG frames at real-time pace, looped, to any number of viewers.
The stand-in for a room camera in tests and demos; the room reads it through PyAV exactly as it
reads a real IP camera. ``meeting-room fake-camera`` runs one."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)
BOUNDARY = "frame"


def _jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def frames_of(source: Path | Sequence[np.ndarray | Path], fps: float = 10.0, max_frames: int = 3000) -> list[bytes]:
    """JPEG frames from a video file, or from still images (each shown for one frame)."""
    if isinstance(source, Path) and source.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        import av

        out = []
        with av.open(str(source)) as c:
            for frame in c.decode(video=0):
                out.append(_jpeg(frame.to_ndarray(format="rgb24")))
                if len(out) >= max_frames:
                    break
        return out
    items: list[np.ndarray | Path] = [source] if isinstance(source, Path) else list(source)
    return [_jpeg(i if isinstance(i, np.ndarray) else np.asarray(Image.open(i).convert("RGB"))) for i in items]


class MjpegServer:
    """Serves ``frames`` (JPEG bytes) at ``fps`` on ``http://host:port/cam.mjpg``; port 0 picks one."""

    def __init__(self, frames: list[bytes], fps: float = 10.0, host: str = "127.0.0.1", port: int = 0) -> None:
        if not frames:
            raise ValueError("an MJPEG camera needs at least one frame")
        self.frames, self.fps = frames, fps
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/cam.mjpg":
                    self.send_error(404, "only /cam.mjpg")
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                start, i = time.monotonic(), 0
                try:
                    while not owner._stop.is_set():
                        jpg = owner.frames[i % len(owner.frames)]
                        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpg)}\r\n\r\n".encode()
                        self.wfile.write(head + jpg + b"\r\n")
                        self.wfile.flush()
                        i += 1
                        wait = start + i / owner.fps - time.monotonic()
                        if wait > 0:
                            owner._stop.wait(wait)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}/cam.mjpg"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="mjpeg", daemon=True)

    def start(self) -> MjpegServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Like pulling the camera's cable: open streams end, new connections are refused."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
