"""Heavy jobs on the job queue in the PostgreSQL the servers share (procrastinate), run by
``meeting-room worker`` on any machine that reaches the database and the recordings.

A server defers a job (a final pass of a recording, or a face import of a folder of photos) with
the pass or import id as its lock, so that two workers never run one job at once. A worker runs
one job at a time (each uses every core), tells the queue every ``worker_heartbeat_s`` that it is
alive, and hands back to the queue the jobs of a worker that fell silent for ``worker_stalled_s``
(killed, machine lost): procrastinate's stalled-job retry. The job itself writes through the Store,
line by line (member by member); a retried job resumes after the last one. A job that fails is
tried again after ``job_retry_s``, up to ``job_attempts`` tries; the last failure ends the pass (or
import) as failed with its reason, which the record page (the administration page) shows.

SQLite installations do not come here: their jobs run in a thread of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.engine import make_url

from meeting_room.settings import Settings
from transcripts.bilingual import BilingualError

if TYPE_CHECKING:  # procrastinate itself is imported where a queue is used: SQLite installations never load it
    import procrastinate

log = logging.getLogger(__name__)

QUEUE = "transcription"
FINAL_PASS = "meeting_room.final_pass"
FACE_IMPORT = "meeting_room.face_import"
JobStatus = Literal["queued", "running", "done", "failed", "stopped"]
_STATUS: dict[str, JobStatus] = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "done",
    "failed": "failed",
    "cancelled": "stopped",
    "aborting": "running",
    "aborted": "stopped",
}


@dataclass(frozen=True)
class JobSpec:
    """A final pass to run: its meeting, pass and recording; ``channels``: (channel, member id) when the channel is the speaker."""

    meeting_id: str
    pass_id: str
    recording_id: str
    num_speakers: int | None = None
    channels: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class JobState:
    """Where a final pass's job stands: ``tries`` counts the tries begun (the running one included)."""

    status: JobStatus
    tries: int


class QueuedRunner(Protocol):
    """What runs a final pass in a worker (``TranscriptionJobs``)."""

    settings: Settings

    def run_queued(self, spec: JobSpec, *, tries: int, last: bool) -> None: ...


class QueuedImports(Protocol):
    """What runs a face import in a worker (``FaceImportJobs``)."""

    settings: Settings

    def run_queued(self, import_id: str, *, tries: int, last: bool) -> None: ...


def failure_reason(tries: int, exc: BaseException) -> str:
    """Why a queued job stopped, for the page that shows it: Vietnamese first (``tries`` 0: it was never queued)."""
    message = str(exc) if isinstance(exc, BilingualError) else f"{type(exc).__name__}: {exc}"
    if tries == 0:
        return f"Không đưa được vào hàng đợi / Could not be queued: {message}"[:2000]
    return f"Thất bại sau {tries} lần thử / Failed after {tries} tries: {message}"[:2000]


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _final_pass(context: procrastinate.JobContext, /, **spec: Any) -> None:
    """The task: one final pass, by the ``TranscriptionJobs`` of this worker."""
    jobs: QueuedRunner = context.additional_context["jobs"]
    attempts = jobs.settings.job_attempts
    tries = context.job.attempts + 1
    channels = tuple((int(ch), str(member)) for ch, member in spec.pop("channels", []))
    jobs.run_queued(JobSpec(channels=channels, **spec), tries=tries, last=tries >= attempts)


def _face_import(context: procrastinate.JobContext, /, import_id: str) -> None:
    """The task: one face import, by the ``FaceImportJobs`` of this worker."""
    imports: QueuedImports = context.additional_context["imports"]
    attempts = imports.settings.job_attempts
    tries = context.job.attempts + 1
    imports.run_queued(import_id, tries=tries, last=tries >= attempts)


def make_app(settings: Settings, connector: procrastinate.BaseConnector) -> procrastinate.App:
    import procrastinate

    app = procrastinate.App(connector=connector)
    retry: procrastinate.RetryStrategy | bool = False
    if settings.job_attempts > 1:
        retry = procrastinate.RetryStrategy(max_attempts=settings.job_attempts - 1, wait=round(settings.job_retry_s))
    app.task(name=FINAL_PASS, queue=QUEUE, pass_context=True, retry=retry)(_final_pass)
    app.task(name=FACE_IMPORT, queue=QUEUE, pass_context=True, retry=retry)(_face_import)
    return app


class JobQueue:
    """The server's side of the queue: defer jobs, read where they stand, cancel them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: procrastinate.App | None = None

    def _opened(self) -> procrastinate.App:
        if self._app is None:
            import procrastinate

            connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(self.settings.effective_database_url), min_size=0, max_size=4)
            self._app = make_app(self.settings, connector).open()
        return self._app

    def defer_final_pass(self, spec: JobSpec) -> int:
        app = self._opened()
        job: dict[str, Any] = {"meeting_id": spec.meeting_id, "pass_id": spec.pass_id, "recording_id": spec.recording_id,
               "num_speakers": spec.num_speakers, "channels": [list(c) for c in spec.channels]}  # fmt: skip
        job_id: int = app.configure_task(FINAL_PASS, lock=spec.pass_id).defer(**job)
        log.info("final pass %s queued as job %s", spec.pass_id, job_id)
        return job_id

    def defer_face_import(self, import_id: str) -> int:
        job_id: int = self._opened().configure_task(FACE_IMPORT, lock=f"face-import:{import_id}").defer(import_id=import_id)
        log.info("face import %s queued as job %s", import_id, job_id)
        return job_id

    def cancel_face_import(self, import_id: str) -> None:
        self._cancel(FACE_IMPORT, f"face-import:{import_id}")

    def states(self, pass_ids: Iterable[str]) -> dict[str, JobState]:
        """The newest job of each pass that has one."""
        manager, found = self._opened().job_manager, {}
        for pass_id in pass_ids:
            jobs = manager.list_jobs(task=FINAL_PASS, lock=pass_id)
            if jobs:
                job = max(jobs, key=lambda j: j.id or 0)
                status = _STATUS.get(str(job.status), "queued")
                found[pass_id] = JobState(status, job.attempts + (1 if status == "running" else 0))
        return found

    def cancel(self, pass_id: str) -> None:
        """Take the pass's job off the queue (one not started yet) or ask its worker to stop it."""
        self._cancel(FINAL_PASS, pass_id)

    def _cancel(self, task: str, lock: str) -> None:
        from procrastinate.exceptions import ProcrastinateException

        manager = self._opened().job_manager
        for job in manager.list_jobs(task=task, lock=lock):
            if job.id is not None and job.status in ("todo", "doing"):
                with contextlib.suppress(ProcrastinateException):
                    manager.cancel_job_by_id(job.id, abort=True)

    def pending(self) -> int:
        manager = self._opened().job_manager
        return sum(len(manager.list_jobs(task=FINAL_PASS, status=status)) for status in ("todo", "doing"))

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


async def _hand_back_stalled(app: procrastinate.App, settings: Settings) -> None:
    """procrastinate's stalled-job retry: the jobs of workers silent for ``worker_stalled_s`` go back to the queue."""
    from procrastinate.exceptions import ProcrastinateException

    while True:
        await asyncio.sleep(settings.worker_heartbeat_s)
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=settings.worker_stalled_s):
                log.warning("job %s (%s) was left by a silent worker: back to the queue", job.id, job.lock)
                with contextlib.suppress(ProcrastinateException):
                    await app.job_manager.retry_job(job)
        except Exception:  # the database is away for a moment: the worker itself reports it
            log.exception("could not look for stalled jobs")


def run_worker(settings: Settings, jobs: QueuedRunner, imports: QueuedImports, *, name: str | None = None) -> None:
    """Run jobs until SIGINT/SIGTERM (a job under way is finished first)."""
    import procrastinate

    async def main() -> None:
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings.effective_database_url), min_size=1, max_size=4)
        app = make_app(settings, connector)
        async with app.open_async():
            stalled = asyncio.create_task(_hand_back_stalled(app, settings))
            try:
                await app.run_worker_async(
                    queues=[QUEUE],
                    name=name or "worker",
                    concurrency=1,
                    additional_context={"jobs": jobs, "imports": imports},
                    update_heartbeat_interval=settings.worker_heartbeat_s,
                    stalled_worker_timeout=settings.worker_stalled_s,
                    fetch_job_polling_interval=min(5.0, settings.worker_heartbeat_s),
                    abort_job_polling_interval=min(5.0, settings.worker_heartbeat_s),
                )
            finally:
                stalled.cancel()

    asyncio.run(main())
