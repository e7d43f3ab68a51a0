"""Face recognition as this server is configured: one place that turns the settings into the
options of every face engine, matcher and presence tracker (the room cameras, ``watch-camera``,
photo check-in and enrolment, remote participants' own cameras)."""

from __future__ import annotations

import threading

from meeting_room.services.face_attendance import MatchOptions
from meeting_room.settings import Settings
from vision.enrolment import EnrolmentRules
from vision.faces import FaceEngine, FaceOptions
from vision.pool import FacePool
from vision.tracker import PresenceTracker


def face_options(settings: Settings) -> FaceOptions:
    return FaceOptions(detector=settings.face_detector, upsample=settings.face_upsample, detect_width=settings.face_detect_width)


def enrolment_rules(settings: Settings) -> EnrolmentRules:
    return EnrolmentRules(min_face_px=settings.face_min_px, min_sharpness=settings.face_min_sharpness)


class SharedFaceEngine:
    """One face engine per process (enrolment, photo check-in, face imports), loaded on first use:
    the models take a second to load, and most processes never need them."""

    def __init__(self, settings: Settings) -> None:
        self._options = face_options(settings)
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def __call__(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                self._engine = FaceEngine(self._options)
            return self._engine


def match_options(settings: Settings) -> MatchOptions:
    return MatchOptions(settings.face_tolerance, settings.face_margin)


def presence_tracker(settings: Settings) -> PresenceTracker:
    """A new tracker for one camera: ``face_sightings`` matches within ``face_window_s`` mark arrival."""
    return PresenceTracker(sightings=settings.face_sightings, window_s=settings.face_window_s)


def face_pool(settings: Settings, workers: int | None = None) -> FacePool:
    """Worker processes for face analysis (``face_workers`` unless told), in the background:
    attendance can wait seconds, and a 1080p hall frame costs seconds of a core."""
    return FacePool(face_options(settings), workers=settings.face_workers if workers is None else workers, background=True)
