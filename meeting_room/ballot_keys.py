"""The private keys of open secret polls, held in this process's memory and nowhere else.

After a restart a key is gone from memory; it is put back together from two shares, each opened
by one teller with their passphrase (``services.tellers.unlock``). A closed or cancelled poll's
key is forgotten here, and its shares are deleted from the database in the same transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from voting import KeyPair
from voting.sealing import join


@dataclass(frozen=True)
class ShareStatus:
    unlocked: bool
    given_by: frozenset[str]  # tellers whose share this process holds


class BallotKeyring:
    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._shares: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def hold(self, poll_id: str, private: bytes) -> None:
        with self._lock:
            self._keys[poll_id] = private
            self._shares.pop(poll_id, None)

    def private(self, poll_id: str) -> bytes | None:
        with self._lock:
            return self._keys.get(poll_id)

    def add_share(self, poll_id: str, teller_id: str, share: bytes, tellers: list[str], public: bytes) -> ShareStatus:
        """Keep one teller's share; with both, rebuild the key (checked against the poll's public key)."""
        with self._lock:
            if poll_id in self._keys:
                return ShareStatus(True, frozenset(tellers))
            shares = self._shares.setdefault(poll_id, {})
            shares[teller_id] = share
            if len(tellers) == 2 and all(t in shares for t in tellers):
                private = join(shares[tellers[0]], shares[tellers[1]])
                if KeyPair.from_private(private).public == public:
                    self._keys[poll_id] = private
                    del self._shares[poll_id]
                    return ShareStatus(True, frozenset(tellers))
                shares.clear()  # a share that does not fit: start again rather than keep a bad one
            return ShareStatus(False, frozenset(shares))

    def given(self, poll_id: str) -> frozenset[str]:
        """Tellers whose share this process holds for a locked key."""
        with self._lock:
            return frozenset(self._shares.get(poll_id, {}))

    def forget(self, poll_id: str) -> None:
        with self._lock:
            self._keys.pop(poll_id, None)
            self._shares.pop(poll_id, None)
