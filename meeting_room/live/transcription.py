"""Final transcription of a meeting's recording, in the background, resumable.

One job at a time (each uses every core). A job diarizes the recording, names the speakers from
the participants' voiceprints, then transcribes with the better model, appending each line as it
is decoded, so that the transcript grows while the job runs. A multi-channel recording with a
channel map (one microphone per seat) skips diarization: the channel is the speaker.

A job interrupted by a crash or a restart stays ``running`` in the log with its lines so far;
``resume`` continues from the end of the last line (diarization is deterministic, so it is redone
rather than stored). A failed job can also be started afresh as a new pass.

On PostgreSQL (``Settings.queued_jobs``) the passes go to the job queue (``job_queue``) instead of
this process's thread: ``meeting-room worker`` runs them, on this machine or another, through
``run_queued``; the queue retries a job whose worker died, and the pass resumes after its last line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from hardware import priority
from hardware.errors import MediaError
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_room.files.recordings import RecordingFiles
from meeting_room.live import speech_runtime
from meeting_room.live.job_queue import JobQueue, JobSpec, JobState, failure_reason
from meeting_room.services import transcripts
from meeting_room.services.voices import member_names, voice_gallery
from meeting_room.settings import Settings
from meeting_room.store import Store
from speech.asr import AsrOptions, build_prompt
from speech.diarization import DiarizationOptions
from speech.errors import SpeechError

log = logging.getLogger(__name__)


RecordingSource = Callable[[str, str], Path]  # (recording id, sha256) -> a local file with that content


class TranscriptionJobs:
    def __init__(self, store: Store, settings: Settings, files: RecordingFiles, source: RecordingSource | None = None) -> None:
        self.store = store
        self.settings = settings
        self.files = files
        self.source: RecordingSource = source or (lambda _recording_id, sha256: files.open(sha256))
        self.queue = JobQueue(settings) if settings.queued_jobs else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcription")
        self._futures: dict[str, Future[None]] = {}
        self._cancel: set[str] = set()
        self._closing = False  # server shutting down: leave passes running, to be resumed
        self._lock = threading.Lock()

    def start(
        self,
        actor: Actor,
        meeting_id: str,
        recording_id: str,
        *,
        num_speakers: int | None = None,
        channels: dict[int, str] | None = None,
    ) -> str:
        """Queue a final pass over the recording (the chair or secretary). Returns the pass id."""
        with self.store.read() as session:
            meeting = get_meeting(session, meeting_id)
            require_staff(session, actor, meeting, action_vi="phiên âm bản ghi", action_en="transcribe the recording")
            recording = session.get(t.Recording, recording_id)
            if recording is None or recording.meeting_id != meeting_id:
                raise NotFoundError(f"Không có bản ghi {recording_id}", f"No recording {recording_id}", recording_id=recording_id)
            for channel, member_id in (channels or {}).items():
                if not 0 <= channel < recording.channels:
                    raise InvalidInputError(
                        f"Bản ghi có {recording.channels} kênh; không có kênh {channel}",
                        f"The recording has {recording.channels} channel(s); there is no channel {channel}",
                        channels=recording.channels,
                    )
                if session.get(t.Participant, (meeting_id, member_id)) is None:
                    raise NotFoundError(f"{member_id} không dự cuộc họp này", f"{member_id} is not a participant", member_id=member_id)
            running = session.scalar(
                select(func.count())
                .select_from(t.TranscriptPass)
                .where(t.TranscriptPass.meeting_id == meeting_id, t.TranscriptPass.kind == "final", t.TranscriptPass.state == "running")
            )
            if running:
                raise ConflictError(
                    "Bản ghi của cuộc họp này đang được phiên âm; chờ xong hoặc dừng lượt đó",
                    "A final transcription of this meeting is already running; wait for it or stop it",
                )
        model = speech_runtime.model_store(self.settings).resolve(self.settings.asr_model).name
        diarization = None if channels else self.settings.diarization_pipeline
        pass_id = transcripts.new_pass(
            self.store, meeting_id, "final", model, recording_id=recording_id, diarization=diarization, actor_id=actor.member_id
        )
        spec = JobSpec(meeting_id, pass_id, recording_id, num_speakers, tuple(sorted((channels or {}).items())))
        if self.queue is not None:
            try:
                self.queue.defer_final_pass(spec)
            except Exception as exc:
                log.exception("could not queue the final pass %s", pass_id)
                transcripts.end_pass(self.store, meeting_id, pass_id, "failed", error=failure_reason(0, exc))
                raise
        else:
            self._submit(spec)
        return pass_id

    def resume_interrupted(self) -> list[str]:
        """At start-up: continue every final pass that was running when the server stopped (with a
        job queue, the queue and its workers do that)."""
        if self.queue is not None:
            return []
        with self.store.read() as session:
            runs = session.scalars(select(t.TranscriptPass).where(t.TranscriptPass.kind == "final", t.TranscriptPass.state == "running"))
            specs = [JobSpec(r.meeting_id, r.id, r.recording_id or "") for r in runs if r.id not in self._futures]
            channel_maps = {}
            for spec in specs:
                speakers = session.scalars(select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == spec.pass_id))
                channel_maps[spec.pass_id] = tuple(
                    sorted(
                        (int(s.cluster.split("-", 1)[1]), s.member_id) for s in speakers if s.cluster.startswith("channel-") and s.member_id
                    )
                )
        for spec in specs:
            log.info("resuming the transcription pass %s of meeting %s", spec.pass_id, spec.meeting_id)
            self._submit(replace(spec, channels=channel_maps[spec.pass_id]))
        return [s.pass_id for s in specs]

    def stop(self, actor: Actor, meeting_id: str, pass_id: str) -> None:
        with self.store.read() as session:
            require_staff(session, actor, get_meeting(session, meeting_id), action_vi="dừng phiên âm", action_en="stop a transcription")
        if self.queue is not None:  # the worker stops at its next line: the pass has ended
            self.queue.cancel(pass_id)
            with self.store.read() as session:
                run = session.get(t.TranscriptPass, pass_id)
                if run is None or run.meeting_id != meeting_id:
                    raise NotFoundError(f"Không có lượt phiên âm {pass_id}", f"No transcription pass {pass_id}", pass_id=pass_id)
            transcripts.end_pass(self.store, meeting_id, pass_id, "stopped")
            return
        self._cancel.add(pass_id)
        future = self._futures.get(pass_id)
        if future is None or future.cancel():  # not running in this process: close it in the log
            self._cancel.discard(pass_id)
            transcripts.end_pass(self.store, meeting_id, pass_id, "stopped")

    def wait(self, pass_id: str, timeout: float | None = None) -> None:
        future = self._futures.get(pass_id)
        if future is not None:
            future.result(timeout)

    def pending(self) -> int:
        """Final passes queued or running."""
        if self.queue is not None:
            try:
                return self.queue.pending()
            except Exception:  # a metrics scrape must not fail on the queue
                log.exception("could not count the queued jobs")
                return 0
        with self._lock:
            return sum(1 for future in self._futures.values() if not future.done())

    def states(self, pass_ids: Iterable[str]) -> dict[str, JobState]:
        """Where the running final passes stand: queued (waiting for a worker or this process's
        thread) or running (with the tries begun, on a queue)."""
        ids = list(pass_ids)
        if self.queue is not None:
            return self.queue.states(ids) if ids else {}
        with self._lock:
            futures = {p: self._futures.get(p) for p in ids}
        return {p: JobState("running" if f.running() else "queued", 1) for p, f in futures.items() if f is not None and not f.done()}

    def shutdown(self) -> None:
        """Stop at the next line; unfinished passes stay ``running`` and resume at the next start."""
        self._closing = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.queue is not None:
            self.queue.close()

    def run_queued(self, spec: JobSpec, *, tries: int, last: bool) -> None:
        """A worker runs a job of the queue: the pass resumes after its last line. A failure is raised
        to the queue, which tries again; the ``last`` try's failure ends the pass with its reason."""
        with self.store.read() as session:
            run = session.get(t.TranscriptPass, spec.pass_id)
            if run is None or run.state != "running":
                log.info("pass %s has ended meanwhile: nothing to do", spec.pass_id)
                return
        log.info("final pass %s of meeting %s: try %d", spec.pass_id, spec.meeting_id, tries)
        try:
            audio_s = self._transcribe(spec)
        except ConflictError:
            log.info("pass %s was stopped while it ran", spec.pass_id)
            return
        except Exception as exc:
            log.exception("final pass %s failed (try %d)", spec.pass_id, tries)
            if last:
                self._end(spec, "failed", 0.0, failure_reason(tries, exc))
            raise
        self._end(spec, "completed", audio_s, None)

    # --- the job --------------------------------------------------------------------------------

    def _submit(self, spec: JobSpec) -> None:
        with self._lock:
            self._futures[spec.pass_id] = self._pool.submit(self._run, spec)

    def _run(self, spec: JobSpec) -> None:
        try:
            audio_s = self._transcribe(spec)
        except InterruptedError:
            if self._closing:
                return  # resumed at the next start
            self._end(spec, "stopped", 0.0, None)
            return
        except Exception as exc:
            stopped = spec.pass_id in self._cancel
            if not stopped:
                log.exception("transcription pass %s failed", spec.pass_id)
            message = exc.message_vi if isinstance(exc, SpeechError | MediaError) else f"{type(exc).__name__}: {exc}"
            self._end(spec, "stopped" if stopped else "failed", 0.0, None if stopped else message[:2000])
            return
        finally:
            self._futures.pop(spec.pass_id, None)
        self._end(spec, "stopped" if spec.pass_id in self._cancel else "completed", audio_s, None)

    def _end(self, spec: JobSpec, state: str, audio_s: float, error: str | None) -> None:
        self._cancel.discard(spec.pass_id)
        try:
            transcripts.end_pass(self.store, spec.meeting_id, spec.pass_id, state, audio_s, error)
        except ConflictError:
            pass  # ended meanwhile (stopped through another process)

    def _check_cancel(self, spec: JobSpec) -> None:
        if self._closing or spec.pass_id in self._cancel:
            raise InterruptedError("stopped")

    def _transcribe(self, spec: JobSpec) -> float:
        with self.store.read() as session:
            recording = session.get_one(t.Recording, spec.recording_id)
            meeting = get_meeting(session, spec.meeting_id)
            participants = [p.member_id for p in session.scalars(select(t.Participant).where(t.Participant.meeting_id == meeting.id))]
            names = member_names(session, participants)
            gallery = voice_gallery(session, participants, self.settings.voice_threshold, self.settings.voice_margin)
            titles = list(
                session.scalars(select(t.AgendaItem.title).where(t.AgendaItem.meeting_id == meeting.id).order_by(t.AgendaItem.position))
            )
            known_speakers = {
                s.cluster for s in session.scalars(select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == spec.pass_id))
            }
            ends = select(t.TranscriptLine.channel, func.max(t.TranscriptLine.end)).where(t.TranscriptLine.pass_id == spec.pass_id)
            done = {ch: end or 0.0 for ch, end in session.execute(ends.group_by(t.TranscriptLine.channel))}
        path = self.source(recording.id, recording.sha256)
        priority.background()  # this pool's thread: the final pass stays off the live captions' and the calls' path
        pipeline = speech_runtime.pipeline(self.settings, diarize=not spec.channels, background=True)
        options = AsrOptions(
            beam_size=self.settings.asr_beam_size,
            initial_prompt=build_prompt(list(names.values()), [meeting.title, *titles]),
            temperature_fallback=self.settings.asr_temperature_fallback,
        )
        transcript = pipeline.run(
            path, options, diarization=DiarizationOptions(num_speakers=spec.num_speakers), gallery=gallery if len(gallery) else None,
            names=names, channels=dict(spec.channels), done=done,
        )  # fmt: skip
        self._check_cancel(spec)
        new = [
            transcripts.spec_of(label, "channel" if spec.channels else "voice" if label.member_id else "anonymous")
            for label in transcript.speakers.values()
            if label.cluster not in known_speakers
        ]
        transcripts.add_speakers(self.store, spec.meeting_id, spec.pass_id, new)
        for segment, cluster in transcript.lines():
            self._check_cancel(spec)
            transcripts.add_segment(self.store, spec.meeting_id, spec.pass_id, segment, cluster)
        return transcript.diarization.duration if transcript.diarization is not None else recording.duration_s
