"""Cameras through PyAV: an MJPEG-over-HTTP camera on loopback that drops out and comes back."""

from __future__ import annotations

import time

import numpy as np

from hardware.camera import Camera
from hardware.config import CameraConfig
from hardware.devices import probe_camera
from hardware.microphone import DeviceState
from hardware.mjpeg import MjpegServer, frames_of


def _wait(cond, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_an_ip_camera_is_read_dropped_and_reconnected() -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    image[:, :160] = (200, 30, 30)
    server = MjpegServer(frames_of([image]), fps=10).start()
    port = server.httpd.server_address[1]
    info = probe_camera(server.url)
    assert info.ok and (info.width, info.height) == (320, 240) and info.codec == "mjpeg", info
    states: list[DeviceState] = []
    cam = Camera(CameraConfig("Toàn cảnh", server.url), lambda n, s, d: states.append(s), retry_s=0.2, max_retry_s=0.5)
    cam.start()
    try:
        frames = cam.frames()
        first = next(frames)
        assert first.image.shape == (240, 320, 3) and first.source == "Toàn cảnh"
        assert abs(int(first.image[120, 80, 0]) - 200) < 10 and abs(first.at - time.time()) < 1
        server.stop()  # the cable is pulled
        assert _wait(lambda: cam.state == DeviceState.LOST)
        server = MjpegServer(frames_of([image]), fps=10, port=port).start()
        assert _wait(lambda: cam.state == DeviceState.CONNECTED)
        seen = cam.frames_in
        assert _wait(lambda: cam.frames_in > seen + 5)
        assert states == [DeviceState.CONNECTED, DeviceState.LOST, DeviceState.CONNECTED] and cam.reconnects == 1
    finally:
        cam.stop()
        server.stop()
    assert not probe_camera(server.url, timeout_s=1).ok
