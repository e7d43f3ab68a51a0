"""The server as it ships, in its own process, for the benchmarks that speak HTTP to it.

HTTPS is the default, so the benchmarks do what a tablet does: trust the local CA that the server
keeps in its data directory (made here, before the start, by the same function the server calls)
and verify the certificate on every request and WebSocket. Nothing turns verification off.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2 as httpx

from meeting_room.operations.tls import ensure_tls
from meeting_room.settings import load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[bytes]
    base: str  # https://127.0.0.1:PORT
    tls: ssl.SSLContext  # trusts the server's local CA only

    @property
    def ws_base(self) -> str:
        return "wss" + self.base.removeprefix("https")

    def cpu_s(self) -> float:
        """CPU seconds the server process has used so far (user + system, all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(data_dir: Path | str, env: Mapping[str, str] | None = None, log: IO[str] | None = None, wait_s: float = 90) -> Iterator[Served]:
    """``meeting-room serve`` on a free loopback port with ``data_dir`` (and the extra ``env``
    settings), up and answering /api/health over verified HTTPS; stopped afterwards."""
    environ = {**os.environ, "MEETING_ROOM_DATA_DIR": str(data_dir), "MEETING_ROOM_LOG_LEVEL": "warning", **(env or {})}
    ensure_tls(load_settings(data_dir=Path(data_dir)))  # the local CA the server will use, as its first start makes it
    tls = ssl.create_default_context(cafile=str(Path(data_dir) / "tls" / "ca.crt"))
    port = free_port()
    out = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "meeting_room", "serve", "--port", str(port)], env=environ, stdout=out, stderr=log)
    served = Served(process, f"https://127.0.0.1:{port}", tls)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if httpx.get(served.base + "/api/health", timeout=2, verify=tls).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not come up (exit code {process.poll()})")
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
