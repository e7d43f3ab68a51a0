"""A pool's workers are stopped at once, whatever they are doing."""

from __future__ import annotations

import time
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from hardware.workers import stop_now
from tests.processes import ended


def test_a_busy_pool_is_stopped_without_waiting_for_its_work() -> None:
    pool = ProcessPoolExecutor(2, mp_context=get_context("spawn"))
    running = pool.submit(time.sleep, 300)
    queued = [pool.submit(time.sleep, 300) for _ in range(3)]
    workers = list(pool._processes.values())
    assert len(workers) == 2
    started = time.monotonic()
    stop_now(pool)
    assert time.monotonic() - started < 60  # not the 300 s its work would take
    assert all(process.pid for process in workers)
    assert all(ended(process.pid) for process in workers if process.pid is not None)
    with pytest.raises(BrokenExecutor):
        running.result(timeout=60)
    assert all(future.cancelled() or future.exception(timeout=60) is not None for future in queued)
    with pytest.raises(RuntimeError):
        pool.submit(time.sleep, 1)  # the pool takes no more work
