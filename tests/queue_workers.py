"""Transcription workers as the operator runs them (``meeting-room worker``), each its own process,
for the job-queue tests and benchmark: started, found in the queue's records, killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.2) -> None:
    """Wait until ``condition()`` is true; fail naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def libpq(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class Worker:
    def __init__(self, config: Path, log: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0", **(env or {})}
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "meeting_room", "--config", str(config), "worker", "--name", name],
                cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def took(self, pass_id: str) -> int:
        """How many tries of this pass the worker began."""
        return sum(1 for line in self.output().splitlines() if f"final pass {pass_id} of meeting" in line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill9()


def live_workers(database_url: str, stalled_s: float) -> int:
    """Workers whose heartbeat is fresh, by the queue's own records."""
    with psycopg.connect(libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => %s)", (stalled_s,)
        ).fetchone()
        return int(row[0]) if row else 0
