"""The real dlib models on real photos: enrolment checks, recognition, frame sources, the worker pool."""

from __future__ import annotations

import os
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from hardware.errors import SourceError
from hardware.media import VideoSource
from tests.face_photos import astronaut, coffee, hopper, jpeg_bytes, scene, write_video
from tests.processes import ended
from vision.enrolment import EnrolmentRules, enrol_photo
from vision.errors import EnrolmentPhotoError
from vision.faces import FaceEngine, FaceOptions
from vision.frames import ImageSequence, reconnecting, sample
from vision.gallery import Gallery
from vision.image import decode_photo
from vision.pool import FacePool


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine()


def _reason(engine: FaceEngine, image: np.ndarray) -> str:
    with pytest.raises(EnrolmentPhotoError) as info:
        enrol_photo(engine, image, EnrolmentRules())
    assert info.value.message_vi and info.value.message_en
    return str(info.value.details["reason"])


def test_two_real_people_are_told_apart_and_each_recognised_in_a_room(engine: FaceEngine) -> None:
    collins, hop = enrol_photo(engine, astronaut()), enrol_photo(engine, hopper())
    assert collins.face_px >= 150 and collins.sharpness > 40
    gallery = Gallery([("collins", collins.encoding), ("hopper", hop.encoding)])
    assert np.linalg.norm(collins.encoding - hop.encoding) > 0.6
    room = scene([hopper(), astronaut()], face_width=360)  # both in one 1280x720 frame, mirrored poses differ
    seen = engine.observe(room)
    assert len(seen) == 2
    names = sorted(str(gallery.match(o.encoding, 0.55, 0.04).member_id) for o in seen)
    assert names == ["collins", "hopper"]


def _hall(faces_px: list[int]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A 1920x1080 hall: the two photos in turn, each scaled so that its face is the given width
    (the photos' faces are ~185 px), in rows of 8; returns the frame and each face's centre."""
    canvas = Image.new("RGB", (1920, 1080), (96, 104, 112))
    centres = []
    for i, px in enumerate(faces_px):
        photo = Image.fromarray(astronaut() if i % 2 else hopper())
        k = px / 185
        img = photo.resize((round(photo.width * k), round(photo.height * k)))
        x, y = (i % 8) * 240 + 120 - img.width // 2, (i // 8) * 270 + 135 - img.height // 2
        canvas.paste(img, (x, y))
        centres.append((x + img.width // 2, y + img.height // 2))
    return np.asarray(canvas), centres


def test_a_1080p_hall_is_searched_at_full_size_so_its_40_to_60_px_faces_are_found(engine: FaceEngine) -> None:
    sizes = [40 + (i * 7) % 21 for i in range(16)]  # 40 … 60 px
    hall, centres = _hall(sizes)
    boxes = engine.detect(hall)  # the default options: not shrunk below 1920 px
    found = sum(any(b.left <= x <= b.right and b.top <= y <= b.bottom for b in boxes) for x, y in centres)
    assert found >= 15 and len(boxes) <= 16, (found, len(boxes))
    assert engine.options.detect_width >= 1920
    shrunk = FaceEngine(FaceOptions(detect_width=1280)).detect(hall)  # what it was: the small faces become 27-40 px
    assert len(shrunk) < found


def test_enrolment_refuses_unusable_photos_saying_why(engine: FaceEngine) -> None:
    assert _reason(engine, coffee()) == "no_face"
    assert _reason(engine, scene([astronaut(), hopper()], face_width=400)) == "several_faces"
    small = np.asarray(Image.fromarray(astronaut()).resize((160, 150)))
    assert _reason(engine, small) == "too_small"
    # a thumbnail, where no face can be found at all, is said to be too small rather than faceless
    assert _reason(engine, np.asarray(Image.fromarray(astronaut()).resize((64, 60)))) == "too_small"
    assert _reason(engine, np.asarray(Image.fromarray(coffee()).resize((64, 60)))) == "too_small"
    blurred = np.asarray(Image.fromarray(hopper()).filter(ImageFilter.GaussianBlur(3)))
    assert _reason(engine, blurred) == "blurry"


def test_a_large_photos_face_is_measured_in_its_own_pixels(engine: FaceEngine) -> None:
    """A 24-megapixel photo is kept at 4096 px: its face of about 115 px became 76 px and was refused
    as "76 px, too small", a size its sender could not find in their photo."""
    canvas = Image.new("RGB", (6000, 4000), (120, 120, 120))
    portrait = Image.fromarray(astronaut())
    canvas.paste(portrait.resize((411, round(portrait.height * 411 / portrait.width))), (3000, 1500))
    data = jpeg_bytes(np.asarray(canvas))
    image, scale = decode_photo(data)
    assert image.shape[1] == 4096 and scale == pytest.approx(4096 / 6000)
    (in_copy,) = engine.detect(image, upsample=1)
    assert in_copy.size < 80  # what the copy holds of it: too little to encode from

    def closer(region: tuple[int, int, int, int]) -> np.ndarray:
        return decode_photo(data, region=region)[0]

    face = enrol_photo(engine, image, scale=scale, closer=closer)
    # measured, checked and encoded in the photo's own pixels: the same person as the portrait itself
    assert 100 <= face.face_px <= 130 and face.box.size == face.face_px
    assert np.linalg.norm(face.encoding - enrol_photo(engine, astronaut()).encoding) < 0.4
    with pytest.raises(EnrolmentPhotoError) as err:
        enrol_photo(engine, image, EnrolmentRules(min_face_px=140), scale=scale, closer=closer)
    assert err.value.details["face_px"] == face.face_px and f"({face.face_px} px)" in err.value.message_en


def test_video_file_source_and_sampling(tmp_path: Path) -> None:
    frames = [scene([]) for _ in range(8)] + [scene([astronaut()]) for _ in range(8)]
    video = write_video(tmp_path / "room.mp4", frames, fps=4)
    got = list(VideoSource(video, "Camera 1").frames())
    assert len(got) == 16 and got[0].image.shape == (720, 1280, 3) and got[0].source == "Camera 1"
    assert [round(f.at, 2) for f in sample(got, fps=1)] == [0.0, 1.0, 2.0, 3.0]


def test_a_missing_camera_is_an_error_then_a_logged_reconnect(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(SourceError):
        next(VideoSource(tmp_path / "nothing.mp4").frames())
    attempts = []

    def open_source() -> VideoSource | ImageSequence:
        attempts.append(1)
        if len(attempts) < 3:
            return VideoSource(tmp_path / "nothing.mp4", "Camera 2")
        return ImageSequence([astronaut()], name="Camera 2")

    frames = reconnecting(open_source, retry_s=0.01, should_stop=lambda: len(attempts) > 3)
    assert next(frames).source == "Camera 2" and len(attempts) == 3
    assert "reconnecting" in caplog.text


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="process scheduling policies are Linux's")
def test_worker_process_pool_gives_the_same_encodings(engine: FaceEngine) -> None:
    """In the background (attendance waits for the calls and the captions) and the same as here."""
    pool = FacePool(engine.options, workers=1, background=True)
    try:
        pool.warm_up()
        assert pool._pool is not None
        workers = list(pool._pool._processes)  # the executor's own record of its processes
        assert workers and all(os.sched_getscheduler(pid) == os.SCHED_IDLE for pid in workers)
        future = pool.submit(astronaut())
        assert future is not None
        (obs,) = future.result(timeout=60)
        (local,) = engine.observe(astronaut())
        assert np.allclose(obs.encoding, local.encoding)
        futures = [pool.submit(astronaut()) for _ in range(5)]
        assert any(f is None for f in futures)  # saturated: frames are dropped, not queued
        for f in futures:
            if f is not None:
                f.result(timeout=60)
    finally:
        pool.close()


def test_a_pool_loading_in_the_background_takes_frames_at_once_and_bounded(engine: FaceEngine) -> None:
    """A room goes live without waiting for its face workers (``warm_up(wait=False)``): frames sent
    while they load wait behind the loading, as many as the pool admits, the rest are dropped."""
    pool = FacePool(engine.options, workers=1, background=True)
    try:
        pool.warm_up(wait=False)
        futures = [pool.submit(astronaut()) for _ in range(4)]
        taken = [f for f in futures if f is not None]
        assert len(taken) == 2 and futures[2:] == [None, None], futures
        (local,) = engine.observe(astronaut())
        for f in taken:
            (obs,) = f.result(timeout=120)
            assert np.allclose(obs.encoding, local.encoding)
    finally:
        pool.close()


def test_closing_a_pool_stops_workers_that_are_still_busy(engine: FaceEngine) -> None:
    """A server or room that stops does not wait for a frame in analysis or a model still loading
    (seconds to minutes under SCHED_IDLE on a busy machine): the workers are stopped, and what they
    were doing fails rather than finishes."""
    pool = FacePool(engine.options, workers=1, background=True)
    pool.warm_up(wait=False)
    future = pool.submit(astronaut())  # behind the loading, in the worker's queue already
    assert future is not None and pool._pool is not None
    deadline = time.monotonic() + 30
    while not future.running() and time.monotonic() < deadline:  # handed to the worker: no longer cancellable
        time.sleep(0.01)
    assert future.running()
    workers = list(pool._pool._processes.values())
    pool.close()
    assert workers and all(p.pid for p in workers)
    assert all(ended(p.pid) for p in workers if p.pid is not None)
    with pytest.raises(BrokenExecutor):
        future.result(timeout=10)
