"""Final passes on the job queue in PostgreSQL with two real worker processes (``meeting-room worker``,
the real models): a job is done once; a worker killed with SIGKILL mid-job leaves its job to the
other, which resumes after the last line without repeating one; a job that keeps failing stops
after its tries with its reason on the record's API; SQLite keeps the server's own thread."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from meeting_room.db import tables as t
from meeting_room.errors import SettingsError
from meeting_room.files.recordings import RecordingFiles
from meeting_room.live.transcription import TranscriptionJobs
from meeting_room.server import open_store
from meeting_room.services import worker_credentials
from meeting_room.settings import Settings, load_settings
from meeting_room.store import Store
from speech.audio import SAMPLE_RATE
from tests.conftest import TwoVoices, World, login, make_world
from tests.meeting_room.api.audio_uploads import upload_recording, wav_bytes
from tests.pgcluster import ThrowawayCluster
from tests.queue_workers import Worker, live_workers, wait_for

ATTEMPTS = 3
STALLED_S = 3.0


@dataclass
class Queue:
    settings: Settings
    store: Store
    world: World
    config: Path
    folder: Path
    workers: list[Worker]

    def ensure_workers(self, n: int = 2) -> None:
        self.workers = [w for w in self.workers if w.alive()]
        while len(self.workers) < n:
            name = f"w{len(list(self.folder.glob('worker-*.log')))}"
            self.workers.append(Worker(self.config, self.folder / f"worker-{name}.log", name))
        url = self.settings.effective_database_url
        wait_for(lambda: live_workers(url, STALLED_S) >= n, 120, f"{n} workers in the queue's records")

    def run(self, pass_id: str) -> t.TranscriptPass:
        with self.store.read() as session:
            return session.get_one(t.TranscriptPass, pass_id)

    def lines(self, pass_id: str) -> list[t.TranscriptLine]:
        with self.store.read() as session:
            query = select(t.TranscriptLine).where(t.TranscriptLine.pass_id == pass_id)
            return list(session.scalars(query.order_by(t.TranscriptLine.channel, t.TranscriptLine.start)))


@pytest.fixture(scope="module")
def queue(tmp_path_factory: pytest.TempPathFactory, pg_cluster: ThrowawayCluster | str, model_store) -> Iterator[Queue]:
    if isinstance(pg_cluster, str):
        pytest.skip("the workers' test empties its database: it runs on a throwaway server only")
    pytest.importorskip("procrastinate")  # pinned in pyproject.toml; the SQLite test below runs without it
    folder = tmp_path_factory.mktemp("queue")
    options = {
        "data_dir": str(folder / "var"), "database_url": pg_cluster.new_database(), "models_dir": str(model_store.root),
        "max_upload_mb": 20, "asr_temperature_fallback": False, "job_attempts": ATTEMPTS, "job_retry_s": 0.0,
        "worker_heartbeat_s": 0.5, "worker_stalled_s": STALLED_S,
    }  # fmt: skip
    config = folder / "meeting-room.toml"
    config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items()))
    settings = load_settings(config)
    assert settings.queued_jobs
    store = open_store(settings)
    q = Queue(settings, store, make_world(store), config, folder, [])
    try:
        q.ensure_workers(2)
        yield q
    finally:
        for w in q.workers:
            w.stop()
        store.engine.dispose()


@pytest.fixture
def client(queue: Queue) -> Iterator[TestClient]:
    from meeting_room.api.app import create_app

    with TestClient(create_app(queue.settings, queue.store)) as c:
        yield c


def _start(client: TestClient, queue: Queue, audio: np.ndarray, channels: int = 1, seats: dict[str, str] | None = None) -> str:
    chair = login(client, "chair")
    rec = upload_recording(client, queue.world, chair, wav_bytes(audio, channels=channels)).json()["recording_id"]
    body: dict[str, object] = {"recording_id": rec, **({"channels": seats} if seats else {})}
    r = client.post(f"/api/meetings/{queue.world.meeting_id}/transcription", json=body, headers=chair)
    assert r.status_code == 202, r.text
    pass_id: str = r.json()["pass_id"]
    return pass_id


def _status(client: TestClient, queue: Queue, pass_id: str) -> dict[str, object]:
    passes = client.get(f"/api/meetings/{queue.world.meeting_id}/transcription", headers=login(client, "chair")).json()
    (found,) = [p for p in passes if p["pass_id"] == pass_id]
    return dict(found)


def _no_repeats(lines: list[t.TranscriptLine]) -> None:
    keys = [(ln.channel, ln.start) for ln in lines]
    assert len(keys) == len(set(keys)), f"a line twice: {keys}"
    for before, after in zip(lines, lines[1:], strict=False):
        if before.channel == after.channel:  # one voice per channel: its lines follow one another
            assert after.start >= before.end - 0.05, (before.start, before.end, before.text, after.start, after.text)


def test_a_queued_pass_is_done_once_by_one_of_two_workers(client: TestClient, queue: Queue, two_voices: TwoVoices) -> None:
    queue.ensure_workers(2)
    pass_id = _start(client, queue, two_voices["audio"], seats={"0": queue.world.ids["chair"]})
    assert _status(client, queue, pass_id)["status"] in ("queued", "running")
    wait_for(lambda: queue.run(pass_id).state != "running", 300, "the pass to end")
    run = queue.run(pass_id)
    assert run.state == "completed", run.error
    assert [w.took(pass_id) for w in queue.workers].count(1) == 1 and sum(w.took(pass_id) for w in queue.workers) == 1
    status = _status(client, queue, pass_id)
    assert status["status"] == "done" and status["tries"] == 1 and status["progress"] == 1.0, status
    lines = queue.lines(pass_id)
    assert lines and run.segments == len(lines)
    _no_repeats(lines)


def test_a_worker_killed_mid_job_leaves_it_to_the_other_without_a_repeated_line(
    client: TestClient, queue: Queue, two_voices: TwoVoices
) -> None:
    queue.ensure_workers(2)
    # one microphone per seat: the channels are decoded one after the other, so that the first
    # channel's lines are in while the second one is being decoded when the worker is killed
    audio = two_voices["audio"]
    a_only, b_only = audio.copy(), audio.copy()
    for start, end, who in two_voices["truth"]:
        target = b_only if who == "A" else a_only
        target[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = 0
    seats = {"0": queue.world.ids["chair"], "1": queue.world.ids["member1"]}
    pass_id = _start(client, queue, np.stack([a_only, b_only], axis=1).reshape(-1), channels=2, seats=seats)
    wait_for(lambda: queue.lines(pass_id) or queue.run(pass_id).state != "running", 300, "the first line")
    (first,) = [w for w in queue.workers if w.took(pass_id)]
    first.kill9()
    assert queue.run(pass_id).state == "running", "the pass ended before the kill: make the audio longer"
    before = {ln.id: ln for ln in queue.lines(pass_id)}
    status = _status(client, queue, pass_id)
    assert status["status"] == "running" and float(str(status["progress"])) > 0, status  # the clerk sees how far it got
    wait_for(lambda: queue.run(pass_id).state != "running", 300, "the other worker to finish the pass")
    run = queue.run(pass_id)
    assert run.state == "completed", run.error
    (other,) = [w for w in queue.workers if w is not first]
    assert other.took(pass_id) == 1, other.output()[-3000:]
    lines = queue.lines(pass_id)
    assert {ln.id for ln in lines} >= set(before), "a line written before the kill is gone"
    assert len(lines) > len(before) and {ln.channel for ln in lines} == {0, 1}
    _no_repeats(lines)
    for ln in lines:  # what the second worker wrote starts after what the first had written on that channel
        if ln.id not in before:
            assert ln.start >= max((b.end for b in before.values() if b.channel == ln.channel), default=0.0) - 0.05, ln.text
    status = _status(client, queue, pass_id)
    assert status["status"] == "done" and status["tries"] == 2, status


def test_a_failing_job_stops_after_its_tries_with_the_reason_on_the_record(client: TestClient, queue: Queue, two_voices: TwoVoices) -> None:
    queue.ensure_workers(2)
    chair = login(client, "chair")
    rec = upload_recording(client, queue.world, chair, wav_bytes(two_voices["audio"][: 3 * SAMPLE_RATE])).json()
    # the recording's file is lost from the shared folder: every try fails the same way
    RecordingFiles(queue.settings.recordings_dir, 1 << 30).path_of(rec["sha256"]).unlink()
    r = client.post(f"/api/meetings/{queue.world.meeting_id}/transcription", json={"recording_id": rec["recording_id"]}, headers=chair)
    pass_id = r.json()["pass_id"]
    wait_for(lambda: queue.run(pass_id).state != "running", 180, "the pass to stop failing")
    status = _status(client, queue, pass_id)
    assert status["status"] == "failed" and status["tries"] == ATTEMPTS, status
    error = str(status["error"])
    assert error.startswith(f"Thất bại sau {ATTEMPTS} lần thử / Failed after {ATTEMPTS} tries:"), error
    assert "không còn trên máy chủ" in error, error
    assert sum(w.took(pass_id) for w in queue.workers) == ATTEMPTS


def test_a_worker_credential_fetches_only_queued_recordings(client: TestClient, queue: Queue, two_voices: TwoVoices) -> None:
    chair = login(client, "chair")
    data = wav_bytes(two_voices["audio"][: 2 * SAMPLE_RATE])
    rec = upload_recording(client, queue.world, chair, data).json()["recording_id"]
    credential_id, token = worker_credentials.create(queue.store, "máy phiên âm 2")
    url = f"/api/worker/recordings/{rec}"
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 404  # no pass of it queued
    assert client.get(url).status_code == 401 and client.get(url, headers={"Authorization": "Bearer mrw_x"}).status_code == 401
    assert client.get(url, headers=chair).status_code == 401  # a person's login is not a worker's key
    with queue.store.read() as session:
        stored = session.get_one(t.WorkerCredential, credential_id)
        assert token not in stored.token_hash and len(stored.token_hash) == 64
    from meeting_room.services import transcripts

    pass_id = transcripts.new_pass(queue.store, queue.world.meeting_id, "final", "whisper-base", recording_id=rec)
    try:
        got = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200 and got.content == data
        worker_credentials.revoke(queue.store, credential_id)
        assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    finally:
        transcripts.end_pass(queue.store, queue.world.meeting_id, pass_id, "stopped")


def test_a_face_import_goes_to_the_workers(client: TestClient, queue: Queue) -> None:
    import io
    import zipfile

    from meeting_room.services import face_imports, faces
    from tests.face_photos import astronaut, hopper, jpeg_bytes

    queue.ensure_workers(2)
    admin = queue.world.actor("admin")
    for who in ("member1", "member2"):
        faces.set_consent(queue.store, admin, queue.world.ids[who], True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("member1/1.jpg", jpeg_bytes(astronaut()))
        archive.writestr("member2/1.jpg", jpeg_bytes(hopper()))
    r = client.post("/api/face-imports", files={"archive": ("a.zip", out.getvalue(), "application/zip")}, headers=login(client, "admin"))
    assert r.status_code == 202, r.text
    import_id = r.json()["id"]
    wait_for(lambda: face_imports.get(queue.store, admin, import_id).state not in face_imports.ACTIVE, 180, "the import to end")
    done = face_imports.get(queue.store, admin, import_id)
    assert done.state == "done" and [x.enrolled for x in done.results] == [1, 1], done
    took = [w for w in queue.workers if f"face import {import_id}: try 1" in w.output()]
    assert len(took) == 1, [w.output()[-2000:] for w in queue.workers]
    with queue.store.read() as session:
        assert session.get(t.FaceImportArchive, import_id) is None


def test_a_worker_and_every_thread_of_it_yield_the_cpu_to_the_server(queue: Queue) -> None:
    """On the server's machine a worker's final passes and face imports must not take the cores from
    the calls and live captions (hardware.priority: nice +19 on every thread, inherited)."""
    if os.getpriority(os.PRIO_PROCESS, 0) >= 19:
        pytest.skip("the tests run at nice 19 already: the workers would be there anyway")
    queue.ensure_workers(2)
    for w in queue.workers:
        threads = list(Path(f"/proc/{w.process.pid}/task").iterdir())
        nice = {int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]) for task in threads}
        assert nice == {19}, (w.name, len(threads), nice)


def test_sqlite_keeps_the_server_s_own_thread(tmp_path: Path, store: Store, settings: Settings) -> None:
    assert not settings.queued_jobs
    jobs = TranscriptionJobs(store, settings, RecordingFiles(settings.recordings_dir, 1 << 20))
    assert jobs.queue is None and jobs.resume_interrupted() == [] and jobs.pending() == 0
    with pytest.raises(SettingsError, match="PostgreSQL"):
        load_settings(data_dir=tmp_path / "other", job_queue="postgresql")
    assert load_settings(data_dir=tmp_path / "pg", database_url="postgresql+psycopg://u@h/db").queued_jobs
    assert not load_settings(data_dir=tmp_path / "pg", database_url="postgresql+psycopg://u@h/db", job_queue="in-process").queued_jobs
