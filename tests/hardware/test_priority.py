"""The CPU ladder: the server, then the live captions' models, then background work."""

from __future__ import annotations

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


def test_background_work_runs_when_nothing_else_wants_the_core_and_so_do_the_threads_it_starts() -> None:
    here = threading.get_native_id()
    before = (os.sched_getscheduler(here), os.getpriority(os.PRIO_PROCESS, here))
    seen = _on_a_thread(priority.background)
    assert seen["policy"] == seen["child_policy"] == os.SCHED_IDLE, seen
    assert (os.sched_getscheduler(here), os.getpriority(os.PRIO_PROCESS, here)) == before  # the caller's thread: untouched


def test_the_live_models_yield_to_the_server_and_stay_ahead_of_background_work() -> None:
    here = threading.get_native_id()
    server = os.getpriority(os.PRIO_PROCESS, here)
    seen = _on_a_thread(priority.live)
    assert seen["policy"] == seen["child_policy"] == os.SCHED_OTHER, seen  # not SCHED_IDLE: ahead of the background
    assert seen["nice"] == seen["child_nice"] == min(19, server + priority.LIVE_NICE), seen
    assert os.getpriority(os.PRIO_PROCESS, here) == server
