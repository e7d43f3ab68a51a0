"""Stopping a pool of worker processes now, not when their work is done."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers and wait for them (10 s each at most). Work still running or queued
    fails with ``BrokenProcessPool``; waiting for it instead could take as long as its task, which
    for someone else's file or a busy machine is what the caller wanted to cut short."""
    workers = list(pool._processes.values())  # Python 3.11 has no terminate_workers() (3.14)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.kill()
    for process in workers:
        process.join(timeout=10)
