"""Attendance from faces: a snapshot sent by a tablet or browser, a camera watched continuously, and
a remote participant's own camera confirming that the member is the person on the call."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import BrokenExecutor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from hardware.media import Frame
from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_overseer
from meeting_room.attendance import AttendanceSource, AttendanceStatus, FaceCheck
from meeting_room.db import tables as t
from meeting_room.errors import MeetingRoomError
from meeting_room.lifecycle import RUNNING, MeetingState
from meeting_room.services import attendance, faces
from meeting_room.store import Store
from vision.faces import FaceEngine, Observation
from vision.frames import sample
from vision.gallery import Gallery
from vision.pool import FacePool, PoolClosedError
from vision.tracker import Arrived, Left, PresenceTracker, UnknownCount

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchOptions:
    tolerance: float = 0.55
    margin: float = 0.04


@dataclass(frozen=True)
class Recognised:
    member_id: str
    full_name: str
    confidence: float
    recorded: bool  # False when they were already recorded present


@dataclass(frozen=True)
class SnapshotResult:
    faces: int
    recognised: list[Recognised]
    unknown: int


def _split(observations: list[Observation], gallery: Gallery, options: MatchOptions) -> tuple[dict[str, float], list[Observation]]:
    matches: dict[str, float] = {}
    unknown: list[Observation] = []
    for obs in observations:
        m = gallery.match(obs.encoding, options.tolerance, options.margin)
        if m.member_id is None:
            unknown.append(obs)
        else:
            matches[m.member_id] = max(matches.get(m.member_id, 0.0), m.confidence)
    return matches, unknown


def _require_check_in(session: Session, actor: Actor, meeting_id: str) -> None:
    meeting = get_meeting(session, meeting_id)
    require_overseer(session, actor, meeting, action_vi="điểm danh bằng khuôn mặt", action_en="check in by face")


def may_check_in(store: Store, actor: Actor, meeting_id: str) -> None:
    """Refuse (404/403) before a photo is even read when ``actor`` may not check people in by face."""
    with store.read() as session:
        _require_check_in(session, actor, meeting_id)


def check_in_snapshot(
    store: Store, actor: Actor, meeting_id: str, image: np.ndarray, engine: FaceEngine, options: MatchOptions, camera: str = "ảnh chụp"
) -> SnapshotResult:
    """Recognise the faces on one photo and mark those participants present in the room (staff only:
    the chair, the secretary or a clerk takes the photo deliberately, so one sighting suffices)."""
    with store.read() as session:
        _require_check_in(session, actor, meeting_id)
        gallery = faces.meeting_gallery(session, meeting_id)
    observations = engine.observe(image)
    matches, unknown = _split(observations, gallery, options)
    recognised = []
    for member_id, confidence in sorted(matches.items()):
        recorded = _mark_present(store, meeting_id, member_id, confidence, camera)
        with store.read() as session:
            name = session.get_one(t.Member, member_id).full_name
        recognised.append(Recognised(member_id, name, round(confidence, 3), recorded))
    return SnapshotResult(len(observations), recognised, len(unknown))


def _mark_present(store: Store, meeting_id: str, member_id: str, confidence: float, camera: str) -> bool:
    with store.read() as session:
        row = session.get(t.Attendance, (meeting_id, member_id))
        if row is not None and row.status == AttendanceStatus.PRESENT_IN_ROOM.value:
            return False  # already here: recorded by hand or by another camera
    attendance.record(
        store, None, meeting_id, member_id, AttendanceStatus.PRESENT_IN_ROOM, AttendanceSource.FACE,
        confidence=round(confidence, 3), camera=camera,
    )  # fmt: skip
    return True


@dataclass
class CameraStats:
    frames: int = 0
    analysed: int = 0
    skipped_busy: int = 0
    arrivals: int = 0
    unavailable: str | None = None  # why no frame can be analysed (the face workers could not start)
    analysis_ms: deque[float] = field(default_factory=lambda: deque(maxlen=200))


class CameraWatcher:
    """Watches one camera for one meeting: participants seen ``sightings`` times are marked present
    in the room, the number of unknown faces is reported, and (only if configured) their crops kept."""

    GALLERY_REFRESH_S = 30.0

    def __init__(
        self,
        store: Store,
        meeting_id: str,
        camera: str,
        pool: FacePool,
        options: MatchOptions,
        tracker: PresenceTracker,
        *,
        sample_fps: float = 2.0,
        unknown_dir: Path | None = None,
    ) -> None:
        self.store, self.meeting_id, self.camera, self.pool = store, meeting_id, camera, pool
        self.options, self.tracker, self.sample_fps, self.unknown_dir = options, tracker, sample_fps, unknown_dir
        self.stats = CameraStats()
        self._gallery = Gallery()
        self._gallery_at = -1e9
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _refresh(self) -> None:
        if time.monotonic() - self._gallery_at < self.GALLERY_REFRESH_S:
            return
        with self.store.read() as session:
            self._gallery = faces.meeting_gallery(session, self.meeting_id)
            present = session.scalars(
                select(t.Attendance.member_id).where(
                    t.Attendance.meeting_id == self.meeting_id, t.Attendance.status == AttendanceStatus.PRESENT_IN_ROOM.value
                )
            ).all()
        for member_id in present:
            self.tracker.mark_present(member_id, 0.0)
        self._gallery_at = time.monotonic()

    def _running(self) -> bool:
        with self.store.read() as session:
            return MeetingState(get_meeting(session, self.meeting_id).state) in RUNNING

    def run(self, frames: Iterable[Frame]) -> CameraStats:
        """Until the frames end or ``stop()``; frames are analysed in the pool, in order, and a frame
        that arrives while every worker is busy is skipped."""
        pending: deque[tuple[Frame, Future[list[Observation]], float]] = deque()
        for frame in sample(frames, self.sample_fps):
            if self._stop.is_set():
                break
            self.stats.frames += 1
            try:
                future = self.pool.submit(frame.image)
            except PoolClosedError:  # its room is stopping
                break
            except BrokenExecutor as exc:  # every later frame would fail the same way: said once, the camera left alone
                self.stats.unavailable = str(exc)
                log.error(
                    "camera %s: face analysis is unavailable (%s); attendance by face is off until the next meeting", self.camera, exc
                )
                break
            if future is None:
                self.stats.skipped_busy += 1
            else:
                pending.append((frame, future, time.perf_counter()))
            while pending and (pending[0][1].done() or len(pending) > self.pool.workers * 2):
                self._handle(*pending.popleft())
        while pending:
            self._handle(*pending.popleft())
        return self.stats

    def _handle(self, frame: Frame, future: Future[list[Observation]], started: float) -> None:
        while not future.done():
            if self._stop.is_set():  # stopping (a meeting's end, the server's shutdown): a frame in analysis is not waited for
                return
            wait([future], timeout=0.25)
        try:
            observations = future.result()
        except Exception:  # one bad frame must not stop the camera
            log.exception("camera %s: analysing a frame failed", self.camera)
            return
        self.stats.analysed += 1
        self.stats.analysis_ms.append((time.perf_counter() - started) * 1000)
        self._refresh()
        matches, unknown = _split(observations, self._gallery, self.options)
        if unknown and self.unknown_dir is not None:
            self._keep_unknown(frame, unknown)
        for change in self.tracker.observe(frame.at, matches, len(unknown)):
            try:
                self._apply(change)
            except MeetingRoomError as exc:  # e.g. the meeting is not open yet: keep watching
                log.info("camera %s: %s", self.camera, exc.message_en)

    def _apply(self, change: Arrived | Left | UnknownCount) -> None:
        if isinstance(change, Arrived):
            if not self._running():
                self.tracker.forget(change.member_id)  # counted again once the meeting opens
                return
            if _mark_present(self.store, self.meeting_id, change.member_id, change.confidence, self.camera):
                self.stats.arrivals += 1
                log.info("camera %s: %s present (confidence %.2f)", self.camera, change.member_id, change.confidence)
        elif isinstance(change, Left):
            attendance.record(self.store, None, self.meeting_id, change.member_id, AttendanceStatus.LEFT, AttendanceSource.FACE,
                              camera=self.camera)  # fmt: skip
        else:
            if self._running():
                self.store.append(ev.UnknownFacesSeen(meeting_id=self.meeting_id, camera=self.camera, count=change.count))

    def _keep_unknown(self, frame: Frame, unknown: list[Observation]) -> None:
        assert self.unknown_dir is not None
        folder = self.unknown_dir / self.meeting_id / self.camera
        folder.mkdir(parents=True, exist_ok=True)
        for i, obs in enumerate(unknown):
            b = obs.box
            crop = frame.image[max(0, b.top) : b.bottom, max(0, b.left) : b.right]
            if crop.size:
                Image.fromarray(crop).save(folder / f"{time.time():.3f}-{i}.jpg", quality=85)


def record_online_face_check(
    store: Store, meeting_id: str, member_id: str, result: FaceCheck, *, confidence: float | None = None,
    distance: float | None = None, looks_like: str | None = None,
) -> bool:  # fmt: skip
    """What a remote participant's own camera showed (the system decides, from their enrolment):
    recorded only while they are present online in a running meeting, and not twice the same. The
    attendance itself does not change: a mismatch is a warning for the secretary, never a check-in.
    True when an event was recorded."""

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = session.get(t.Meeting, meeting_id)
        if meeting is None or MeetingState(meeting.state) not in RUNNING:
            return []
        row = session.get(t.Attendance, (meeting_id, member_id))
        if row is None or row.status != AttendanceStatus.PRESENT_ONLINE.value:
            return []
        if row.face_check == result.value and row.face_check_looks_like == looks_like:
            return []
        return [
            ev.OnlineFaceChecked(
                meeting_id=meeting_id, member_id=member_id, result=result, looks_like=looks_like,
                confidence=None if confidence is None else round(confidence, 3), distance=None if distance is None else round(distance, 3),
            )
        ]  # fmt: skip

    return bool(store.append_all(decide))
