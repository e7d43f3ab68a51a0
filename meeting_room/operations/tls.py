"""HTTPS for the LAN: browsers give a page the microphone and camera only over HTTPS.

With ``tls_cert``/``tls_key`` set, those are used (an organisation's own CA, a public certificate).
Otherwise the first start makes a local certificate authority under ``data_dir/tls`` and issues
the server a certificate for this machine's names and addresses; a later start reissues it when
the machine's addresses changed. People install the CA (``/tls/ca.crt``, a download from the
server's home page) once per device; the server certificate can change without them noticing.

The CA can vouch for this server only: its name constraints permit exactly the names and addresses
the server certificate covers, so a stolen CA key cannot impersonate any other site to the devices
that trust it. Its key need not stay on the running server either: ``meeting-room tls export-ca-key
DEST`` moves it off (to removable media); the server runs on the certificate it has, and
``meeting-room tls renew --ca-key DEST`` issues the next one (yearly, or when the addresses change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
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

log = logging.getLogger(__name__)
CA_NAME = "Phòng họp thông minh — CA nội bộ"
RENEW_BEFORE = dt.timedelta(days=30)


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
        if cert.public_key() != key.public_key():
            raise SettingsError("tls_key không khớp với tls_cert", "tls_key does not belong to tls_cert")
        return TlsFiles(settings.tls_cert, settings.tls_key, None, _fingerprint(cert), _cert_names(cert))
    folder = settings.data_dir / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = machine_names(settings)
    ca_path, ca_key_path = folder / "ca.crt", folder / "ca.key"
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes()) if ca_path.is_file() else None
    ca_key = _load_key(ca_key_path) if ca_key_path.is_file() else None
    current = x509.load_pem_x509_certificate(cert_path.read_bytes()) if cert_path.is_file() and key_path.is_file() else None
    if ca_cert is None or (ca_key is not None and not permits(ca_cert, names)):
        # the first start; or a CA (its key at hand) that cannot vouch for these names: an older CA
        # without name constraints, or the machine's names changed. Devices install the new one.
        if ca_cert is not None:
            log.warning("local CA: the names changed or it had no name constraints; a new CA is made (install it again)")
        ca_cert, ca_key = _new_ca(folder, names)
        current = None
    if current is None or not set(names) <= set(_cert_names(current)) or current.not_valid_after_utc < _now() + RENEW_BEFORE:
        if ca_key is not None:
            _issue(ca_cert, ca_key, names, cert_path, key_path)
        elif current is not None and current.not_valid_after_utc > _now():
            until, covered = current.not_valid_after_utc.date(), ", ".join(_cert_names(current))
            log.warning("local CA key kept off this server: the certificate (until %s, for %s) is not renewed; "
                        "run `meeting-room tls renew --ca-key FILE`", until, covered)  # fmt: skip
            names = _cert_names(current)
        else:
            raise SettingsError(
                f"Chứng thư HTTPS đã hết hạn hoặc chưa có, và khóa CA không ở trên máy chủ ({ca_key_path}); "
                "chạy `meeting-room tls renew --ca-key TỆP` với khóa CA đã cất",
                f"The HTTPS certificate is missing or expired and the CA key is not on this server ({ca_key_path}); "
                "run `meeting-room tls renew --ca-key FILE` with the CA key you keep",
            )
    return TlsFiles(cert_path, key_path, ca_path, _fingerprint(ca_cert), names)


def renew(settings: Settings, ca_key_file: Path) -> TlsFiles:
    """Issue the server certificate with a CA key kept off the server (nothing of it is copied in)."""
    folder = settings.data_dir / "tls"
    ca_path = folder / "ca.crt"
    if not ca_path.is_file():
        raise SettingsError(f"Chưa có CA nội bộ ({ca_path})", f"There is no local CA yet ({ca_path})")
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = _load_key(ca_key_file)
    if ca_key.public_key() != ca_cert.public_key():
        raise SettingsError(f"{ca_key_file} không phải khóa của CA {ca_path}", f"{ca_key_file} is not the key of the CA {ca_path}")
    names = machine_names(settings)
    if not permits(ca_cert, names):
        raise SettingsError(
            "CA nội bộ không được phép chứng thực các tên/địa chỉ hiện tại; đặt khóa CA trở lại thư mục tls để máy chủ tạo CA mới",
            "The local CA may not vouch for the current names/addresses; put its key back in the tls folder so the server makes a new CA",
            names=list(names),
        )
    _issue(ca_cert, ca_key, names, folder / "server.crt", folder / "server.key")
    return TlsFiles(folder / "server.crt", folder / "server.key", ca_path, _fingerprint(ca_cert), names)


def export_ca_key(settings: Settings, destination: Path) -> Path:
    """Move the local CA's key off the server: written to ``destination`` (0600, never over a file),
    synced, then removed from the data directory."""
    source = settings.data_dir / "tls" / "ca.key"
    if not source.is_file():
        raise SettingsError(f"Khóa CA không ở trên máy chủ ({source})", f"The CA key is not on this server ({source})")
    data = source.read_bytes()
    _load_key(source)  # it is a key
    try:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SettingsError(f"{destination} đã tồn tại", f"{destination} already exists") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if destination.read_bytes() != data:
        raise SettingsError(
            f"Ghi {destination} không đúng; khóa vẫn ở máy chủ", f"Writing {destination} failed; the key stays on the server"
        )
    source.unlink()
    return destination


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (ValueError, TypeError, OSError) as exc:
        raise SettingsError(f"Không đọc được khóa {path}: {exc}", f"Cannot read the key {path}: {exc}") from None
    return key  # type: ignore[return-value]  # the keys this server makes and reads back are EC


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def name_constraints(names: tuple[str, ...]) -> x509.NameConstraints:
    """Permitted subtrees: exactly these host names (and their subdomains) and addresses (/32, /128)."""
    permitted: list[x509.GeneralName] = []
    for n in names:
        try:
            ip = ipaddress.ip_address(n)
        except ValueError:
            permitted.append(x509.DNSName(n.lower()))
        else:
            permitted.append(x509.IPAddress(ipaddress.ip_network(f"{ip}/{ip.max_prefixlen}")))
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def permits(ca: x509.Certificate, names: tuple[str, ...]) -> bool:
    """Whether the CA's name constraints allow every one of ``names`` (a CA without them: no)."""
    try:
        nc = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return False
    dns = [g.value.lower() for g in nc.permitted_subtrees or [] if isinstance(g, x509.DNSName)]
    # a name constraint's addresses are networks (cryptography refuses single addresses there)
    nets = [
        g.value
        for g in nc.permitted_subtrees or []
        if isinstance(g, x509.IPAddress) and isinstance(g.value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    ]
    for n in names:
        try:
            ip = ipaddress.ip_address(n)
        except ValueError:
            if not any(n.lower() == d or n.lower().endswith("." + d) for d in dns):
                return False
        else:
            if not any(ip.version == net.version and ip in net for net in nets):
                return False
    return True


def _new_ca(folder: Path, names: tuple[str, ...]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
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
        .add_extension(name_constraints(names), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(
        folder / "ca.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _issue(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: tuple[str, ...], cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
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
