"""The hash chain over the event log: canonical encoding, link hashes, the stored event and verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meeting_room.db.tables import EventRow
from meeting_room.events import public_data

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One byte-exact encoding for a value: sorted keys, no spaces, UTF-8 kept as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(seq: int, prev_hash: str, type_: str, meeting_id: str | None, actor_id: str | None, occurred_at: str, payload: str) -> str:
    """SHA-256 of one event, covering its predecessor's hash, so a change anywhere breaks every later link."""
    record = canonical_json(
        {
            "seq": seq,
            "prev": prev_hash,
            "type": type_,
            "meeting": meeting_id,
            "actor": actor_id,
            "at": occurred_at,
            "payload": payload,
        }
    )
    return hashlib.sha256(record.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    seq: int
    type: str
    meeting_id: str | None
    actor_id: str | None
    occurred_at: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    type: str
    meeting_id: str | None
    actor_id: str | None
    occurred_at: str
    data: dict[str, Any]
    hash: str
    prev_hash: str
    # the WebSocket frame per kind of viewer, made once: every open page of the meeting is sent the same
    _frames: dict[bool, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: EventRow) -> StoredEvent:
        return cls(row.seq, row.type, row.meeting_id, row.actor_id, row.occurred_at, json.loads(row.payload), row.hash, row.prev_hash)

    def record(self) -> dict[str, Any]:
        """The whole event, as the archive keeps it (its hash covers exactly this data)."""
        return {
            "id": self.seq,
            "type": self.type,
            "meeting_id": self.meeting_id,
            "actor_id": self.actor_id,
            "occurred_at": self.occurred_at,
            "data": self.data,
            "hash": self.hash,
        }

    def message(self, overseer: bool = False) -> dict[str, Any]:
        """The form sent to clients (HTTP and WebSocket): the record less what this viewer must not see."""
        return {**self.record(), "data": public_data(self.type, self.data, overseer)}

    def frame(self, overseer: bool = False) -> str:
        """``{"kind": "event", "event": message}`` as the live stream's text frame (JSON as Starlette's
        ``send_json`` writes it), serialised once for all the sockets that get it."""
        text = self._frames.get(overseer)
        if text is None:
            text = self._frames[overseer] = json.dumps(
                {"kind": "event", "event": self.message(overseer)}, ensure_ascii=False, separators=(",", ":")
            )
        return text


@dataclass(frozen=True)
class ChainReport:
    """The result of a verification: ``ok``, or the first broken link and why."""

    events: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_links(links: Iterable[ChainLink]) -> ChainReport:
    """Walk the links in order; stop at the first that does not follow from its predecessor."""
    prev, expected_seq, count = GENESIS, 1, 0
    for link in links:
        if link.seq != expected_seq:
            return ChainReport(count, prev, link.seq, f"sequence gap: expected event {expected_seq}, found {link.seq}")
        if link.prev_hash != prev:
            return ChainReport(count, prev, link.seq, "prev_hash does not match the previous event's hash")
        actual = link_hash(link.seq, link.prev_hash, link.type, link.meeting_id, link.actor_id, link.occurred_at, link.payload)
        if actual != link.hash:
            return ChainReport(count, prev, link.seq, "content changed: stored hash does not match the event")
        prev, expected_seq, count = link.hash, expected_seq + 1, count + 1
    return ChainReport(count, prev)
