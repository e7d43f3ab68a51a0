"""A small real PKI for the signing tests: a root CA, member certificates as PKCS#12, a TSA.

Keys are RSA (an ECDSA key makes pyHanko raise the PDF to version 2.0) and made once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def pkcs12(self, passphrase: str, chain: tuple[x509.Certificate, ...] = ()) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"signer", self.key, self.cert, list(chain), serialization.BestAvailableEncryption(passphrase.encode())
        )


def _name(cn: str, org: str = "UBND tỉnh Thử nghiệm") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@cache
def _key(label: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _build(
    cn: str, issuer: Issued | None, *, ca: bool = False, tsa: bool = False, days: int = 365, start: datetime | None = None
) -> Issued:
    key = _key(cn)
    now = start or datetime.now(UTC) - timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True)
    else:
        usage.update(digital_signature=True, content_commitment=True)
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    signing_key = issuer.key if issuer else key
    return Issued(builder.sign(signing_key, hashes.SHA256()), key)


@cache
def root_ca(name: str = "CA Thử nghiệm Ban Cơ yếu") -> Issued:
    return _build(name, None, ca=True, days=3650)


@cache
def member_cert(cn: str, *, expired: bool = False, issuer_name: str = "CA Thử nghiệm Ban Cơ yếu") -> Issued:
    start = datetime.now(UTC) - timedelta(days=400) if expired else None
    return _build(cn, root_ca(issuer_name), days=30 if expired else 365, start=start)


@cache
def tsa_cert() -> Issued:
    return _build("Máy chủ dấu thời gian thử nghiệm", root_ca(), tsa=True)


class TimeStampServer:
    """An RFC 3161 time-stamp authority over HTTP on loopback (pyHanko's reference responder)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from asn1crypto import keys, tsp
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        issued = tsa_cert()
        der_key = issued.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(issued.cert.public_bytes(serialization.Encoding.DER)),
            tsa_key=keys.PrivateKeyInfo.load(der_key),
        )
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
