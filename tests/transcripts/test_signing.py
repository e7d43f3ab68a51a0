"""Two PAdES signatures (secretary, then chair) checked by pyHanko and by poppler's pdfsig; a flipped
byte, a wrong passphrase, an expired certificate, an untrusted root; an RFC 3161 time-stamp over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.pki import TimeStampServer, member_cert, root_ca
from tests.signature_pictures import seal_png, signature_png
from transcripts.errors import SignatureCheckError, SigningError
from transcripts.fonts import FontSet, stamp_font
from transcripts.pdf import RenderedMinutes
from transcripts.signing import MAX_REVISIONS, VIETNAM, SignRequest, appearance_text, certificate_info, sign_pdf, verify_pdf

SECRETARY, CHAIR = "Lê Thị Hoa", "Nguyễn Văn Trường"
SHOTS = Path(os.environ.get("MEETING_ROOM_SCREENSHOTS", Path(__file__).parents[2] / "test-artifacts" / "screenshots"))


def _request(rendered: RenderedMinutes, role: str, name: str) -> SignRequest:
    box = rendered.signature_boxes[role]
    return SignRequest(role, name, "Chuyên viên" if role == "secretary" else "Giám đốc Sở", box.page, box.box)


@pytest.fixture(scope="module")
def tsa() -> Iterator[TimeStampServer]:
    server = TimeStampServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def signed(rendered: RenderedMinutes, fonts: FontSet, tmp_path_factory: pytest.TempPathFactory, tsa: TimeStampServer) -> bytes:
    font = stamp_font(fonts, tmp_path_factory.mktemp("fonts"))
    first = sign_pdf(rendered.pdf, member_cert(SECRETARY).pkcs12("thu-ky"), "thu-ky", _request(rendered, "secretary", SECRETARY), font)
    assert first.startswith(rendered.pdf)  # an incremental update: the original bytes are untouched
    second = sign_pdf(first, member_cert(CHAIR).pkcs12("chu-toa"), "chu-toa", _request(rendered, "chair", CHAIR), font, tsa_url=tsa.url)
    assert second.startswith(first)
    return second


def test_both_signatures_are_intact_trusted_and_only_signatures_came_later(signed: bytes) -> None:
    reports = verify_pdf(signed, [root_ca().pem])
    assert [(r.field, r.signer) for r in reports] == [("ChuKy_ThuKy", SECRETARY), ("ChuKy_ChuToa", CHAIR)]
    assert all(r.ok and r.intact and r.valid and r.trusted and not r.changed_after_signing for r in reports)
    secretary, chair = reports
    assert secretary.coverage == "entire_revision" and secretary.modification == "form_filling"  # the chair's signature
    assert chair.coverage == "entire_file" and chair.modification == "none"
    assert secretary.timestamp is None and chair.timestamp is not None and chair.timestamp_trusted
    assert "hợp lệ; chứng thư tin cậy" in chair.summary_vi() and chair.summary_vi().startswith("Chữ ký của Chủ tọa: ")
    assert chair.signed_at is not None  # the time as people read it, in Vietnam's time
    assert chair.signed_at.astimezone(VIETNAM).strftime("ký lúc %H:%M:%S ngày %d/%m/%Y") in chair.summary_vi()


def test_the_time_stamp_came_from_the_authority_over_http(signed: bytes, tsa: TimeStampServer) -> None:
    assert tsa.requests >= 1


def test_an_unknown_root_is_reported_untrusted_but_intact(signed: bytes) -> None:
    reports = verify_pdf(signed, [])
    assert all(r.intact and r.valid and not r.trusted and not r.ok for r in reports)
    assert "chứng thư chưa xác minh được với tổ chức chứng thực tin cậy nào" in reports[0].summary_vi()
    assert "does not chain to a configured trusted root" in reports[0].problems[0]


def test_a_flipped_byte_breaks_the_signatures(signed: bytes, rendered: RenderedMinutes) -> None:
    index = rendered.pdf.index(b"stream", len(rendered.pdf) // 3) + 20  # inside a content stream of the original
    tampered = bytearray(signed)
    tampered[index] ^= 0x01
    reports = verify_pdf(bytes(tampered), [root_ca().pem])
    assert reports and not any(r.intact for r in reports) and not any(r.ok for r in reports)


def test_a_damaged_signature_is_reported_by_its_field_and_the_others_are_still_checked(signed: bytes) -> None:
    """A byte flipped where the chair's signature data starts (its /Contents) leaves the data undecodable: that
    signature is reported not valid, the secretary's is still checked, and the file is not called unreadable."""
    at = signed.rindex(b"/Contents <") + len(b"/Contents <")  # the chair's: the last signature added
    tampered = bytearray(signed)
    tampered[at : at + 2] = b"00"  # the DER's first byte (a SEQUENCE, 30) becomes 00: nothing decodes
    reports = verify_pdf(bytes(tampered), [root_ca().pem])
    assert [r.field for r in reports] == ["ChuKy_ThuKy", "ChuKy_ChuToa"]  # still in signing order
    secretary, chair = reports
    assert not (chair.ok or chair.valid or chair.intact) and "damaged" in chair.problems[0] and "bị hỏng" in chair.problems[0]
    assert "KHÔNG hợp lệ" in chair.summary_vi()
    assert secretary.valid and secretary.intact  # its bytes were not touched
    # the secretary's damaged instead: first in the list all the same, and the chair's is still checked (and found
    # changed: it covers the secretary's signature, bytes included)
    at = signed.index(b"/Contents <") + len(b"/Contents <")
    tampered = bytearray(signed)
    tampered[at : at + 2] = b"00"
    secretary, chair = verify_pdf(bytes(tampered), [root_ca().pem])
    assert secretary.field == "ChuKy_ThuKy" and not secretary.valid and "damaged" in secretary.problems[0]
    assert chair.field == "ChuKy_ChuToa" and chair.signer == CHAIR and not chair.intact and "damaged" not in " ".join(chair.problems)


def test_pdfsig_agrees(signed: bytes, tmp_path: Path) -> None:
    pdf, ca = tmp_path / "signed.pdf", tmp_path / "ca.pem"
    pdf.write_bytes(signed)
    ca.write_bytes(root_ca().pem)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "C,C,C", "-i", str(ca)], check=True, capture_output=True)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid.") == 2 and out.count("Certificate is Trusted.") == 2, out
    assert f"Common Name: {SECRETARY}" in out and "Total document signed" in out
    tampered = bytearray(signed)
    tampered[len(signed) // 4] ^= 0x01
    pdf.write_bytes(bytes(tampered))
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature is Valid." not in out, out


def test_bad_certificates_and_files_get_clear_errors(rendered: RenderedMinutes, fonts: FontSet, tmp_path: Path) -> None:
    good = member_cert(SECRETARY).pkcs12("dung")
    with pytest.raises(SigningError) as err:
        certificate_info(good, "sai")
    assert "Mật khẩu" in err.value.message_vi
    for junk in (b"", b"not a certificate"):
        with pytest.raises(SigningError):
            certificate_info(junk, "x")
    expired = member_cert("Người Hết Hạn", expired=True).pkcs12("x")
    with pytest.raises(SigningError) as err:
        certificate_info(expired, "x")
    assert "chỉ có hiệu lực" in err.value.message_vi
    info = certificate_info(good, "dung")
    assert info.common_name == SECRETARY and len(info.fingerprint_sha256) == 64
    with pytest.raises(SigningError):
        sign_pdf(b"%PDF-1.7 truncated", good, "dung", _request(rendered, "secretary", SECRETARY), stamp_font(fonts, tmp_path))
    with pytest.raises(SignatureCheckError):
        verify_pdf(b"hello")
    with pytest.raises(SignatureCheckError) as check_err:
        verify_pdf(rendered.pdf)
    assert "không có chữ ký" in check_err.value.message_vi


def test_a_pdf_with_more_revisions_than_any_signed_document_is_refused_unchecked(signed: bytes) -> None:
    """Each signature's check compares every later revision: 2,000 small ones took 0.9 s and grow faster than the file."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader

    def revised(data: bytes, note: str) -> bytes:  # one more revision: a key added to the catalogue
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        writer.root["/Ghi"] = generic.TextStringObject(note)
        writer.update_root()  # type: ignore[no-untyped-call]
        out = io.BytesIO()
        writer.write(out)  # type: ignore[no-untyped-call]
        return out.getvalue()

    data = signed
    for i in range(MAX_REVISIONS - PdfFileReader(io.BytesIO(signed)).total_revisions):  # the document, its signatures
        data = revised(data, f"lần {i}")
    assert [r.changed_after_signing for r in verify_pdf(data, [root_ca().pem])] == [True, True]  # at the limit: checked
    with pytest.raises(SignatureCheckError) as err:
        verify_pdf(revised(data, "một lần nữa"), [root_ca().pem])
    assert err.value.details["revisions"] == MAX_REVISIONS + 1 and "tối đa 200 lần cập nhật" in err.value.message_vi


def test_opening_a_certificate_leaves_the_time_stamps_nameable_in_this_process() -> None:
    """Reading a PKCS#12's structure with asn1crypto fixed its table of content types before pyHanko's
    time-stamp type was registered: after a certificate upload, every signing with a time-stamp failed
    (a clean-clone run). Checked in a fresh interpreter, where nothing has imported the time-stamps yet."""
    script = (
        "from tests.pki import member_cert\n"
        "from transcripts.signing import certificate_info\n"
        "certificate_info(member_cert('A').pkcs12('x'), 'x')\n"
        "import asn1crypto.tsp\n"
        "from asn1crypto import cms\n"
        "cms.ContentType('tst_info')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_pkcs12_that_claims_too_many_passphrase_rounds_is_refused_before_any_is_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each opening pays the rounds a file declares: a file may claim billions (an attacker's probe)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    signer = member_cert(SECRETARY)
    usual = signer.pkcs12("dung")  # what OpenSSL, Windows and Java make: 2,000 to 600,000 rounds
    assert certificate_info(usual, "dung").common_name == SECRETARY
    built = serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(50_000).hmac_hash(hashes.SHA256())
    stretched = pkcs12.serialize_key_and_certificates(b"signer", signer.key, signer.cert, None, built.build(b"dung"))
    assert certificate_info(stretched, "dung").common_name == SECRETARY
    monkeypatch.setattr("transcripts.signing.MAX_KDF_ITERATIONS", 40_000)  # a file over the real cap costs seconds to make
    with pytest.raises(SigningError) as err:
        certificate_info(stretched, "dung")
    assert err.value.details["iterations"] == 50_000 and "50.000 vòng" in err.value.message_vi and "40,000" in err.value.message_en
    assert certificate_info(usual, "dung").common_name == SECRETARY  # the library's own 20,000: under it


def test_a_pkcs12_is_opened_with_its_cpu_time_capped_whatever_rounds_it_hides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rounds a file declares can sit where no check of its structure reads them (a bag in a bag, the
    encrypted part, a PBMAC1 MAC: an attacker's probe): the opening itself is bounded."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from transcripts.bounded import Bounded

    def stretched(rounds: int) -> bytes:
        built = serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(rounds).hmac_hash(hashes.SHA256())
        return pkcs12.serialize_key_and_certificates(b"signer", signer.key, signer.cert, None, built.build(b"dung"))

    signer = member_cert(SECRETARY)
    started = time.thread_time()  # this thread only: other tests' threads may be busy
    pkcs12.load_key_and_certificates(stretched(500_000), b"dung")
    per_round = (time.thread_time() - started) / 1_000_000  # made and opened once: each round twice
    # Opening costs 3–4 s of CPU whatever the machine's speed: over the 1 s cap and the worker's
    # own start-up, which the cap's whole seconds may add (making the file costs as much again).
    costly = stretched(max(2_000_000, round(4 / per_round)))
    monkeypatch.setattr("transcripts.signing.MAX_KDF_ITERATIONS", 10**9)  # as if its rounds were out of the check's sight
    monkeypatch.setattr("transcripts.signing._OPENING", Bounded(1, wall_s=60))  # a 1 s cap: a real one would cost 5 s here
    with pytest.raises(SigningError) as err:
        certificate_info(costly, "dung")
    assert err.value.details["cpu_s"] == 1 and "cần hơn 1 giây" in err.value.message_vi
    assert certificate_info(signer.pkcs12("dung"), "dung").common_name == SECRETARY  # the next one opens as before


def _colours(page: Image.Image, box: tuple[float, float, float, float], dpi: int) -> tuple[int, int, list[int]]:
    """Within a signature box (PDF points, origin bottom left): the red and the blue pixels, and the x of each red one."""
    scale = dpi / 72
    x1, y1, x2, y2 = box
    crop = page.crop((round(x1 * scale), round(page.height - y2 * scale), round(x2 * scale), round(page.height - y1 * scale)))
    rgb = np.asarray(crop.convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red, blue = (r > 150) & (g < 90) & (b < 90), (b > 110) & (r < 90) & (g < 110)
    return int(red.sum()), int(blue.sum()), [int(x) for x in np.nonzero(red)[1]]


def test_the_appearance_has_the_signature_image_and_the_chair_s_seal_over_its_left_third(
    rendered: RenderedMinutes, fonts: FontSet, tmp_path: Path
) -> None:
    font = stamp_font(fonts, tmp_path)
    boxes = rendered.signature_boxes
    secretary = SignRequest("secretary", SECRETARY, "Chuyên viên", boxes["secretary"].page, boxes["secretary"].box,
                            signature_png=signature_png())  # fmt: skip
    chair = SignRequest("chair", CHAIR, "Giám đốc Sở", boxes["chair"].page, boxes["chair"].box, signature_png=signature_png(),
                        seal_png=seal_png())  # fmt: skip
    first = sign_pdf(rendered.pdf, member_cert(SECRETARY).pkcs12("a"), "a", secretary, font)
    both = sign_pdf(first, member_cert(CHAIR).pkcs12("b"), "b", chair, font)
    assert all(r.ok for r in verify_pdf(both, [root_ca().pem]))  # pyHanko: both intact, trusted, nothing changed after

    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(both)
    page_no = boxes["chair"].page + 1
    text = subprocess.run(["pdftotext", "-f", str(page_no), "-l", str(page_no), str(pdf), "-"], capture_output=True, text=True).stdout
    assert f"Người ký: {CHAIR}" in text and "Chức vụ: Giám đốc Sở" in text and "+07:00" in text  # poppler reads the appearance
    dpi = 100
    SHOTS.mkdir(parents=True, exist_ok=True)  # the page with both signatures, to look at
    shot = SHOTS / "minutes-signatures"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page_no), "-l", str(page_no), "-png", "-singlefile", str(pdf), str(shot)],
                   check=True)  # fmt: skip
    page = Image.open(shot.with_suffix(".png"))

    sec_red, sec_blue, _ = _colours(page, boxes["secretary"].box, dpi)
    chair_red, chair_blue, red_x = _colours(page, boxes["chair"].box, dpi)
    assert sec_blue > 200 and sec_red == 0  # the secretary's signature: her image, no seal
    assert chair_blue > 200 and chair_red > 500  # the chair signs for the body: image and seal
    width = (boxes["chair"].box[2] - boxes["chair"].box[0]) * dpi / 72
    assert max(red_x) < width / 2  # the seal lies on the left, over the start of the signature


def test_the_text_alone_without_images_still_names_the_role(rendered: RenderedMinutes, fonts: FontSet, tmp_path: Path) -> None:
    request = _request(rendered, "chair", CHAIR)
    when = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
    assert appearance_text(request, when).splitlines() == [
        f"Người ký: {CHAIR}",
        "Chức vụ: Giám đốc Sở",
        "Ký với vai trò: Chủ tọa",
        "Thời gian ký: 2026-11-20T10:04:05+07:00",
    ]
