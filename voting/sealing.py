"""Sealed ballots: a poll's key pair, ballots encrypted to it, and its private key split between two
tellers, like the two locks of a ballot box.

- Each secret poll gets an X25519 key pair when it opens. Ballots are sealed to its public key
  (ephemeral X25519, HKDF-SHA256, ChaCha20-Poly1305; padded so that their length says nothing about
  the choice), so a ballot written beside its voter is unreadable without the private key.
- The private key stays in the server's memory. For a crash it is also stored split in two random
  shares (XOR), each sealed to one teller's public key; both tellers' passphrases are needed to put
  it back together. When the poll closes the key and the shares are destroyed.
- A teller's private key is kept encrypted under their passphrase (scrypt, ChaCha20-Poly1305).

Pure computation: no I/O, no storage.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from voting.errors import VotingError
from voting.poll import MAX_OPINION_CHARS, PollDefinition, PollKind

MIN_PASSPHRASE = 10
_NONCE = b"\0" * 12  # each sealed message has a key of its own (fresh ephemeral key or salt)
_SCRYPT_N = 2**17  # 128 MiB and ~0.3-0.7 s per guess on a 2-core server: asked once per crash only


class SealingError(VotingError):
    """A sealed value that cannot be opened (wrong key or passphrase, or altered data)."""

    code = "sealing_failed"


@dataclass(frozen=True)
class KeyPair:
    private: bytes  # 32 bytes, X25519
    public: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        key = X25519PrivateKey.generate()
        return cls(key.private_bytes_raw(), key.public_key().public_bytes_raw())

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        return cls(private, X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw())


def _derive(shared: bytes, salt: bytes, context: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=salt, info=b"meeting-room seal v1\n" + context).derive(shared)


def seal(public: bytes, plaintext: bytes, context: str) -> bytes:
    """Encrypt to ``public``; ``context`` (e.g. the poll id) is bound in and must match to open."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    epk = ephemeral.public_key().public_bytes_raw()
    key = _derive(shared, epk + public, context.encode())
    return epk + ChaCha20Poly1305(key).encrypt(_NONCE, plaintext, context.encode())


def unseal(private: bytes, blob: bytes, context: str) -> bytes:
    key_pair = KeyPair.from_private(private)
    epk, body = blob[:32], blob[32:]
    try:
        shared = X25519PrivateKey.from_private_bytes(private).exchange(X25519PublicKey.from_public_bytes(epk))
        key = _derive(shared, epk + key_pair.public, context.encode())
        return ChaCha20Poly1305(key).decrypt(_NONCE, body, context.encode())
    except (InvalidTag, ValueError):
        raise SealingError(
            "Không mở được dữ liệu niêm phong (sai khóa hoặc dữ liệu đã bị sửa)",
            "A sealed value cannot be opened (wrong key, or the data was altered)",
        ) from None


# --- ballots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedContent:
    """What a sealed ballot holds: the receipt hash it is counted under and the choice."""

    receipt_hash: str
    selection: tuple[str, ...]
    text: str | None


def _body(content: SealedContent) -> bytes:
    return json.dumps({"r": content.receipt_hash, "s": list(content.selection), "t": content.text}, ensure_ascii=False).encode()


def ballot_size(definition: PollDefinition) -> int:
    """The one size every sealed ballot of this poll is padded to: that of the longest ballot it
    allows (every option it may choose, the longest opinion in 4-byte characters), so that the
    length of a sealed ballot says nothing of how many options it picks or how long its text is."""
    longest = sorted(definition.options, key=lambda o: len(o.id.encode()), reverse=True)[: definition.max_choices]
    text = "\U0010ffff" * MAX_OPINION_CHARS if definition.kind is PollKind.OPINION else None
    return 4 + len(_body(SealedContent("0" * 64, tuple(o.id for o in longest), text)))


def seal_ballot(public: bytes, poll_id: str, content: SealedContent, size: int) -> bytes:
    body = _body(content)
    if len(body) + 4 > size:
        raise SealingError("Phiếu dài hơn mức tối đa của phiên", "The ballot is longer than the poll allows", size=size)
    framed = struct.pack(">I", len(body)) + body
    return seal(public, framed + b"\0" * (size - len(framed)), f"ballot\n{poll_id}")


def open_ballot(private: bytes, poll_id: str, blob: bytes) -> SealedContent:
    framed = unseal(private, blob, f"ballot\n{poll_id}")
    (size,) = struct.unpack(">I", framed[:4])
    data = json.loads(framed[4 : 4 + size])
    return SealedContent(data["r"], tuple(data["s"]), data["t"])


# --- the poll key split between two tellers ----------------------------------------------------


def split(secret: bytes) -> tuple[bytes, bytes]:
    """Two shares; either alone is uniformly random and says nothing of the secret."""
    first = os.urandom(len(secret))
    return first, bytes(a ^ b for a, b in zip(first, secret, strict=True))


def join(first: bytes, second: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(first, second, strict=True))


def share_context(poll_id: str, teller_id: str) -> str:
    return f"poll key share\n{poll_id}\n{teller_id}"


# --- a teller's own key pair, kept under a passphrase ---------------------------------------------


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise SealingError(
            f"Mật khẩu khóa kiểm phiếu phải có ít nhất {MIN_PASSPHRASE} ký tự (nhận được {len(passphrase)})",
            f"A teller passphrase needs at least {MIN_PASSPHRASE} characters (got {len(passphrase)})",
            field="passphrase",
        )


def _passphrase_key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase.encode())


def lock_private(private: bytes, passphrase: str) -> bytes:
    """The private key encrypted under the passphrase: salt (16) + ciphertext."""
    check_passphrase(passphrase)
    salt = os.urandom(16)
    return salt + ChaCha20Poly1305(_passphrase_key(passphrase, salt)).encrypt(_NONCE, private, b"teller key")


def unlock_private(locked: bytes, passphrase: str) -> bytes:
    salt, body = locked[:16], locked[16:]
    try:
        return ChaCha20Poly1305(_passphrase_key(passphrase, salt)).decrypt(_NONCE, body, b"teller key")
    except InvalidTag:
        raise SealingError("Sai mật khẩu khóa kiểm phiếu", "Wrong teller passphrase", field="passphrase") from None
