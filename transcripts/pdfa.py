"""The PDF/A-2b identification reportlab does not write: XMP metadata and an sRGB output intent.

What this gives: the ``pdfaid`` part 2 / conformance B claim in XMP, the document information
mirrored into XMP, an embedded sRGB ICC profile as the output intent for reportlab's DeviceRGB and
DeviceGray colours, a trailer ID. reportlab already embeds (subsets of) every font and uses no
encryption or JavaScript. What it does not give: a check by a validator (veraPDF cannot be
installed here), and a signed file's incremental updates (pyHanko) are not re-described in XMP.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject, TextStringObject

PRODUCER = "meeting-room (reportlab, pypdf)"
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")


def srgb_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS (through Pillow), so no profile file has to ship."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _iso(pdf_date: str | None, fallback: datetime) -> tuple[str, str]:
    """(XMP ISO 8601, PDF date string) from a PDF date, in UTC."""
    match = _PDF_DATE.match(pdf_date or "")
    moment = fallback
    if match:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.strftime("D:%Y%m%d%H%M%SZ")


def _xmp(title: str, author: str, subject: str, created: str) -> bytes:
    t, a, s = escape(title), escape(author), escape(subject)
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{a}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{s}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>vi-VN</rdf:li></rdf:Bag></dc:language>
   <xmp:CreatorTool>meeting-room</xmp:CreatorTool>
   <xmp:CreateDate>{created}</xmp:CreateDate>
   <xmp:ModifyDate>{created}</xmp:ModifyDate>
   <pdf:Producer>{PRODUCER}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def make_pdfa(data: bytes) -> bytes:
    """The same PDF with the PDF/A-2b metadata and output intent added (document info kept in step)."""
    reader = PdfReader(io.BytesIO(data))
    info: Mapping[str, Any] = reader.metadata or {}
    title, author, subject = (str(info.get(key, "")) for key in ("/Title", "/Author", "/Subject"))
    created_iso, created_pdf = _iso(info.get("/CreationDate"), datetime.now(UTC))
    writer = PdfWriter(clone_from=reader)

    profile = StreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    root = writer._root_object
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    metadata = StreamObject()  # left unfiltered: PDF/A wants the XMP packet readable as is
    metadata.set_data(_xmp(title, author, subject, created_iso))
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(metadata)
    root[NameObject("/Lang")] = TextStringObject("vi-VN")
    writer.metadata = None  # replace reportlab's info wholesale: it must say what XMP says
    writer.add_metadata(
        {
            "/Title": title,
            "/Author": author,
            "/Subject": subject,
            "/Creator": "meeting-room",
            "/Producer": PRODUCER,
            "/CreationDate": created_pdf,
            "/ModDate": created_pdf,
        }
    )
    writer.pdf_header = b"%PDF-1.7"  # PDF/A-2 is defined on PDF 1.7
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
