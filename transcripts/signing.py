"""PAdES signatures on the minutes (pyHanko): sign with a member's PKCS#12 or their PKCS#11 token,
check every signature, and check a signature made elsewhere before it is accepted.

Each signature is an incremental update, so the secretary's signature stays intact when the chair
signs after them; verification reports for each one whether anything but further signatures was
added later. The visible appearance follows Decree 30/2020/NĐ-CP, appendix I: the signer's
signature image, who signed, their title and the time in ISO 8601 with Vietnam's offset, and on
the organisation's signature its seal over the left third of the signature image. With a
time-stamp authority configured, each signature carries an RFC 3161 time-stamp as well.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from transcripts.bounded import Bounded, Overrun
from transcripts.errors import SignatureCheckError, SignatureRefusedError, SigningError, WrongSecretError
from transcripts.text import nfc

if TYPE_CHECKING:  # the signing libraries load only when a signature is made or checked
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import Signer, SimpleSigner
    from pyhanko_certvalidator import ValidationContext

VIETNAM = timezone(timedelta(hours=7), "ICT")
ROLE_VI = {"secretary": "Thư ký", "chair": "Chủ tọa"}
FIELD_NAMES = {"secretary": "ChuKy_ThuKy", "chair": "ChuKy_ChuToa"}
FIELD_LABELS = {"ChuKy_ThuKy": "Chữ ký của Thư ký", "ChuKy_ChuToa": "Chữ ký của Chủ tọa"}


@dataclass(frozen=True)
class CertificateInfo:
    common_name: str
    subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class SignRequest:
    role: str  # secretary | chair
    signer_name: str
    signer_title: str | None
    page: int  # 0-based
    box: tuple[float, float, float, float]
    location: str | None = None
    signature_png: bytes | None = None  # the signer's handwritten signature (transparent PNG)
    seal_png: bytes | None = None  # the body's seal, on the organisation's signature only
    reason: str | None = None  # what the signature is for, when not the minutes (the conclusion notice)


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer: str
    signer_subject: str
    fingerprint_sha256: str
    signed_at: datetime | None  # as the signer's computer said
    timestamp: datetime | None  # from the time-stamp authority, when there is one
    timestamp_trusted: bool | None
    intact: bool  # the signed bytes are unchanged
    valid: bool  # intact and the cryptography checks out
    trusted: bool  # the certificate chains up to a trusted root
    coverage: str  # entire_file | entire_revision | partial
    modification: str  # what later revisions did: none, lta_updates, form_filling, annotations, other
    changed_after_signing: bool
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.valid and self.trusted and not self.changed_after_signing

    def summary_vi(self) -> str:
        state = "hợp lệ" if self.valid else "KHÔNG hợp lệ (nội dung đã bị sửa hoặc chữ ký hỏng)"
        trust = "chứng thư tin cậy" if self.trusted else "chứng thư chưa xác minh được với tổ chức chứng thực tin cậy nào"
        later = "có thay đổi sau khi ký" if self.changed_after_signing else "không có thay đổi nào sau khi ký ngoài chữ ký khác"
        # as people read them (a walk-through's clerk saw "ChuKy_ThuKy" and an ISO time)
        when = self.signed_at.astimezone(VIETNAM).strftime("%H:%M:%S ngày %d/%m/%Y") if self.signed_at else "không rõ"
        return f"{FIELD_LABELS.get(self.field, self.field)}: {self.signer}, ký lúc {when}: {state}; {trust}; {later}"


class _Pkcs12(NamedTuple):
    key: PrivateKeyTypes
    cert: x509.Certificate
    chain: list[x509.Certificate]


# A PKCS#12 file names how many rounds its passphrase is stretched, and every opening (the upload,
# each signing) pays them: 2 million cost 0.6 s here, a file may claim billions (an attacker's probe).
# Files made by OpenSSL, Windows and Java use 2,000-600,000.
MAX_KDF_ITERATIONS = 1_000_000


def _kdf_iterations(data: bytes) -> int:
    """The largest iteration count the file declares (its MAC, its encrypted parts, its shrouded keys),
    read from its structure before anything is derived; 0 when it cannot be read (then the loader says why)."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        counts = [int(pfx["mac_data"]["iterations"].native or 0)] if pfx["mac_data"].native else []
        for info in pfx.authenticated_safe:
            if info["content_type"].native == "encrypted_data":
                counts.append(int(info["content"]["encrypted_content_info"]["content_encryption_algorithm"].kdf_iterations))
            elif info["content_type"].native == "data":
                for bag in asn1_pkcs12.SafeContents.load(info["content"].native):
                    if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                        counts.append(int(bag["bag_value"]["encryption_algorithm"].kdf_iterations))
    except (ValueError, TypeError, KeyError):
        return 0
    return max(counts, default=0)


# Opening a PKCS#12 and checking a PDF's signatures run bounded (transcripts.bounded): rounds or form
# fields that no check of the file's shape catches cost at most this much CPU time.
PKCS12_CPU_S = 5  # 1,000,000 rounds take 0.3 s
VERIFY_CPU_S = 10  # the minutes: 0.01-0.1 s; 50 signers over 50 revisions: 3 s
_OPENING = Bounded(PKCS12_CPU_S, wall_s=60)
_CHECKING = Bounded(VERIFY_CPU_S, wall_s=120)


def _load_pkcs12(data: bytes, passphrase: str) -> _Pkcs12:
    from cryptography import x509 as crypto_x509
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    if not data:
        raise SigningError("Tệp chứng thư số trống", "The certificate file is empty")
    try:
        key, cert, chain = _OPENING.run(_open_pkcs12, data, passphrase, MAX_KDF_ITERATIONS)
    except Overrun as exc:
        if exc.crashed:
            raise SigningError("Không mở được tệp PKCS#12: tiến trình mở tệp dừng bất thường, hãy thử lại",
                               "The PKCS#12 file could not be opened: the process opening it stopped; try again") from None  # fmt: skip
        raise SigningError(
            f"Mở tệp PKCS#12 này cần hơn {_OPENING.cpu_s} giây tính toán: hãy xuất lại chứng thư bằng công cụ thông thường",
            f"Opening this PKCS#12 file takes over {_OPENING.cpu_s} s of computing: export it again with a usual tool",
            cpu_s=_OPENING.cpu_s,
        ) from None
    return _Pkcs12(load_der_private_key(key, None), crypto_x509.load_der_x509_certificate(cert),
                   [crypto_x509.load_der_x509_certificate(c) for c in chain])  # fmt: skip


def _open_pkcs12(data: bytes, passphrase: str, max_rounds: int) -> tuple[bytes, bytes, list[bytes]]:
    """In the bounded worker: the key (PKCS#8 DER) and the certificates (DER), for the caller to load.
    The rounds are read here too: reading a PKCS#12's structure with asn1crypto fixes its table of
    content types, and the time-stamp's type, registered later, could then no longer be named in the
    server (every signing with a time-stamp failed after a certificate upload: a clean-clone run)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

    if (rounds := _kdf_iterations(data)) > max_rounds:
        vi = f"{rounds:,}".replace(",", "."), f"{max_rounds:,}".replace(",", ".")  # 1.000.000, as written in Vietnam
        raise SigningError(
            f"Tệp PKCS#12 khai báo {vi[0]} vòng băm mật khẩu, tối đa {vi[1]}: hãy xuất lại chứng thư bằng công cụ thông thường",
            f"The PKCS#12 file declares {rounds:,} passphrase rounds, at most {max_rounds:,}: export it again with a usual tool",
            iterations=rounds,
            max_iterations=max_rounds,
        )
    try:
        loaded = pkcs12.load_pkcs12(data, passphrase.encode() if passphrase else None)
    except ValueError as exc:
        reason = str(exc)
        wrong = "password" in reason.lower() or "mac" in reason.lower()
        raise (WrongSecretError if wrong else SigningError)(
            "Mật khẩu của chứng thư số không đúng" if wrong else "Tệp không phải chứng thư số PKCS#12 (.p12/.pfx) đọc được",
            "Wrong passphrase for the PKCS#12 file" if wrong else "Not a readable PKCS#12 (.p12/.pfx) file",
            reason=reason,
        ) from None
    if loaded.key is None or loaded.cert is None:
        raise SigningError(
            "Tệp PKCS#12 không chứa khóa bí mật và chứng thư của người ký",
            "The PKCS#12 file holds no private key with its certificate",
        )
    der = loaded.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return (
        der,
        loaded.cert.certificate.public_bytes(Encoding.DER),
        [c.certificate.public_bytes(Encoding.DER) for c in loaded.additional_certs],
    )


def certificate_info(data: bytes, passphrase: str, *, now: datetime | None = None) -> CertificateInfo:
    """Open a PKCS#12 (checks the passphrase and the validity period) and describe its certificate."""
    return _describe(_load_pkcs12(data, passphrase).cert, now)


def x509_certificate(data: bytes) -> x509.Certificate | None:
    """The certificate if ``data`` is one X.509 certificate (PEM or DER, as exported from a USB token), else None."""
    from cryptography import x509 as cx509

    try:
        return cx509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----BEGIN") else cx509.load_der_x509_certificate(data)
    except ValueError:
        return None


def token_certificate_info(cert: x509.Certificate, *, now: datetime | None = None) -> CertificateInfo:
    """Describe a certificate whose key stays on the signer's token (checks the validity period)."""
    return _describe(cert, now)


def _describe(cert: x509.Certificate, now: datetime | None) -> CertificateInfo:
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    info = CertificateInfo(
        common_name=str(names[0].value) if names else cert.subject.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        fingerprint_sha256=hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    moment = now or datetime.now(UTC)
    if not info.not_before <= moment <= info.not_after:
        raise SigningError(
            f"Chứng thư số của {info.common_name} chỉ có hiệu lực từ {info.not_before:%d/%m/%Y} đến {info.not_after:%d/%m/%Y}",
            f"The certificate of {info.common_name} is valid from {info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d} only",
            not_before=info.not_before.isoformat(),
            not_after=info.not_after.isoformat(),
        )
    return info


def _signer(data: bytes, passphrase: str) -> SimpleSigner:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    loaded = _load_pkcs12(data, passphrase)
    key = load_private_key_from_pemder_data(loaded.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()), None)
    cert = _asn1_cert(loaded.cert.public_bytes(Encoding.DER))
    chain = [_asn1_cert(extra.public_bytes(Encoding.DER)) for extra in loaded.chain]
    # from_certs has no annotations in pyhanko-certvalidator
    registry = SimpleCertificateStore.from_certs([cert, *chain])  # type: ignore[no-untyped-call]
    return signers.SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry)


def _asn1_cert(der: bytes) -> asn1_x509.Certificate:
    from asn1crypto import x509

    return x509.Certificate.load(der)


def appearance_text(request: SignRequest, when: datetime) -> str:
    """Decree 30 appendix I: who signed, their title, and when (ISO 8601 with Vietnam's offset)."""
    lines = [f"Người ký: {request.signer_name}"]
    if request.signer_title:
        lines.append(f"Chức vụ: {request.signer_title}")
    if not request.signature_png:  # without the image nothing else on the page says which signature this is
        lines.append(f"Ký với vai trò: {ROLE_VI[request.role]}")
    lines.append(f"Thời gian ký: {when.astimezone(VIETNAM).isoformat(timespec='seconds')}")
    return nfc("\n".join(lines))


FONT_SIZE, LEADING = 10, 12  # points: Times New Roman 10 (Liberation Serif has its metrics)
PX_PER_PT = 4  # the composed image's resolution: 288 dpi
SEAL_OVERLAP = 1 / 3  # the seal covers about a third of the signature image, on its left


def appearance_image(
    box: tuple[float, float, float, float], signature_png: bytes | None, seal_png: bytes | None, text_lines: int
) -> bytes | None:
    """The box's picture above the text: the signature image, with the seal over its left third (PNG)."""
    from PIL import Image

    if not signature_png and not seal_png:
        return None
    x1, y1, x2, y2 = box
    width, height = round((x2 - x1) * PX_PER_PT), round((y2 - y1) * PX_PER_PT)
    area = height - round((text_lines * LEADING + 8) * PX_PER_PT)  # the text sits at the bottom, clear of the pictures
    canvas = Image.new("RGBA", (width, height), (255, 255, 255, 0))

    def fitted(png: bytes, max_w: int, max_h: int) -> Image.Image:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            picture = image.convert("RGBA")
        scale = min(max_w / picture.width, max_h / picture.height)
        return picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))), Image.Resampling.LANCZOS)

    seal = fitted(seal_png, width // 2, area) if seal_png else None
    if signature_png:
        signature = fitted(signature_png, round(width * 0.75), area)
        left = round(seal.width - signature.width * SEAL_OVERLAP) if seal else (width - signature.width) // 2
        left = max(0, min(left, width - signature.width))
        canvas.alpha_composite(signature, (left, (area - signature.height) // 2))
    if seal:
        canvas.alpha_composite(seal, (0, (area - seal.height) // 2))  # the seal lies over the signature
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def sign_pdf(
    pdf: bytes,
    pkcs12: bytes,
    passphrase: str,
    request: SignRequest,
    font: Path,
    *,
    tsa_url: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """The PDF with one more signature (an incremental update: earlier signatures stay intact)."""
    return sign_pdf_with(pdf, _signer(pkcs12, passphrase), request, font, tsa_url=tsa_url, now=now)


@contextmanager
def pkcs11_signer(module: Path, pin: str, *, token_label: str | None = None, key_label: str | None = None) -> Iterator[Signer]:
    """A signer whose key stays on a PKCS#11 token (a USB token, or SoftHSM2 in tests): only digests go in.
    The token's session closes when the block ends."""
    from pyhanko.sign import pkcs11

    try:
        session = pkcs11.open_pkcs11_session(str(module), token_criteria=_token_criteria(token_label), user_pin=pin)
    except Exception as exc:  # python-pkcs11 raises one class per PKCS#11 return code
        wrong = "pin" in type(exc).__name__.lower()
        raise (WrongSecretError if wrong else SigningError)(
            "Mã PIN của thiết bị ký số (token) không đúng" if wrong else f"Không mở được thiết bị ký số (token) qua {module}",
            "Wrong PIN for the signing token" if wrong else f"Cannot open the signing token through {module}",
            reason=f"{type(exc).__name__}: {exc}",
        ) from None
    try:
        try:
            signer = pkcs11.PKCS11Signer(session, key_label=key_label, cert_label=key_label, other_certs_to_pull=None)
            signer_certificate_der(signer)  # the certificate is looked up now: a token without one fails here
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(
                "Thiết bị ký số không có khóa và chứng thư số để ký", "The token holds no key with its certificate", reason=str(exc)
            ) from None
        yield signer
    finally:
        session.close()


def _token_criteria(label: str | None) -> TokenCriteria | None:
    from pyhanko.config.pkcs11 import TokenCriteria

    return TokenCriteria(label=label) if label else None


def signer_certificate_der(signer: Signer) -> bytes:
    """The signer's certificate (DER), to check it is the one registered before anything is sent."""
    cert = signer.signing_cert
    if cert is None:
        raise SigningError("Thiết bị ký số không có chứng thư số", "The signer has no certificate")
    return bytes(cert.dump())


def sign_pdf_with(
    pdf: bytes,
    signer: Signer,
    request: SignRequest,
    font: Path,
    *,
    tsa_url: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """``sign_pdf`` with any pyHanko signer: a PKCS#12 loaded on the server, or a PKCS#11 token on the signer's computer."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.layout import AxisAlignment, BoxConstraints, InnerScaling, Margins, SimpleBoxLayoutRule
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.stamp import TextStampStyle

    if request.role not in FIELD_NAMES:
        raise SigningError(
            f"Vai trò ký không hợp lệ: {request.role}", f"Unknown signing role {request.role!r}", accepted=sorted(FIELD_NAMES)
        )
    when = now or datetime.now(UTC)
    field_name = FIELD_NAMES[request.role]
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as exc:  # pyHanko raises several parser errors
        raise SigningError("Tệp biên bản không phải PDF đọc được", "The minutes file is not a readable PDF", reason=str(exc)) from None
    x1, y1, x2, y2 = (round(v) for v in request.box)
    fields.append_signature_field(writer, fields.SigFieldSpec(field_name, on_page=request.page, box=(x1, y1, x2, y2)))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=request.reason or f"{ROLE_VI[request.role]} ký biên bản cuộc họp",
        location=request.location,
        name=request.signer_name,
    )
    text = appearance_text(request, when)
    picture = appearance_image((x1, y1, x2, y2), request.signature_png, request.seal_png, text.count("\n") + 1)
    background = None
    if picture is not None:
        from PIL import Image

        background = PdfImage(Image.open(io.BytesIO(picture)), box=BoxConstraints(x2 - x1, y2 - y1))
    style = TextStampStyle(
        stamp_text="%(appearance)s",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(font), font_size=FONT_SIZE), leading=LEADING),
        border_width=0 if picture else 1,
        background=background,
        background_opacity=1.0,
        background_layout=SimpleBoxLayoutRule(
            AxisAlignment.ALIGN_MIN, AxisAlignment.ALIGN_MIN, inner_content_scaling=InnerScaling.NO_SCALING
        ),
        inner_content_layout=SimpleBoxLayoutRule(
            AxisAlignment.ALIGN_MID,
            AxisAlignment.ALIGN_MIN if picture else AxisAlignment.ALIGN_MID,
            margins=Margins(2, 2, 2, 2),
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=15) if tsa_url else None
    out = io.BytesIO()
    try:
        signers.PdfSigner(meta, signer=signer, timestamper=timestamper, stamp_style=style).sign_pdf(
            writer, output=out, appearance_text_params={"appearance": text}
        )
    except Exception as exc:
        if tsa_url and "timestamp" in type(exc).__name__.lower() + str(exc).lower():
            raise SigningError(
                f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian {tsa_url}",
                f"The time-stamp authority {tsa_url} did not answer with a time-stamp",
                reason=str(exc),
            ) from None
        raise
    return out.getvalue()


def _trust_context(trust_roots: Sequence[bytes]) -> ValidationContext:
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko_certvalidator import ValidationContext

    roots = [cert for blob in trust_roots for cert in load_certs_from_pemder_data(blob)]
    # offline: nothing is fetched; revocation is not known here and does not fail the check
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def _not_valid(base: dict[str, Any], problem: str) -> SignatureReport:
    """A signature that could not be checked: not intact, not valid, nothing after it vouched for."""
    return SignatureReport(
        **base,
        timestamp=None,
        timestamp_trusted=None,
        intact=False,
        valid=False,
        trusted=False,
        coverage="unknown",
        modification="unknown",
        changed_after_signing=True,
        problems=(problem,),
    )


def _damaged(field: str, exc: Exception) -> SignatureReport:
    """A signature whose data cannot even be decoded: nobody can say who signed, and it proves nothing."""
    unknown = {"field": field, "signer": "không rõ / unknown", "signer_subject": "", "fingerprint_sha256": "", "signed_at": None}
    problem = f"Dữ liệu chữ ký bị hỏng, không giải mã được / the signature's data is damaged and cannot be decoded ({type(exc).__name__})"
    return _not_valid(unknown, problem)


# Signed minutes have 3-6 revisions (the document, each signature, a time stamp); a document signed by
# dozens of people, a few per signer.
MAX_REVISIONS = 200
MAX_SIGNATURES = 50


def verify_pdf(pdf: bytes, trust_roots: Sequence[bytes] = ()) -> list[SignatureReport]:
    """Every signature of the PDF: intact, signer, time, trusted, and whether the file changed after it."""
    try:
        return _CHECKING.run(_verify_pdf, pdf, list(trust_roots))
    except Overrun as exc:
        if exc.crashed:
            raise SignatureCheckError("Không kiểm tra được: tiến trình kiểm tra dừng bất thường, hãy thử lại",
                                      "Not checked: the checking process stopped; try again") from None  # fmt: skip
        raise SignatureCheckError(
            f"Kiểm tra chữ ký của tệp PDF này cần hơn {_CHECKING.cpu_s} giây tính toán (quá nhiều ô biểu mẫu, chữ ký "
            "hoặc lần cập nhật); không kiểm tra",
            f"Checking this PDF's signatures takes over {_CHECKING.cpu_s} s of computing (too many form fields, signatures "
            "or revisions); not checked",
            cpu_s=_CHECKING.cpu_s,
        ) from None


def _verify_pdf(pdf: bytes, trust_roots: Sequence[bytes]) -> list[SignatureReport]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
    from pyhanko.sign.validation import EmbeddedPdfSignature, SignatureCoverageLevel, validate_pdf_signature

    if not pdf.startswith(b"%PDF-"):
        raise SignatureCheckError(
            "Tệp không phải PDF: hãy chọn tệp PDF của biên bản đã ký",
            "The file is not a PDF: choose the signed minutes' PDF",
            first_bytes=pdf[:8].hex(),
        )
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        raise SignatureCheckError("Không đọc được tệp PDF", "The PDF cannot be parsed", reason=str(exc)) from None
    if not fields:
        raise SignatureCheckError("Tệp PDF không có chữ ký số nào", "The PDF carries no signature")
    # each signature's check compares every revision after it with the last: a member's upload of a signed
    # PDF followed by 2,000 small revisions took 0.9 s and grows faster than the file (an attacker's probe)
    if reader.total_revisions > MAX_REVISIONS or len(fields) > MAX_SIGNATURES:
        raise SignatureCheckError(
            f"Tệp PDF có {reader.total_revisions} lần cập nhật và {len(fields)} ô chữ ký; "
            f"kiểm tra được tối đa {MAX_REVISIONS} lần cập nhật và {MAX_SIGNATURES} chữ ký",
            f"The PDF has {reader.total_revisions} revisions and {len(fields)} signature fields; "
            f"at most {MAX_REVISIONS} revisions and {MAX_SIGNATURES} signatures are checked",
            revisions=reader.total_revisions,
            signatures=len(fields),
        )
    # one signature at a time, as pyHanko's own list does but without letting one bad signature stop it: a damaged
    # one (a byte flipped in its /Contents) is reported by its field as not valid, and the others are still checked
    # (it made the whole file "cannot be parsed" before: an attacker's probe)
    found: list[tuple[int, EmbeddedPdfSignature | SignatureReport]] = []  # in signing order: where its signed bytes end
    known = {f.value for f in SigSeedSubFilter}
    for name, sig_object, sig_field in fields:
        obj = sig_object.get_object()
        if obj.get("/SubFilter") not in known:
            continue  # a kind of signature pyHanko does not check (as its own list skips it)
        try:
            ranges = [int(n) for n in obj.raw_get("/ByteRange")]
            end = ranges[2] + ranges[3]
        except Exception:
            end = len(pdf) + 1  # no readable range: after every other
        try:
            found.append((end, EmbeddedPdfSignature(reader, sig_field, name)))
        except Exception as exc:
            found.append((end, _damaged(name, exc)))
    if not found:
        raise SignatureCheckError("Tệp PDF không có chữ ký số nào", "The PDF carries no signature")
    reports: list[SignatureReport] = []
    allowed = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
    for _, embedded in sorted(found, key=lambda pair: pair[0]):
        if isinstance(embedded, SignatureReport):
            reports.append(embedded)
            continue
        try:
            cert = embedded.signer_cert
            base = {
                "field": embedded.field_name,
                "signer": cert.subject.native.get("common_name", cert.subject.human_friendly),
                "signer_subject": cert.subject.human_friendly,
                "fingerprint_sha256": hashlib.sha256(cert.dump()).hexdigest(),
                "signed_at": embedded.self_reported_timestamp,
            }
        except Exception as exc:
            reports.append(_damaged(embedded.field_name, exc))
            continue
        try:
            status = validate_pdf_signature(
                embedded, signer_validation_context=_trust_context(trust_roots), ts_validation_context=_trust_context(trust_roots)
            )
        except Exception as exc:
            reports.append(_not_valid(base, str(exc)))
            continue
        coverages: dict[SignatureCoverageLevel | None, str] = {
            SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
            SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
        }
        coverage = coverages.get(status.coverage, "partial")
        modification = status.modification_level.name.lower() if status.modification_level is not None else "unknown"
        changed = coverage == "partial" or status.modification_level not in allowed or status.docmdp_ok is False
        ts = status.timestamp_validity
        problems = []
        if not status.intact:
            problems.append("Nội dung đã ký bị thay đổi / the signed bytes were changed")
        if status.intact and not status.valid:
            problems.append("Giá trị chữ ký không khớp / the signature value does not match")
        if not status.trusted:
            problems.append(
                "Chứng thư không nối được tới tổ chức chứng thực tin cậy đã cấu hình (trust_roots) / "
                "the certificate does not chain to a configured trusted root"
            )
        reports.append(
            SignatureReport(
                **base,
                timestamp=ts.timestamp if ts is not None else None,
                timestamp_trusted=ts.trusted if ts is not None else None,
                intact=bool(status.intact),
                valid=bool(status.intact and status.valid),
                trusted=bool(status.trusted),
                coverage=coverage,
                modification=modification,
                changed_after_signing=changed,
                problems=tuple(problems),
            )
        )
    return reports


def check_added_signature(
    source: bytes, signed: bytes, field: str, page: int, fingerprint_sha256: str, trust_roots: Sequence[bytes] = ()
) -> SignatureReport:
    """A PDF signed elsewhere (on the signer's own token), accepted only if it is exactly ``source`` with one
    incremental update that adds one valid signature in ``field`` (on ``page``), made with the certificate ``fingerprint_sha256``,
    and changes nothing else; earlier signatures stay valid. Raises ``SignatureRefusedError`` naming the reason."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not signed.startswith(source) or len(signed) == len(source):
        raise SignatureRefusedError(
            "Tệp tải lên không phải biên bản đã giao để ký cộng thêm chữ ký: nội dung đã khác",
            "The upload is not the minutes handed out for signing plus a signature: the content differs",
            size=len(signed),
        )
    before = verify_pdf(source, trust_roots) if b"/ByteRange" in source else []
    after = verify_pdf(signed, trust_roots)
    if len(after) != len(before) + 1:
        raise SignatureRefusedError(
            f"Tệp tải lên phải có đúng một chữ ký mới; có {len(after) - len(before)}",
            f"The upload must add exactly one signature; it adds {len(after) - len(before)}",
            added=len(after) - len(before),
        )
    added = after[-1]
    if added.field != field:
        raise SignatureRefusedError(
            f"Chữ ký mới nằm ở ô {added.field}, không phải ô {field} của người ký đến lượt",
            f"The new signature is in field {added.field}, not {field} of the signer whose turn it is",
            field=added.field,
            expected=field,
        )
    if not (added.intact and added.valid) or added.coverage != "entire_file":
        raise SignatureRefusedError(
            "Chữ ký mới không hợp lệ (nội dung đã bị sửa hoặc chữ ký hỏng)",
            "The new signature is not valid (the content was changed or the signature is broken)",
            problems=list(added.problems),
            coverage=added.coverage,
        )
    if added.fingerprint_sha256 != fingerprint_sha256:
        raise SignatureRefusedError(
            f"Chữ ký được tạo bằng chứng thư số của {added.signer}, không phải chứng thư số đã đăng ký cho bạn",
            f"The signature was made with the certificate of {added.signer}, not the one registered for you",
            fingerprint_sha256=added.fingerprint_sha256,
            registered=fingerprint_sha256,
        )
    if any(not r.valid or r.changed_after_signing for r in after[:-1]):
        raise SignatureRefusedError(
            "Tệp tải lên làm hỏng chữ ký trước đó", "The upload breaks an earlier signature", fields=[r.field for r in after[:-1]]
        )
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    served = PdfFileReader(io.BytesIO(source), strict=False)
    base = served.xrefs.total_revisions - 1
    problem = _trailer_problem(reader, served) or _update_problem(reader, base, page)
    if problem:
        raise SignatureRefusedError(
            "Bản cập nhật kèm chữ ký còn sửa nội dung biên bản, không chỉ thêm chữ ký",
            "The update that carries the signature also changes the minutes, not only adds a signature",
            reason=problem,
        )
    return added


def _trailer_problem(reader: PdfFileReader, served: PdfFileReader) -> str | None:
    """An update that points the file at another catalogue (or document information) rewrites
    nothing old, so only this catches it: its pages would be whatever the update brought."""
    from pyhanko.pdf_utils import generic

    if reader.root_ref != served.root_ref:
        return "the document catalogue was replaced"
    was, now = (r.trailer.raw_get("/Info") if "/Info" in r.trailer else None for r in (served, reader))
    if isinstance(was, generic.IndirectObject) and not (isinstance(now, generic.IndirectObject) and now.reference == was.reference):
        return "the document information was replaced"
    return None


def _update_problem(reader: PdfFileReader, base: int, page: int) -> str | None:
    """What the one update after revision ``base`` changes beyond adding a signature, or None.

    With a form already there (the chair signs after the secretary) pyHanko's own diff policy judges
    it. Before the first signature there is no form to compare, and that policy cannot run; then the
    update may only add new objects, give the catalogue its /AcroForm (and the signature's extension
    level), the signed page its widget, and restamp the document information (producer, date) and its
    XMP copy, as pyHanko does when it signs; the pages' content and every other object stay as served."""
    from pyhanko.pdf_utils import generic
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, SuspiciousModification
    from pyhanko.sign.diff_analysis.commons import compare_dicts

    last = reader.xrefs.total_revisions - 1
    if last != base + 1:
        return f"{last - base} updates instead of one"
    old = reader.get_historical_resolver(base)
    if "/AcroForm" in old.root:
        review = DEFAULT_DIFF_POLICY.review_file(reader, base)
        if isinstance(review, SuspiciousModification):
            return str(review)
        return None if review.modification_level <= ModificationLevel.FORM_FILLING else review.modification_level.name
    page_ref = old.find_page_for_modification(page)[0]  # type: ignore[no-untyped-call]  # pyHanko leaves it unannotated
    info = reader.trailer.raw_get("/Info") if "/Info" in reader.trailer else None
    xmp = old.root.raw_get("/Metadata") if "/Metadata" in old.root else None
    try:
        for ref in reader.xrefs.explicit_refs_in_revision(last) | reader.xrefs.refs_freed_in_revision(last):
            if reader.xrefs.get_introducing_revision(ref) == last:
                continue  # a new object: the signature, its widget, appearance, font, images
            before, after = old(ref), reader.get_object(ref)  # type: ignore[no-untyped-call]  # as above
            if ref == reader.root_ref:
                compare_dicts(before, after, frozenset({"/AcroForm", "/Extensions"}))
                form = after["/AcroForm"] if "/AcroForm" in after else None  # indexing resolves a reference
                if form is not None and any(key in form for key in ("/XFA", "/NeedAppearances")):
                    return "the new form carries /XFA or /NeedAppearances"
            elif isinstance(info, generic.IndirectObject) and ref == info.reference:
                compare_dicts(before, after, frozenset({"/Producer", "/ModDate"}))
            elif isinstance(xmp, generic.IndirectObject) and ref == xmp.reference:
                continue  # the XMP copy of the document information, restamped like it
            elif ref == getattr(page_ref, "reference", page_ref):
                compare_dicts(before, after, frozenset({"/Annots"}))
                kept = list(before.get("/Annots", generic.ArrayObject()))
                annots = list(after.get("/Annots", generic.ArrayObject()))
                if annots[: len(kept)] != kept:
                    return "the page's earlier annotations changed"
                added = [a.get_object() for a in annots[len(kept) :]]
                # exactly one: the signature's own widget (anything else could paint over the page)
                if len(added) != 1 or added[0].get("/Subtype") != "/Widget" or added[0].get("/FT") != "/Sig":
                    return "the page gained annotations other than the signature's widget"
            else:
                return f"object {ref.idnum} {ref.generation} was rewritten"
    except SuspiciousModification as exc:
        return str(exc)
    return None
