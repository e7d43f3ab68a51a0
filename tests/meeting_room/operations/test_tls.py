"""The local CA vouches for this server only (name constraints), and its key can live off the server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from meeting_room.errors import SettingsError
from meeting_room.operations import tls
from tests.conftest import _settings


def _certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _verify(ca: x509.Certificate, leaf: x509.Certificate, name: str) -> None:
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(x509.DNSName(name))
    verifier.verify(leaf, [])


def _rogue(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, name: str) -> x509.Certificate:
    """What a thief of the CA key would issue: a certificate for someone else's site."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def test_the_local_ca_may_vouch_for_this_server_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, tls_names=["phonghop.local", "10.9.8.7"])
    files = tls.ensure_tls(settings)
    assert files.ca is not None
    (ca,) = _certs(files.ca)
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert tls.permits(ca, files.names) and "phonghop.local" in files.names and "10.9.8.7" in files.names
    assert not tls.permits(ca, ("www.google.com",)) and not tls.permits(ca, ("10.9.8.8",))
    server = _certs(files.cert)[0]
    _verify(ca, server, "phonghop.local")
    ca_key = serialization.load_pem_private_key((tmp_path / "var" / "tls" / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    _verify(ca, _rogue(ca_key, ca, "room.phonghop.local"), "room.phonghop.local")  # a subdomain of ours is ours
    with pytest.raises(VerificationError):
        _verify(ca, _rogue(ca_key, ca, "dichvucong.gov.vn"), "dichvucong.gov.vn")


def test_an_older_unconstrained_ca_is_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    folder = tmp_path / "var" / "tls"
    folder.mkdir(parents=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old CA")])
    old = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "ca.crt").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files = tls.ensure_tls(settings)
    (ca,) = _certs(folder / "ca.crt")
    assert ca != old and tls.permits(ca, files.names)


def test_the_ca_key_can_be_kept_off_the_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = tls.ensure_tls(settings)
    usb = tmp_path / "usb-ca.key"
    tls.export_ca_key(settings, usb)
    assert not (tmp_path / "var" / "tls" / "ca.key").exists() and usb.stat().st_mode & 0o777 == 0o600
    with pytest.raises(SettingsError):
        tls.export_ca_key(settings, usb)  # nothing left to move, and never over a file
    again = tls.ensure_tls(settings)  # the server starts on the certificate it has
    assert again.fingerprint == first.fingerprint and again.cert.read_bytes() == first.cert.read_bytes()
    assert not (tmp_path / "var" / "tls" / "ca.key").exists()
    # renewal with the key from the USB stick: a new server certificate, the same CA, no key copied in
    before = first.cert.read_bytes()
    renewed = tls.renew(settings, usb)
    assert renewed.fingerprint == first.fingerprint and renewed.cert.read_bytes() != before
    assert not (tmp_path / "var" / "tls" / "ca.key").exists()
    with pytest.raises(SettingsError):
        tls.renew(settings, tmp_path / "var" / "tls" / "server.key")  # not the CA's key
    # an expired certificate without the key: a clear refusal that says what to run
    (tmp_path / "var" / "tls" / "server.crt").unlink()
    with pytest.raises(SettingsError) as caught:
        tls.ensure_tls(settings)
    assert "tls renew --ca-key" in caught.value.message_en
