"""Sealing: ballots to a poll's key, the key split between two tellers, a teller's key under a passphrase."""

from __future__ import annotations

import pytest

from voting import KeyPair, MajorityBase, Option, PollDefinition, PollKind, SealedContent, SealingError, custom_rule
from voting.poll import MAX_OPINION_CHARS
from voting.sealing import ballot_size, join, lock_private, open_ballot, seal, seal_ballot, share_context, split, unlock_private, unseal


def _definition(kind: PollKind, n: int = 3, max_choices: int | None = None) -> PollDefinition:
    options = [Option(f"o{i}", f"Phương án {i}") for i in range(1, n + 1)]
    return PollDefinition.build(kind, custom_rule(MajorityBase.PRESENT.value, "> 1/2", None), options=options, max_choices=max_choices)


def test_every_sealed_ballot_of_a_poll_has_one_length_whatever_it_says() -> None:
    pair = KeyPair.generate()
    opinion = _definition(PollKind.OPINION)
    size = ballot_size(opinion)
    short = seal_ballot(pair.public, "p", SealedContent("a" * 64, (), "Đồng ý"), size)
    longest = seal_ballot(pair.public, "p", SealedContent("b" * 64, ("o1", "o2", "o3"), "Ý" * MAX_OPINION_CHARS), size)
    assert len(short) == len(longest)
    many = _definition(PollKind.MULTIPLE_CHOICE, n=200, max_choices=200)
    one = seal_ballot(pair.public, "p", SealedContent("c" * 64, ("o7",), None), ballot_size(many))
    all_ = seal_ballot(pair.public, "p", SealedContent("d" * 64, tuple(f"o{i}" for i in range(1, 201)), None), ballot_size(many))
    assert len(one) == len(all_)
    assert open_ballot(pair.private, "p", longest).text == "Ý" * MAX_OPINION_CHARS
    with pytest.raises(SealingError):
        open_ballot(pair.private, "another poll", short)  # bound to its poll
    with pytest.raises(SealingError):
        open_ballot(KeyPair.generate().private, "p", short)
    tampered = short[:-1] + bytes([short[-1] ^ 1])
    with pytest.raises(SealingError):
        open_ballot(pair.private, "p", tampered)


def test_the_key_needs_both_shares_and_each_teller_only_their_passphrase() -> None:
    poll, chair, secretary = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    first, second = split(poll.private)
    assert first != poll.private and second != poll.private and join(first, second) == poll.private
    sealed = seal(chair.public, first, share_context("p", "chair"))
    with pytest.raises(SealingError):
        unseal(secretary.private, sealed, share_context("p", "chair"))
    assert unseal(chair.private, sealed, share_context("p", "chair")) == first
    locked = lock_private(chair.private, "mot cau dai cua chu toa")
    assert chair.private not in locked
    assert unlock_private(locked, "mot cau dai cua chu toa") == chair.private
    with pytest.raises(SealingError, match="Sai mật khẩu"):
        unlock_private(locked, "mot cau dai cua ai khac")
    with pytest.raises(SealingError, match="ít nhất 10"):
        lock_private(chair.private, "ngan")
