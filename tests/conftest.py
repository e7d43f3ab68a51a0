"""Shared fixtures: real SQLite files, a real PostgreSQL server when one can be started, and the
ASGI app over real HTTP (httpx via Starlette's TestClient) with people in every role."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any hidden model download fails loudly

from meeting_room import events as ev  # noqa: E402
from meeting_room.access import Actor  # noqa: E402
from meeting_room.api import create_app  # noqa: E402
from meeting_room.auth import actor_of, hash_password  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.live.runtime import Runtime  # noqa: E402
from meeting_room.roles import BodyKind, MeetingRole, Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import agenda, bodies, meetings, members, rooms  # noqa: E402
from meeting_room.settings import Settings, load_settings  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from tests import needs  # noqa: E402
from tests.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402

if TYPE_CHECKING:
    import numpy as np

    from speech.models import ModelStore
    from tests.pulse_audio import VirtualMicrophone

PASSWORD = "mat-khau-thu-nghiem"
TELLER_PASSPHRASE = "khoa-kiem-phieu-thu-nghiem"


@functools.cache
def _teller_key() -> tuple[str, bytes]:
    """One teller key pair (public hex, private locked under TELLER_PASSPHRASE) for the test tellers."""
    from voting import KeyPair
    from voting.sealing import lock_private

    pair = KeyPair.generate()
    return pair.public.hex(), lock_private(pair.private, TELLER_PASSPHRASE)


def give_teller_keys(store: Store, *member_ids: str) -> None:
    """The members get a teller key, as each would by making one with their passphrase."""
    public, locked = _teller_key()
    with store.read() as session, session.begin():
        for member_id in member_ids:
            session.merge(t.TellerKey(member_id=member_id, public_key=public, locked_private=locked, created_at=datetime.now(UTC)))


@functools.cache
def password_hash() -> str:
    """One real argon2 hash for every test person (each hash costs ~0.13 s on these CPUs)."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster | str]:
    """A PostgreSQL server for the session: $MEETING_ROOM_TEST_POSTGRES_URL, or a throwaway one."""
    if os.environ.get("MEETING_ROOM_TEST_POSTGRES_URL"):
        yield os.environ["MEETING_ROOM_TEST_POSTGRES_URL"]
        return
    cluster = ThrowawayCluster()
    try:
        cluster.start()
    except ClusterUnavailable as exc:
        cluster.stop()
        needs.unavailable(f"no PostgreSQL server available: {exc}", needs.POSTGRES)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """A database URL for a server under test: None means the default SQLite file in data_dir."""
    if request.param == "sqlite":
        return None
    cluster = request.getfixturevalue("pg_cluster")
    return cluster if isinstance(cluster, str) else cluster.new_database()


def _settings(tmp_path: Path, url: str | None = None, **extra: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "var", database_url=url, **extra)


@pytest.fixture
def any_store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    """The store on each supported database (migrated, empty)."""
    store = open_store(_settings(tmp_path, database_url))
    yield store
    store.engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path, max_upload_mb=1)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings)
    yield store
    store.engine.dispose()


@dataclass
class World:
    """A body with people in every role, a room, and a scheduled meeting with two agenda items."""

    store: Store
    body_id: str
    room_id: str
    meeting_id: str
    item_ids: list[str]
    ids: dict[str, str]  # username -> member id

    def actor(self, username: str) -> Actor:
        with self.store.read() as session:
            return actor_of(session.get_one(t.Member, self.ids[username]))


@pytest.fixture
def world(store: Store) -> World:
    return make_world(store)


@pytest.fixture
def draft_world(store: Store) -> World:
    """The world before its invitation went out: only those who prepare the meeting see it."""
    return make_world(store, invited=False)


@pytest.fixture
def any_world(any_store: Store) -> World:
    """The same world on SQLite and on PostgreSQL."""
    return make_world(any_store)


def make_world(store: Store, *, invited: bool = True) -> World:
    first = ensure_first_admin(store)
    assert first is not None
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body_id = bodies.create_body(store, admin, name="Hội đồng nhân dân tỉnh Thử Nghiệm", short_name="HĐND", kind=BodyKind.COUNCIL)
    ids = {"admin": admin.member_id}
    members.set_password_hash(store, admin.member_id, password_hash(), actor_id=admin.member_id)
    people = {
        "chair": [Role.CHAIR, Role.MEMBER],
        "secretary": [Role.SECRETARY, Role.MEMBER],
        "member1": [Role.MEMBER],
        "member2": [Role.MEMBER],
        "clerk": [Role.CLERK],
        "guest": [Role.GUEST],
    }
    people["outsider"] = [Role.MEMBER]
    for username, roles in people.items():
        ids[username] = members.create_member(
            store,
            admin,
            full_name=f"Người {username}",
            roles=roles,
            username=username,
            password_hash=password_hash(),
            body_id=None if username in ("guest", "clerk", "outsider") else body_id,
        )
    room_id = rooms.create_room(store, admin, name="Phòng họp A", location="Tầng 2", seats=["A1", "A2", "A3"])
    starts = datetime.now(UTC) + timedelta(days=1)
    meeting_id = meetings.schedule_meeting(
        store,
        admin,
        ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(),
            body_id=body_id,
            title="Phiên họp thường kỳ tháng 11",
            room_id=room_id,
            starts_at=starts,
            chair_id=ids["chair"],
            secretary_id=ids["secretary"],
        ),
    )
    meetings.add_participant(store, admin, meeting_id, ids["guest"], role=MeetingRole.GUEST)
    give_teller_keys(store, ids["chair"], ids["secretary"])
    item_ids = [
        agenda.add_item(store, admin, meeting_id, title="Khai mạc"),
        agenda.add_item(store, admin, meeting_id, title="Biểu quyết dự toán ngân sách"),
    ]
    if invited:  # the participants see the meeting once its invitation went out
        meetings.publish_meeting(store, admin, meeting_id)
    return World(store, body_id, room_id, meeting_id, item_ids, ids)


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as c:  # the server speaks HTTPS: Secure cookies
        yield c


def client_runtime(client: TestClient) -> Runtime:
    """The runtime of the app under test (its stores, live work), as the routes reach it by ``runtime_of``."""
    assert isinstance(client.app, Starlette)
    runtime: Runtime = client.app.state.runtime
    return runtime


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each caller authenticates with its own bearer token
    return {"Authorization": f"Bearer {response.json()['token']}"}


def snapshot(store: Store) -> tuple[int, str]:
    """Number of events and the chain head: equal before and after means nothing was stored."""
    report = store.verify()
    assert report.ok, report
    return report.events, report.head


@pytest.fixture(scope="session")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """The packaged Whisper base and the diarization pipeline, built once per test session."""
    from speech.models import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("models"))
    store.ensure_default()
    return store


class TwoVoices(TypedDict):
    audio: np.ndarray  # A B A B, half a second of silence after each turn
    truth: list[tuple[float, float, str]]  # (start s, end s, "A" or "B") of each turn
    clips: dict[str, list[np.ndarray]]  # each speaker's two sentences


@pytest.fixture(scope="session")
def two_voices(tmp_path_factory: pytest.TempPathFactory) -> TwoVoices:
    """Two clearly different generated voices (espeak-ng Vietnamese, low male and high female
    variants) taking turns: A B A B, with the true turn boundaries."""
    import numpy as np

    from speech.audio import SAMPLE_RATE, read_all
    from tests.speech_audio import speak

    folder = tmp_path_factory.mktemp("voices")
    lines = {
        "A": ["Chủ tọa đề nghị các đại biểu chuẩn bị biểu quyết về dự thảo nghị quyết.", "Xin mời đại biểu tiếp tục phát biểu ý kiến."],
        "B": ["Tôi đồng ý với ý kiến của đại biểu, đề nghị bổ sung thêm kinh phí cho giáo dục.", "Tôi xin cảm ơn chủ tọa và các đại biểu."],
    }
    voices = {"A": ("vi", 30, 150), "B": ("vi+f3", 75, 135)}
    clips: dict[str, list[np.ndarray]] = {}
    for who, texts in lines.items():
        voice, pitch, speed = voices[who]
        clips[who] = []
        for i, text in enumerate(texts):
            path = folder / f"{who}{i}.wav"
            speak(path, text, voice=voice, speed=speed, pitch=pitch)
            clips[who].append(read_all(path))
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    audio, truth, t = [], [], 0.0
    for who, i in (("A", 0), ("B", 0), ("A", 1), ("B", 1)):
        clip = clips[who][i]
        audio += [clip, gap]
        truth.append((t, t + len(clip) / SAMPLE_RATE, who))
        t += (len(clip) + len(gap)) / SAMPLE_RATE
    return {"audio": np.concatenate(audio), "truth": truth, "clips": clips}


@pytest.fixture(scope="module")
def virtual_mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMicrophone]:
    """A 2-channel 48 kHz real-time virtual microphone (PulseAudio null sink), one daemon per module.
    In CI (``$CI`` or ``MEETING_ROOM_TEST_REQUIRE_AUDIO=1``) a missing PulseAudio fails; elsewhere the test skips."""
    from tests.pulse_audio import VirtualMicrophone

    why = VirtualMicrophone.available()
    if why is not None:
        needs.unavailable(f"virtual microphone unavailable: {why}", needs.AUDIO)
    mic = VirtualMicrophone(Path(tmp_path_factory.mktemp("pulse")))
    mic.start()
    yield mic
    mic.stop()


# --- markers, derived from what a test uses ---------------------------------------------------------
# The fast part: pytest -m "not browser and not models and not audio and not postgres and not slow" (README).
_MARKED_BY_FIXTURE = {
    "browser": ("browser", "live_server", "call_browser"),  # Debian's chromium through Playwright
    "models": ("model_store",),  # faster-whisper and pyannote, built once per session
    "audio": ("virtual_mic",),  # PulseAudio's virtual devices, in real time
    "postgres": ("pg_cluster",),  # a throwaway PostgreSQL server
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKED_BY_FIXTURE.items():
            if used.intersection(fixtures):
                item.add_marker(marker)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker("postgres")
