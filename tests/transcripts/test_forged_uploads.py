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


@pytest.mark.parametrize("how", ["swap_root", "overlay_annot"])
def test_forged_upload(rendered, fonts, tmp_path, monkeypatch, how):  # noqa: F811
    source = rendered.pdf
    cert = member_cert(SEC)
    box = rendered.signature_boxes["secretary"]
    req = SignRequest("secretary", SEC, "Chuyên viên", box.page, box.box)
    font = stamp_font(fonts, tmp_path)
    if how == "swap_root":
        monkeypatch.setattr(iw, "IncrementalPdfFileWriter", SwapRoot)
        signed = sign_pdf_with(source, _signer(cert.pkcs12("x"), "x"), req, font)
    else:
        # add the annotation after the signature widget is appended: patch append_signature_field
        from pyhanko.sign import fields

        real = fields.append_signature_field

        def patched(writer, spec, *a, **k):
            out = real(writer, spec, *a, **k)
            annots, ref = writer._add(box.page)
            writer.root["/Pages"]["/Kids"][box.page].get_object()["/Annots"].append(ref)
            return out

        monkeypatch.setattr(iw, "IncrementalPdfFileWriter", Overlay)
        monkeypatch.setattr(fields, "append_signature_field", patched)
        signed = sign_pdf_with(source, _signer(cert.pkcs12("x"), "x"), req, font)
    fp = verify_pdf(signed, [root_ca().pem])[-1].fingerprint_sha256  # the signature itself is valid
    with pytest.raises(SignatureRefusedError) as refused:
        check_added_signature(source, signed, "ChuKy_ThuKy", box.page, fp, [root_ca().pem])
    assert (
        refused.value.details["reason"]
        == {
            "swap_root": "the document catalogue was replaced",
            "overlay_annot": "the page gained annotations other than the signature's widget",
        }[how]
    )


@pytest.mark.parametrize("how", ["swap_root", "overlay_annot"])
def test_chair_forged(rendered, fonts, tmp_path, monkeypatch, how):  # noqa: F811
    from transcripts.signing import sign_pdf

    font = stamp_font(fonts, tmp_path)
    sb = rendered.signature_boxes["secretary"]
    source = sign_pdf(rendered.pdf, member_cert(SEC).pkcs12("x"), "x", SignRequest("secretary", SEC, None, sb.page, sb.box), font)
    box = rendered.signature_boxes["chair"]
    req = SignRequest("chair", "Chair", None, box.page, box.box)
    cert = member_cert("Nguyễn Văn Trường")
    if how == "swap_root":
        monkeypatch.setattr(iw, "IncrementalPdfFileWriter", SwapRoot)
    else:
        from pyhanko.sign import fields

        real = fields.append_signature_field

        def patched(writer, spec, *a, **k):
            out = real(writer, spec, *a, **k)
            annots, ref = writer._add(box.page)
            writer.root["/Pages"]["/Kids"][box.page].get_object()["/Annots"].append(ref)
            return out

        monkeypatch.setattr(iw, "IncrementalPdfFileWriter", Overlay)
        monkeypatch.setattr(fields, "append_signature_field", patched)
    signed = sign_pdf_with(source, _signer(cert.pkcs12("x"), "x"), req, font)
    fp = verify_pdf(signed, [root_ca().pem])[-1].fingerprint_sha256
    try:
        rep = check_added_signature(source, signed, "ChuKy_ChuToa", box.page, fp, [root_ca().pem])
        print("chair", how, "ACCEPTED", rep.intact, rep.valid, rep.coverage)
    except SignatureRefusedError as exc:
        print("chair", how, "REFUSED", exc, exc.details if hasattr(exc, "details") else "")
