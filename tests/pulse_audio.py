"""A real-time virtual microphone for tests: a PulseAudio daemon of our own with a null sink whose
monitor is the default input (../shared/ENVIRONMENT.md). Whatever ``play`` sends to the sink comes
out of sounddevice/PortAudio in real time, through the same code as a room's audio interface.
``unplug`` removes the device, ``plug`` brings it back. (Killing the daemon under an open stream
is not done: PortAudio's ALSA thread then spins on the dead connection until the process exits.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np


class VirtualMicrophone:
    def __init__(self, folder: Path, channels: int = 2, rate: int = 48000) -> None:
        self.folder, self.channels, self.rate = folder, channels, rate
        self.socket = folder / "native"
        self.env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}", "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder / "run")}
        (folder / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / "fake.pa").write_text(
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}\n"
            f"load-module module-null-sink sink_name=fakemic rate={rate} channels={channels}\n"
            "set-default-sink fakemic\nset-default-source fakemic.monitor\n"
        )
        self.daemon: subprocess.Popen[bytes] | None = None
        self._players: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def available() -> str | None:
        """Why not, or None when PulseAudio and PortAudio are installed."""
        for tool in ("pulseaudio", "paplay", "pactl"):
            if shutil.which(tool) is None:
                return f"{tool} is not installed (Debian pulseaudio pulseaudio-utils)"
        try:
            import sounddevice  # noqa: F401
        except OSError as exc:
            return f"PortAudio: {exc}"
        return None

    def start(self, timeout: float = 10.0) -> None:
        cmd = ["pulseaudio", "-n", "-F", str(self.folder / "fake.pa"), "--exit-idle-time=-1", "--daemonize=no", "--use-pid-file=no"]
        self.daemon = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(["pactl", "info"], env=self.env, capture_output=True)
            if r.returncode == 0:
                os.environ["PULSE_SERVER"] = self.env["PULSE_SERVER"]  # for sounddevice in this process
                from hardware.microphone import rescan

                rescan()
                return
            time.sleep(0.1)
        raise RuntimeError("PulseAudio did not start")

    def stop(self) -> None:
        for p in self._players:
            p.kill()
        self._players.clear()
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait()
            self.daemon = None

    def unplug(self) -> None:
        """The device disappears (as a USB interface pulled out): the sink and its monitor go away."""
        subprocess.run(["pactl", "unload-module", "module-null-sink"], env=self.env, check=True, capture_output=True)

    def plug(self) -> None:
        """The device is back."""
        args = ["pactl", "load-module", "module-null-sink", "sink_name=fakemic", f"rate={self.rate}", f"channels={self.channels}"]
        subprocess.run(args, env=self.env, check=True, capture_output=True)
        subprocess.run(["pactl", "set-default-source", "fakemic.monitor"], env=self.env, check=True, capture_output=True)

    def play(self, path: Path) -> subprocess.Popen[bytes]:
        """Start playing a WAV into the virtual microphone (returns at once)."""
        p = subprocess.Popen(["paplay", "--device=fakemic", str(path)], env=self.env)
        self._players.append(p)
        return p


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """(frames, channels) float32 as 16-bit PCM WAV."""
    data = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    return path
