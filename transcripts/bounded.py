"""Work on a file someone else made in a process of its own, with a limit on its CPU time.

A PKCS#12 may declare billions of passphrase rounds, in places a check of its structure does not
reach (a bag inside a bag, the encrypted part, a PBMAC1 MAC: an attacker's probe found all three);
a PDF with a thousand form fields and fifty signatures took 55 s to verify, and any member may send
one. No rule on the file's shape foresees every such cost, so the work itself is bounded: it runs
in a spawned worker whose CPU time is capped per task (``RLIMIT_CPU``; the kernel stops it at the
cap), at low priority, one task at a time; a task that overruns kills the worker, and the next one
starts a fresh worker.
"""

from __future__ import annotations

import math
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing import get_context
from typing import TypeVar

from hardware.workers import stop_now

T = TypeVar("T")


class Overrun(Exception):
    """The task used up its CPU time or its wall time (``crashed``: the worker died sooner than its CPU
    time could have run out: it could not start, or was killed); the caller says what it was."""

    def __init__(self, why: str, *, crashed: bool = False) -> None:
        super().__init__(why)
        self.crashed = crashed


def _lower_priority() -> None:
    os.nice(10)  # the live captions and the votes come first


def _capped(cpu_s: int, fn: Callable[..., T], *args: object) -> T:
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(used.ru_utime + used.ru_stime + cpu_s)  # the worker's own time so far, plus this task's
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    return fn(*args)


class Bounded:
    """One worker process, used one task at a time; ``run`` waits ``wall_s`` at most for its turn
    and as long again for the task."""

    def __init__(self, cpu_s: int, wall_s: float) -> None:
        self.cpu_s = cpu_s
        self.wall_s = wall_s
        self._turn = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., T], *args: object) -> T:
        if not self._turn.acquire(timeout=self.wall_s):
            raise Overrun("busy")
        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_lower_priority)
            started = time.monotonic()
            future = self._pool.submit(_capped, self.cpu_s, fn, *args)
            try:
                return future.result(timeout=self.wall_s)
            except (BrokenExecutor, FutureTimeout) as exc:
                self._kill()
                crashed = isinstance(exc, BrokenExecutor) and time.monotonic() - started < self.cpu_s
                raise Overrun("the worker died" if crashed else "over its time", crashed=crashed) from None
        finally:
            self._turn.release()

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            stop_now(pool)
