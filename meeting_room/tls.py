"""HTTPS for the LAN: browsers give a page the microphone and camera only over HTTPS.

With ``tls_cert``/``tls_key`` set, those are used (an organisation's own CA, a public certificate).
Otherwise the first start makes a local certificate authority under ``data_dir/tls`` and issues
the server a certificate for this machine's names and addresses; a later start reissues it when
the machine's addresses changed. People install the CA (``/tls/ca.crt``, a download from the
server's home page) once per device; the server certificate can change without them noticing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import ifaddr
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meeting_room.errors import SettingsError
from meeting_room.settings import Settings

CA_NAME = "Phòng họp thông minh — CA nội bộ"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path | None  # the local CA people install; None with a configured certificate
    fingerprint: str  # SHA-256 of the certificate people check (the CA's, or the configured one)
    names: tuple[str, ...]


def ensure_tls(settings: Settings) -> TlsFiles:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError(
            "Cần cả tls_cert và tls_key (hoặc bỏ cả hai để dùng chứng thư tự cấp)",
            "Set both tls_cert and tls_key (or neither, for a locally issued certificate)",
        )
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:
            cert = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
            key = serialization.load_pem_private_key(settings.tls_key.read_bytes(), None)
        except (ValueError, TypeError) as exc:
            raise SettingsError(
                f"tls_cert/tls_key không phải PEM hợp lệ (khóa không được có mật khẩu): {exc}",
                f"tls_cert/tls_key are not usable PEM (the key must not be encrypted): {exc}",
            ) from None
        if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
            raise SettingsError("tls_key không khớp với tls_cert", "tls_key does not belong to tls_cert")
        return TlsFiles(settings.tls_cert, settings.tls_key, None, _fingerprint(cert), _cert_names(cert))
    folder = settings.data_dir / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_cert, ca_key = _local_ca(folder)
    names = machine_names(settings)
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    current = x509.load_pem_x509_certificate(cert_path.read_bytes()) if cert_path.is_file() and key_path.is_file() else None
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    if current is None or not set(names) <= set(_cert_names(current)) or current.not_valid_after_utc < soon:
        _issue(ca_cert, ca_key, names, cert_path, key_path)
    return TlsFiles(cert_path, key_path, folder / "ca.crt", _fingerprint(ca_cert), names)


@dataclass(frozen=True)
class TlsStatus:
    """What the administrator's page shows about HTTPS (read only: nothing is issued here)."""

    https: bool
    source: str  # local_ca | configured | off
    fingerprint: str | None  # what people compare: the local CA's, or the configured certificate's
    names: tuple[str, ...]  # names and addresses the server certificate covers
    not_after: dt.datetime | None  # the server certificate's expiry
    ca_download: bool  # /tls/ca.crt serves the local CA


def status(settings: Settings) -> TlsStatus:
    if not settings.https:
        return TlsStatus(False, "off", None, (), None, False)
    if settings.tls_cert is not None:
        cert = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
        return TlsStatus(True, "configured", _fingerprint(cert), _cert_names(cert), cert.not_valid_after_utc, False)
    folder = settings.data_dir / "tls"
    if not (folder / "server.crt").is_file() or not (folder / "ca.crt").is_file():
        return TlsStatus(True, "local_ca", None, (), None, False)  # issued at the next `serve`
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((folder / "server.crt").read_bytes())
    return TlsStatus(True, "local_ca", _fingerprint(ca), _cert_names(server), server.not_valid_after_utc, True)


def machine_names(settings: Settings) -> tuple[str, ...]:
    """Every name and address a browser on the LAN may use to reach this server."""
    names = ["localhost", socket.gethostname(), "127.0.0.1"]
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                names.append(ip.ip)
    if settings.host not in ("0.0.0.0", "::", ""):
        names.append(settings.host)
    names += settings.tls_names
    return tuple(dict.fromkeys(n for n in names if n))


def _local_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = folder / "ca.crt", folder / "ca.key"
    if cert_path.is_file() and key_path.is_file():
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key  # type: ignore[return-value]
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_NAME} ({socket.gethostname()})")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _issue(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: tuple[str, ...], cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[1] if len(names) > 1 else names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=397))  # what browsers accept for a server certificate
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    # the chain: server, then the CA (a browser that trusts the CA needs nothing else)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _cert_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(str(v) for v in (*san.get_values_for_type(x509.DNSName), *san.get_values_for_type(x509.IPAddress)))


def _fingerprint(cert: x509.Certificate) -> str:
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def how_to_trust(files: TlsFiles, url: str) -> str:
    """What the server prints at start: how a member's device comes to trust it."""
    if files.ca is None:
        return f"HTTPS: {files.cert} (SHA-256 {files.fingerprint})"
    return (
        f"HTTPS với chứng thư do CA nội bộ cấp / HTTPS with a certificate from the local CA ({files.ca})\n"
        f"  Cài CA một lần trên mỗi máy tính bảng/máy tính / install the CA once on each device: {url}tls/ca.crt\n"
        f"    Windows: mở tệp → Cài chứng thư → 'Trusted Root Certification Authorities'; macOS/iOS: Keychain/Cài đặt → Tin cậy;\n"
        f"    Android: Cài đặt → Bảo mật → Cài chứng chỉ CA; Chrome/Edge (Linux): chrome://settings/certificates → Authorities → Import.\n"
        f"  Kiểm tra dấu vân tay / check the fingerprint: SHA-256 {files.fingerprint}\n"
        f"  Tên được chứng thực / names covered: {', '.join(files.names)}"
    )
