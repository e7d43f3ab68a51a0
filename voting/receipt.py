"""Ballot receipts: a random code the voter keeps; only its hash is stored beside the ballot.

The published tally lists every ballot under its receipt hash, so a voter can check that their
ballot was counted as cast, and nobody else can tell which ballot is theirs. Where a secret ballot
is shown without its hash, the list is in ``published_order`` (by what the ballots say), never in
hash order: whoever holds a receipt could hash it and read the choice off its place in the list.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed by people
_CODE = re.compile(r"^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$")


def new_receipt() -> str:
    """16 symbols from 32 (80 bits), written in four groups: ``K7QX-3MPA-9TZC-R2DE``."""
    bits = int.from_bytes(secrets.token_bytes(10))  # 80 random bits, 5 per symbol (32 symbols): uniform
    raw = "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_receipt(code: str) -> str | None:
    """The canonical form of a code typed by a person, or None if it cannot be one."""
    compact = re.sub(r"[\s-]", "", code or "").upper()
    if len(compact) != 16:
        return None
    grouped = "-".join(compact[i : i + 4] for i in range(0, 16, 4))
    return grouped if _CODE.match(grouped) else None


def receipt_hash(poll_id: str, code: str) -> str:
    """Bound to the poll, so one code says nothing about another poll."""
    return hashlib.sha256(f"meeting-room receipt\n{poll_id}\n{code}".encode()).hexdigest()


def receipt_check(poll_id: str, code: str, member_id: str) -> str:
    """Binds a receipt to its voter, so that only the voter's own session can use it to change or read
    back a secret ballot; stored apart from the ballot, whose hash (``receipt_hash``) it does not reveal."""
    return hashlib.sha256(f"meeting-room receipt check\n{poll_id}\n{member_id}\n{code}".encode()).hexdigest()


def published_order(selection: Sequence[str], text: str | None, receipt_hash: str) -> tuple[tuple[str, ...], str, str]:
    """The sort key of a list of ballots as published: by their content (the hash only orders
    identical ballots, whose place then tells nothing the content does not)."""
    return tuple(selection), text or "", receipt_hash
