"""Where face imports run: on PostgreSQL (``Settings.queued_jobs``) as jobs of the queue that the
workers (``meeting-room worker``) take, beside the final passes; on SQLite in one thread of the
server, at low priority, where an import that a stop interrupted resumes at the next start.

A queued job that fails for a reason other than a member's photos (the database away) is tried
again by the queue, and resumes with the next member; the last try's failure ends the import as
failed with its reason. A worker killed mid-job leaves it to another (the queue's stalled-job retry).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from hardware import priority
from meeting_room.access import Actor
from meeting_room.live.face_runtime import SharedFaceEngine, enrolment_rules
from meeting_room.live.job_queue import JobQueue, failure_reason
from meeting_room.services import face_imports
from meeting_room.settings import Settings
from meeting_room.store import Store
from vision.faces import FaceEngine

log = logging.getLogger(__name__)


class FaceImportJobs:
    def __init__(
        self, store: Store, settings: Settings, engine: Callable[[], FaceEngine] | None = None, queue: JobQueue | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.engine = engine or SharedFaceEngine(settings)
        self.queue = (queue or JobQueue(settings)) if settings.queued_jobs else None
        # in the background (its thread, set once): calls, votes and captions first
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-import", initializer=priority.background)
        self._futures: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    @property
    def max_photo_bytes(self) -> int:
        return self.settings.max_photo_mb * (1 << 20)

    def start(self, actor: Actor, filename: str, data: bytes, skip_problems: bool = False) -> str:
        """Check and store the archive, then queue its import (an administrator). Returns its id."""
        limit = self.max_photo_bytes
        import_id = face_imports.create(self.store, actor, filename, data, max_photo_bytes=limit, skip_problems=skip_problems)
        if self.queue is not None:
            try:
                self.queue.defer_face_import(import_id)
            except Exception as exc:
                log.exception("could not queue the face import %s", import_id)
                face_imports.end(self.store, import_id, "failed", failure_reason(0, exc))
                raise
        else:
            self._submit(import_id)
        return import_id

    def stop(self, actor: Actor, import_id: str) -> None:
        face_imports.stop(self.store, actor, import_id)
        if self.queue is not None:
            self.queue.cancel_face_import(import_id)

    def resume_interrupted(self) -> list[str]:
        """At start-up on SQLite: the imports queued or running when the server stopped."""
        if self.queue is not None:
            return []
        ids = face_imports.active_ids(self.store)
        for import_id in ids:
            log.info("resuming the face import %s", import_id)
            self._submit(import_id)
        return ids

    def wait(self, import_id: str, timeout: float | None = None) -> str | None:
        future = self._futures.get(import_id)
        return None if future is None else future.result(timeout)

    def run_queued(self, import_id: str, *, tries: int, last: bool) -> None:
        """A worker runs the job; an error goes back to the queue, and ends the import on the ``last`` try."""
        log.info("face import %s: try %d", import_id, tries)
        try:
            state = self._run_once(import_id)
        except Exception as exc:
            log.exception("face import %s failed (try %d)", import_id, tries)
            if last:
                face_imports.end(self.store, import_id, "failed", failure_reason(tries, exc))
            raise
        log.info("face import %s: %s", import_id, state)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.queue is not None:
            self.queue.close()

    def _submit(self, import_id: str) -> None:
        with self._lock:
            self._futures[import_id] = self._pool.submit(self._run_here, import_id)

    def _run_here(self, import_id: str) -> str:
        try:
            return self._run_once(import_id)
        except Exception as exc:
            log.exception("face import %s failed", import_id)
            face_imports.end(self.store, import_id, "failed", failure_reason(1, exc))
            return "failed"
        finally:
            with self._lock:
                self._futures.pop(import_id, None)

    def _run_once(self, import_id: str) -> str:
        return face_imports.run(self.store, import_id, self.engine, enrolment_rules(self.settings), max_photo_bytes=self.max_photo_bytes)
