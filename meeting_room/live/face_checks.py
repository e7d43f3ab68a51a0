"""Remote participants confirmed by their own camera (the ``face_check_online`` setting, off by
default): is the person on the call the member whose account it is?

Only for a member who has consented to biometric processing and enrolled a face (Decree 13/2023:
the same consent query as every gallery); anyone else's video is never analysed. Frames come from
the call at ``RemotePeer.video_in_fps`` (1 a second), are analysed in one worker process (never on
the event loop; a frame arriving while it is busy is skipped), and each face is matched against
the meeting's consented participants. ``face_sightings`` frames showing the member confirm them
(once per call; then their video is no longer analysed); as many showing someone else, or nobody
enrolled, record a mismatch: a warning on their attendance record, never a check-in.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import BrokenExecutor, Future
from typing import TYPE_CHECKING

from hardware.media import Frame
from meeting_room.attendance import FaceCheck
from meeting_room.live.face_runtime import face_pool, match_options
from meeting_room.services import faces
from meeting_room.services.face_attendance import record_online_face_check
from meeting_room.settings import Settings
from meeting_room.store import Store
from vision.gallery import Gallery
from vision.pool import PoolClosedError
from vision.tracker import Confirmed, IdentityCheck

if TYPE_CHECKING:  # face recognition loads only when a check is wanted
    from vision.faces import Observation
    from vision.pool import FacePool

log = logging.getLogger(__name__)


class OnlineFaceChecks:
    """The checks of one server process, sharing one worker process started on first use."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._pool: FacePool | None = None
        self._lock = threading.Lock()

    def watch(self, meeting_id: str, member_id: str) -> CallFaceCheck | None:
        """(Blocking: a database read.) The check of this member's call, or None when there is
        nothing to check: the setting is off, or they have not consented or have no face enrolled."""
        if not self.settings.face_check_online:
            return None
        with self.store.read() as session:
            gallery = faces.meeting_gallery(session, meeting_id)
        if member_id not in gallery.members:
            return None
        self.pool(renew=True)  # its worker starts loading the models now, not on the first frame
        return CallFaceCheck(self, meeting_id, member_id, gallery)

    def pool(self, renew: bool = False) -> FacePool:
        """``renew``: a pool whose worker died or could not load is replaced (at a call's start, not at
        every frame of a call: a model that cannot load would be loaded again and again)."""
        broken = None
        with self._lock:
            if renew and self._pool is not None and self._pool.broken:
                broken, self._pool = self._pool, None
            if self._pool is None:
                self._pool = face_pool(self.settings, workers=1)  # a process: never on the event loop
                self._pool.warm_up(wait=False)
            pool = self._pool
        if broken is not None:
            broken.close()
        return pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class CallFaceCheck:
    def __init__(self, owner: OnlineFaceChecks, meeting_id: str, member_id: str, gallery: Gallery) -> None:
        self.owner, self.meeting_id, self.member_id, self.gallery = owner, meeting_id, member_id, gallery
        s = owner.settings
        self.match = match_options(s)
        self.check = IdentityCheck(member_id, self.match.tolerance, sightings=s.face_sightings, window_s=s.face_window_s)
        self.stopped = False
        self.analysed = 0

    @property
    def done(self) -> bool:
        return self.stopped or self.check.done

    def on_frame(self, frame: Frame) -> None:
        """A frame of the participant's camera (on the event loop: hands it on and returns)."""
        if self.done:
            return
        try:
            future = self.owner.pool().submit(frame.image)
        except BrokenExecutor as exc:  # said once; this call's video is no longer analysed (the next call tries again)
            self.stopped = True
            log.error("call %s: face check of member %s unavailable: %s", self.meeting_id, self.member_id, exc)
            return
        except PoolClosedError:  # the server stops, or the pool was just replaced: this call's check ends quietly
            self.stopped = True
            return
        if future is not None:
            future.add_done_callback(lambda f: self._analysed(frame.at, f))

    def stop(self) -> None:
        """The call ended: results still on their way are dropped."""
        self.stopped = True

    def _analysed(self, at: float, future: Future[list[Observation]]) -> None:
        """The worker's answer (on the pool's own thread, one at a time)."""
        if self.done:
            return
        try:
            observations = future.result()
            self.analysed += 1
            seen = []
            for obs in observations:
                match = self.gallery.match(obs.encoding, self.match.tolerance, self.match.margin)
                seen.append((match.member_id, self.gallery.distances(obs.encoding)[self.member_id]))
            verdict = self.check.observe(at, seen)
            if verdict is None:
                return
            if isinstance(verdict, Confirmed):
                # not recorded when it changes nothing (confirmed before) or they are not online (in the room too)
                record_online_face_check(
                    self.owner.store, self.meeting_id, self.member_id, FaceCheck.CONFIRMED, confidence=verdict.confidence
                )
                log.info("call %s: member %s confirmed by face (%.2f)", self.meeting_id, self.member_id, verdict.confidence)
            else:
                record_online_face_check(
                    self.owner.store, self.meeting_id, self.member_id, FaceCheck.MISMATCH, distance=verdict.distance,
                    looks_like=verdict.looks_like,
                )  # fmt: skip
                log.warning("call %s: the face on member %s's camera is not theirs (looks like %s)", self.meeting_id, self.member_id,
                            verdict.looks_like or "nobody enrolled")  # fmt: skip
        except Exception:  # one bad frame or a failed write must not end the call
            log.exception("call %s: checking the face of member %s", self.meeting_id, self.member_id)
