"""Who is calling: the sessions of requests that arrive together, read by one statement on one worker thread.

Every request's session is read afresh (``auth.resolve_hashes``, nothing cached): a logout, a
disabled account or a reset password counts from the very next request. Read one request at a time,
a hall voting at once paid a worker thread's round trip and a statement for each ballot before its
decision even queued. Here the requests that come while a read is under way wait for the next read,
which takes all of them at once; at most ``IN_FLIGHT`` reads run at a time, so a quiet server reads
each request's session as soon as it arrives, as before, and a busy one in few statements.
Each read starts after its requests arrived: none is answered from a read older than itself.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from anyio import to_thread

from meeting_room import auth
from meeting_room.access import Actor
from meeting_room.errors import AuthenticationError, own_copy
from meeting_room.store import Store

IN_FLIGHT = 2  # reads at a time: one slow read (a busy disk) does not hold up every request

_Answer = auth.Resolved | AuthenticationError


@dataclass
class _Loop:
    """The reads of one event loop (a test's client runs its own): what waits, what runs."""

    waiting: dict[str, list[asyncio.Future[_Answer]]] = field(default_factory=dict)
    running: set[asyncio.Task[None]] = field(default_factory=set)
    scheduled: bool = False


class SessionReader:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()

    async def resolve(self, token: str) -> Actor:
        """The actor behind a session token (as ``auth.resolve``); ``AuthenticationError`` if it no longer counts."""
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:  # a loop not seen before (a test's client): forget those closed meanwhile
            for closed in [other for other in self._loops if other.is_closed()]:
                del self._loops[closed]  # its waiting answers hold it: weakness alone would not let it go
            state = self._loops[loop] = _Loop()
        answer: asyncio.Future[_Answer] = loop.create_future()
        state.waiting.setdefault(auth.token_hash(token), []).append(answer)
        self._start_soon(loop, state)
        found = await answer
        if isinstance(found, AuthenticationError):
            raise type(found)(found.message_vi, found.message_en, **found.details)  # each request its own (of its kind)
        return found.actor

    def _start_soon(self, loop: asyncio.AbstractEventLoop, state: _Loop) -> None:
        # on the loop's next turn: the requests that arrived in this one share the read
        if not state.scheduled and len(state.running) < IN_FLIGHT:
            state.scheduled = True
            loop.call_soon(self._start, loop, state)

    def _start(self, loop: asyncio.AbstractEventLoop, state: _Loop) -> None:
        state.scheduled = False
        if not state.waiting or len(state.running) >= IN_FLIGHT:
            return
        batch, state.waiting = state.waiting, {}
        task = loop.create_task(self._read(batch))
        state.running.add(task)
        task.add_done_callback(lambda done: self._finished(loop, state, done))

    def _finished(self, loop: asyncio.AbstractEventLoop, state: _Loop, task: asyncio.Task[None]) -> None:
        state.running.discard(task)
        if state.waiting:
            self._start_soon(loop, state)

    async def _read(self, batch: dict[str, list[asyncio.Future[_Answer]]]) -> None:
        try:
            found = await to_thread.run_sync(auth.resolve_hashes, self._store, list(batch))
        except asyncio.CancelledError:  # the server stops
            for answers in batch.values():
                for answer in answers:
                    answer.cancel()
            raise
        except Exception as exc:  # the database failed: every request of the read hears it, each its own error
            for answers in batch.values():
                for answer in answers:
                    if not answer.done():
                        answer.set_exception(own_copy(exc))
            return
        for key, answers in batch.items():
            for answer in answers:
                if not answer.done():  # its request may have gone (the client hung up)
                    answer.set_result(found[key])
