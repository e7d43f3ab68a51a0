"""Sessions of requests that arrive together are read together, each as fresh as a read of its own."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_room import auth
from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError
from meeting_room.live import session_reader
from meeting_room.live.session_reader import SessionReader
from tests.conftest import World


def _open(world: World, who: str) -> str:
    with world.store.read() as session:
        member = session.get_one(t.Member, world.ids[who])
    return auth.open_session(world.store, member, datetime.now(UTC) + timedelta(hours=1)).token


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The hashes each database read asked for (the real reads run)."""
    asked: list[list[str]] = []
    real = auth.resolve_hashes

    def counted(store: Any, hashes: list[str]) -> Any:
        asked.append(list(hashes))
        return real(store, hashes)

    monkeypatch.setattr(auth, "resolve_hashes", counted)
    return asked


def test_a_burst_of_requests_is_read_in_few_statements_each_with_its_own_answer(world: World, reads: list[list[str]]) -> None:
    people = ("chair", "secretary", "member1", "member2", "clerk")
    tokens = {who: _open(world, who) for who in people}
    gone = _open(world, "guest")
    auth.logout(world.store, gone)
    reader = SessionReader(world.store)

    async def burst() -> list[Any]:
        asks = [reader.resolve(tokens[who]) for who in people for _ in range(8)]  # 40 requests, 8 from each tablet
        asks += [reader.resolve(gone), reader.resolve(gone), reader.resolve("not-a-token")]
        return await asyncio.gather(*asks, return_exceptions=True)

    answers = asyncio.run(burst())
    assert [a.member_id for a in answers[:40]] == [world.ids[who] for who in people for _ in range(8)]
    assert all(isinstance(a, AuthenticationError) for a in answers[40:])
    assert answers[40] is not answers[41]  # the same token twice: each request raises its own error
    assert len(reads) <= session_reader.IN_FLIGHT + 1 and sum(len(r) for r in reads) == len(people) + 2


def test_a_logout_before_a_request_is_seen_by_it(world: World, reads: list[list[str]]) -> None:
    token = _open(world, "member1")
    reader = SessionReader(world.store)

    async def twice() -> tuple[Any, Any]:
        first = await reader.resolve(token)
        await asyncio.to_thread(auth.logout, world.store, token)
        return first, await asyncio.gather(reader.resolve(token), return_exceptions=True)

    first, (second,) = asyncio.run(twice())
    assert first.member_id == world.ids["member1"] and isinstance(second, AuthenticationError)
    assert len(reads) == 2


def test_requests_during_a_read_wait_for_the_next_and_a_failed_read_fails_only_its_own(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While ``IN_FLIGHT`` reads are under way the newcomers wait and then share one; a read that fails
    answers its requests with the error, and the reads after it work."""
    token = _open(world, "member1")
    release = threading.Event()
    real = auth.resolve_hashes
    asked: list[int] = []

    def slow(store: Any, hashes: list[str]) -> Any:
        asked.append(len(hashes))
        nth = len(asked)
        if nth <= session_reader.IN_FLIGHT:
            assert release.wait(30)
            if nth == 1:
                raise OSError("disk I/O error")
        return real(store, hashes)

    monkeypatch.setattr(auth, "resolve_hashes", slow)
    reader = SessionReader(world.store)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(reader.resolve(token))
        twin = asyncio.ensure_future(reader.resolve(token))  # the same read: its own copy of the error
        while len(asked) < 1:
            await asyncio.sleep(0.005)
        second = asyncio.ensure_future(reader.resolve(token))
        while len(asked) < 2:
            await asyncio.sleep(0.005)
        later = [asyncio.ensure_future(reader.resolve(token)) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert len(asked) == 2  # both reads busy: the five wait
        release.set()
        return await asyncio.gather(first, twin, second, *later, return_exceptions=True)

    answers = asyncio.run(scenario())
    assert isinstance(answers[0], OSError) and isinstance(answers[1], OSError) and answers[0] is not answers[1]
    assert all(a.member_id == world.ids["member1"] for a in answers[2:])
    assert asked == [1, 1, 1]  # the five shared one read
