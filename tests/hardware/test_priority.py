"""The CPU ladder: the server, then its threads that compute for seconds (live captions, work that
may wait), then worker processes that share nothing with it."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hardware import priority

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are Linux's")


def _on_a_thread(lower: Callable[[], None]) -> dict[str, int]:
    """Lower a thread of its own with ``lower``, start a thread from it (as a model's compute
    threads are) and read both threads' policy and nice value."""
    seen: dict[str, int] = {}

    def child() -> None:
        tid = threading.get_native_id()
        seen["child_policy"], seen["child_nice"] = os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)

    def run() -> None:
        lower()
        tid = threading.get_native_id()
        seen["policy"], seen["nice"] = os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)
        started = threading.Thread(target=child)
        started.start()
        started.join()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return seen


@pytest.mark.parametrize("lower", [priority.live, priority.background], ids=["live", "background"])
def test_threads_that_compute_for_seconds_yield_to_the_server_and_so_do_the_threads_they_start(lower: Callable[[], None]) -> None:
    here = threading.get_native_id()
    server = os.getpriority(os.PRIO_PROCESS, here)
    if server >= 19:
        pytest.skip("the tests run at nice 19 already: nothing lower to see")
    seen = _on_a_thread(lower)
    # niced, never SCHED_IDLE: a thread of the server holds Python's lock and the store's (no inversion)
    assert seen["policy"] == seen["child_policy"] == os.SCHED_OTHER, seen
    assert seen["nice"] == seen["child_nice"] == 19, seen
    assert os.getpriority(os.PRIO_PROCESS, here) == server  # the caller's thread: untouched


def _policy_of_an_idle_process(out: multiprocessing.queues.Queue[tuple[int, int]]) -> None:
    priority.idle_process()
    seen: list[int] = []
    started = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(threading.get_native_id())))
    started.start()
    started.join()
    out.put((os.sched_getscheduler(0), seen[0]))


def test_a_worker_process_runs_on_what_the_server_leaves() -> None:
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.queues.Queue[tuple[int, int]] = context.Queue()
    worker = context.Process(target=_policy_of_an_idle_process, args=(out,))
    worker.start()
    try:
        assert out.get(timeout=60) == (os.SCHED_IDLE, os.SCHED_IDLE)  # and the threads it starts
    finally:
        worker.join(timeout=30)
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # this process: untouched


def _nice_of_a_background_process(out: multiprocessing.queues.Queue[list[int]]) -> None:
    before = threading.Event()
    stop = threading.Event()

    tids: list[int] = []

    def waiting() -> None:
        tids.append(threading.get_native_id())
        before.set()
        stop.wait(30)

    earlier = threading.Thread(target=waiting)  # running before (as numpy's BLAS threads are)
    earlier.start()
    before.wait(30)
    priority.background_process()
    later: list[int] = []
    started = threading.Thread(target=lambda: later.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    started.start()
    started.join()
    running = os.getpriority(os.PRIO_PROCESS, tids[0])
    stop.set()
    earlier.join()
    out.put([os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), running, *later])


def test_a_queue_worker_lowers_every_thread_it_has_and_starts() -> None:
    """``meeting-room worker``: threads already running at its start included (tests/meeting_room/live/test_job_queue.py
    checks the real worker)."""
    if os.getpriority(os.PRIO_PROCESS, 0) >= 19:
        pytest.skip("the tests run at nice 19 already: nothing lower to see")
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.queues.Queue[list[int]] = context.Queue()
    worker = context.Process(target=_nice_of_a_background_process, args=(out,))
    worker.start()
    try:
        assert out.get(timeout=60) == [19, 19, 19]  # its own thread, one already running, one started after
    finally:
        worker.join(timeout=30)
    assert os.getpriority(os.PRIO_PROCESS, 0) < 19  # this process: untouched
