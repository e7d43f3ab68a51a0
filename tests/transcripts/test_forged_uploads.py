# mypy: disable-error-code="no-untyped-call, union-attr"
# (pyHanko's generic PDF objects are unannotated; building a hostile file here is deliberately loose)
"""A token-signed upload must add a signature and nothing else: an update that swaps the trailer's
/Root for a catalogue with other pages, or paints an annotation over the signed page, is refused
(both were accepted before an attacker's review found them)."""

from __future__ import annotations

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils import incremental_writer as iw

from tests.pki import member_cert, root_ca
from tests.transcripts.conftest import fonts, rendered  # noqa: F401  (fixtures)
from transcripts.errors import SignatureRefusedError
from transcripts.fonts import stamp_font
from transcripts.signing import SignRequest, _signer, check_added_signature, sign_pdf_with, verify_pdf

SEC = "Lê Thị Hoa"
Orig = iw.IncrementalPdfFileWriter
WHITE_OUT = b"q 1 1 1 rg 0 0 2000 2000 re f Q BT /FX 28 Tf 0 0 0 rg 60 700 Td (FORGED MINUTES: motion REJECTED) Tj ET"


def _font(w):
    return w.add_object(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Font"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
                generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
            }
        )
    )


class SwapRoot(Orig):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        old_root = self.root
        old_pages = old_root["/Pages"]
        font = _font(self)
        new_pages = generic.DictionaryObject({generic.pdf_name("/Type"): generic.pdf_name("/Pages")})
        pages_ref = self.add_object(new_pages)
        kids = generic.ArrayObject()
        for kid in old_pages["/Kids"]:
            page = kid.get_object()
            new = generic.DictionaryObject({k: v for k, v in page.items()})
            new[generic.pdf_name("/Parent")] = pages_ref
            stream = generic.StreamObject(stream_data=WHITE_OUT)
            contents = page.raw_get("/Contents")
            arr = generic.ArrayObject(list(contents) if isinstance(contents, generic.ArrayObject) else [contents])
            arr.append(self.add_object(stream))
            new[generic.pdf_name("/Contents")] = arr
            res = generic.DictionaryObject({k: v for k, v in page["/Resources"].items()})
            fonts_d = generic.DictionaryObject(
                {k: v for k, v in (res.get("/Font").get_object() if "/Font" in res else generic.DictionaryObject()).items()}
            )
            fonts_d[generic.pdf_name("/FX")] = font
            res[generic.pdf_name("/Font")] = fonts_d
            new[generic.pdf_name("/Resources")] = res
            kids.append(self.add_object(new))
        new_pages[generic.pdf_name("/Kids")] = kids
        new_pages[generic.pdf_name("/Count")] = generic.NumberObject(len(kids))
        new_root = generic.DictionaryObject({k: v for k, v in old_root.items()})
        new_root[generic.pdf_name("/Pages")] = pages_ref
        self._root = self.add_object(new_root)


class Overlay(Orig):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._overlay_done = False

    def _add(self, page_ix):
        page_ref = self.root["/Pages"]["/Kids"][page_ix]
        page = page_ref.get_object()
        font = _font(self)
        ap = generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                generic.pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(0)] * 2 + [generic.NumberObject(600), generic.NumberObject(900)]
                ),
                generic.pdf_name("/Resources"): generic.DictionaryObject(
                    {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/FX"): font})}
                ),
            },
            stream_data=WHITE_OUT,
        )
        annot = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Square"),
                generic.pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(0), generic.NumberObject(0), generic.NumberObject(600), generic.NumberObject(900)]
                ),
                generic.pdf_name("/F"): generic.NumberObject(4),
                generic.pdf_name("/AP"): generic.DictionaryObject({generic.pdf_name("/N"): self.add_object(ap)}),
            }
        )
        annots = page.get("/Annots", generic.ArrayObject())
        annots = generic.ArrayObject(list(annots))
        page[generic.pdf_name("/Annots")] = annots
        self.update_container(page)
        return annots, self.add_object(annot)


def _forge(monkeypatch: pytest.MonkeyPatch, how: str, page: int) -> None:
    """Make the next signature's incremental update carry the forgery ``how`` as well."""
    if how == "swap_root":
        monkeypatch.setattr(iw, "IncrementalPdfFileWriter", SwapRoot)
        return
    from pyhanko.sign import fields

    real = fields.append_signature_field

    def patched(writer, spec, *a, **k):  # the overlay goes in after the signature's own widget
        out = real(writer, spec, *a, **k)
        _, ref = writer._add(page)
        writer.root["/Pages"]["/Kids"][page].get_object()["/Annots"].append(ref)
        return out

    monkeypatch.setattr(iw, "IncrementalPdfFileWriter", Overlay)
    monkeypatch.setattr(fields, "append_signature_field", patched)


REASONS = {
    "swap_root": "the document catalogue was replaced",
    "overlay_annot": "the page gained annotations other than the signature's widget",
}


@pytest.mark.parametrize("how", sorted(REASONS))
def test_the_first_signature_may_not_bring_other_content(rendered, fonts, tmp_path, monkeypatch, how):  # noqa: F811
    box = rendered.signature_boxes["secretary"]
    font = stamp_font(fonts, tmp_path)
    _forge(monkeypatch, how, box.page)
    signed = sign_pdf_with(
        rendered.pdf, _signer(member_cert(SEC).pkcs12("x"), "x"), SignRequest("secretary", SEC, "Chuyên viên", box.page, box.box), font
    )
    fp = verify_pdf(signed, [root_ca().pem])[-1].fingerprint_sha256  # the signature itself is valid
    with pytest.raises(SignatureRefusedError) as refused:
        check_added_signature(rendered.pdf, signed, "ChuKy_ThuKy", box.page, fp, [root_ca().pem])
    assert refused.value.details["reason"] == REASONS[how]


@pytest.mark.parametrize("how", sorted(REASONS))
def test_the_chairs_signature_may_not_bring_other_content_either(rendered, fonts, tmp_path, monkeypatch, how):  # noqa: F811
    from transcripts.signing import sign_pdf

    font = stamp_font(fonts, tmp_path)
    sb = rendered.signature_boxes["secretary"]
    source = sign_pdf(rendered.pdf, member_cert(SEC).pkcs12("x"), "x", SignRequest("secretary", SEC, None, sb.page, sb.box), font)
    box = rendered.signature_boxes["chair"]
    _forge(monkeypatch, how, box.page)
    cert = member_cert("Nguyễn Văn Trường")
    signed = sign_pdf_with(source, _signer(cert.pkcs12("x"), "x"), SignRequest("chair", "Chair", None, box.page, box.box), font)
    fp = verify_pdf(signed, [root_ca().pem])[-1].fingerprint_sha256
    with pytest.raises(SignatureRefusedError):
        check_added_signature(source, signed, "ChuKy_ChuToa", box.page, fp, [root_ca().pem])
