"""Face analysis in worker processes, so that detection never blocks the server's event loop and
both cores are used. Bounded: when every worker is busy, a new frame is dropped, not queued."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from hardware import priority
from hardware.workers import stop_now
from vision.faces import FaceEngine, FaceOptions, Observation

log = logging.getLogger(__name__)

_engine: FaceEngine | None = None


def _start(options: FaceOptions, background: bool) -> None:
    global _engine
    if background:
        priority.idle_process()
    _engine = FaceEngine(options)


def _observe(image: np.ndarray) -> list[Observation]:
    assert _engine is not None
    return _engine.observe(image)


class PoolClosedError(RuntimeError):
    """The pool was closed (its owner stops): it takes no more frames."""


class FacePool:
    def __init__(self, options: FaceOptions, workers: int = 2, max_pending: int | None = None, background: bool = False) -> None:
        """``background``: the workers run under ``hardware.priority.idle_process``, so that work
        that may wait (attendance) yields the CPU to work that may not (calls, live captions)."""
        self.options = options
        self.workers = workers
        self._local = FaceEngine(options) if workers == 0 else None
        # spawn, not fork: the server has threads and open database connections
        self._pool = (
            ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start, initargs=(options, background))
            if workers
            else None
        )
        self._slots = threading.Semaphore(max_pending or max(1, workers) * 2)
        self._broken = False
        self._closed = False
        self._lock = threading.Lock()  # a frame is handed to a worker, or the pool closed: not both at once

    @property
    def broken(self) -> bool:
        """A worker could not load its models or died (killed, crashed): every later frame would fail,
        so its owner replaces the pool at its next start (a meeting, a call) rather than per frame."""
        return self._broken

    def submit(self, image: np.ndarray) -> Future[list[Observation]] | None:
        """The analysis of ``image``, or None when the pool is saturated (the frame is skipped)."""
        if self._closed:  # before the slots: a closed pool's last frames free theirs only once its workers are seen gone
            raise PoolClosedError("the face pool is closed")
        if not self._slots.acquire(blocking=False):
            return None
        future: Future[list[Observation]]
        if self._pool is None:
            future = Future()
            try:
                assert self._local is not None
                future.set_result(self._local.observe(image))
            except Exception as exc:  # handed to the caller through the future
                future.set_exception(exc)
        else:
            try:
                with self._lock:
                    if self._closed:
                        raise PoolClosedError("the face pool is closed")
                    future = self._pool.submit(_observe, image)
            except BaseException as exc:  # a broken pool (a worker that could not load its models): the slot is not lost
                self._slots.release()
                self._broken = self._broken or isinstance(exc, BrokenExecutor)
                raise
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[list[Observation]]) -> None:
        self._slots.release()
        if not future.cancelled() and isinstance(future.exception(), BrokenExecutor):
            self._broken = True

    def warm_up(self, wait: bool = True) -> None:
        """Start the workers and load their models now rather than on the first frame; ``wait``:
        until they are loaded (frames submitted meanwhile wait behind the loading, as many as
        ``submit`` admits)."""
        if self._pool is not None:
            blank = np.zeros((64, 64, 3), np.uint8)
            with self._lock:
                if self._closed:
                    return
                loading = [self._pool.submit(_observe, blank) for _ in range(self.workers)]
            loading[0].add_done_callback(self._said_if_failed)  # not waited for: a failure is still said at once
            for f in loading if wait else ():
                f.result()

    def close(self) -> None:
        """Stop the workers now. Waiting for them would hold the server's shutdown (or a room's) for as
        long as a hall frame's analysis or a model's loading takes, seconds to minutes under
        SCHED_IDLE on a busy machine; a frame still in analysis fails with BrokenProcessPool."""
        with self._lock:
            if self._closed or self._pool is None:
                self._closed = True
                return
            self._closed = True  # no frame is handed on from now, so no worker starts after this
        stop_now(self._pool)

    def _said_if_failed(self, loading: Future[list[Observation]]) -> None:
        if not loading.cancelled() and (exc := loading.exception()) is not None:  # the worker's own traceback is on stderr
            self._broken = self._broken or isinstance(exc, BrokenExecutor)
            log.error("face workers could not start (%s): no faces are analysed; see the worker's error above", exc)
