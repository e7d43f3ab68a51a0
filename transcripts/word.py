"""The minutes and the transcript as Word documents (python-docx), for clerks who finish them in Word.

Same content and order as the PDF; Times New Roman 13 pt on A4 with Decree 30 margins. A Word
file is a working copy: only the signed PDF is the record.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from transcripts.minutes import Minutes, TranscriptEntry, clock, vn_date, vn_time
from transcripts.text import nfc

FONT = "Times New Roman"
# What XML 1.0 cannot hold (controls but tab and newline, surrogates, U+FFFE-F): the input rules refuse
# it today, but a record made before them is still exported, not a 500.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _word(text: str) -> str:
    return _NOT_XML.sub("", nfc(text))


def _document() -> WordDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Mm(20), Mm(20), Mm(30), Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # Word otherwise substitutes for some letters
    normal.paragraph_format.space_after = Pt(3)
    return doc


def _para(
    container: WordDocument | _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    center: bool = False,
    indent: bool = False,
) -> Paragraph:
    paragraph = container.add_paragraph()
    run = paragraph.add_run(_word(text))
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(10)
    return paragraph


def _save(doc: WordDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


TEXT_WIDTH_MM = 160.0  # A4 less the Decree 30 margins (30 mm left, 20 mm right)
GAP_MM = 4.0  # between the header's two columns
TITLE, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"


def _width_mm(text: str, size: float, *, bold: bool) -> float:
    """The printed width of ``text`` in Times New Roman (its standard metrics; accents take no width)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    bare = unicodedata.normalize("NFD", text).replace("Đ", "D").replace("đ", "d")
    plain = "".join(c for c in bare if not unicodedata.combining(c))
    return stringWidth(plain, "Times-Bold" if bold else "Times-Roman", size) * 25.4 / 72


def _no_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _rule(cell: _Cell, length_mm: float, column_mm: float) -> None:
    """A short line centred in its column: an empty paragraph whose bottom border is ``length_mm`` long."""
    paragraph = cell.add_paragraph()
    side = max(0.0, (column_mm - length_mm) / 2)
    fmt = paragraph.paragraph_format
    fmt.left_indent, fmt.right_indent, fmt.space_after = Mm(side), Mm(side), Pt(4)
    run = paragraph.add_run()
    run.font.size = Pt(2)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().append(border)


def _header(doc: WordDocument, minutes: Minutes) -> None:
    """Mẫu 1.9 as in the PDF: two borderless columns with their own widths, every line centred in its
    column; the rule under the motto as long as the motto, the one under the body name a third of it."""
    right_mm = _width_mm(TITLE, 12, bold=True) + GAP_MM / 2
    left_mm = TEXT_WIDTH_MM - right_mm
    header = doc.add_table(rows=1, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    header.autofit = False
    _no_borders(header)
    left, right = header.rows[0].cells
    for cell, width in ((left, left_mm), (right, right_mm)):
        cell.width = Mm(width)
        cell._element.remove(cell.paragraphs[0]._element)
    if minutes.parent_name:
        _para(left, minutes.parent_name.upper(), size=12, center=True)
    body = minutes.body_name.upper()
    _para(left, body, bold=True, size=12, center=True)
    _rule(left, min(_width_mm(body, 12, bold=True), left_mm - GAP_MM) / 3, left_mm)
    number = minutes.number.strip() or "/BB"
    _para(left, "Số: " + "\u00a0" * 6 * number.startswith("/") + number, size=13, center=True)  # room to write the number in
    _para(right, TITLE, bold=True, size=12, center=True)
    _para(right, MOTTO, bold=True, size=13, center=True)
    _rule(right, _width_mm(MOTTO, 13, bold=True), right_mm)


def minutes_docx(minutes: Minutes) -> bytes:
    doc = _document()
    _header(doc, minutes)
    _para(doc, "BIÊN BẢN", bold=True, size=14, center=True)
    _para(doc, minutes.title, bold=True, size=14, center=True)
    _para(doc, f"Thời gian bắt đầu: {vn_time(minutes.started_at)}, {vn_date(minutes.started_at)}.")
    _para(doc, f"Địa điểm: {minutes.place or '…'}.")
    _para(doc, f"Thành phần tham dự: {minutes.attendance.present}/{minutes.attendance.total} thành viên có mặt.")
    for heading, people in minutes.attendance.groups():
        _para(doc, f"{heading} ({len(people)}):")
        for person in people:
            _para(doc, f"– {person.label()};")
    _para(doc, f"Chủ trì (chủ tọa): {minutes.chair.label() if minutes.chair else '…'}.")
    _para(doc, f"Thư ký (người ghi biên bản): {minutes.secretary.label() if minutes.secretary else '…'}.")
    _para(doc, "Nội dung (theo diễn biến cuộc họp):", bold=True)
    if minutes.opening:
        _para(doc, minutes.opening, indent=True)
    for number, section in enumerate(minutes.printed_sections(), start=1):
        _para(doc, f"{number}. {section.title}", bold=True)
        for paragraph in section.paragraphs():
            _para(doc, paragraph, indent=True)
        for poll in section.polls:
            _para(doc, f"{poll.heading}: {poll.title}{' (bỏ phiếu kín)' if poll.secret else ''}", bold=True)
            _para(doc, f"Quy tắc áp dụng: {poll.rule}. {poll.electorate}.", italic=True, size=12)
            table = doc.add_table(rows=1, cols=3)
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, ("Phương án", "Số phiếu", "Tỷ lệ (%)"), strict=True):
                cell.text = text
            for row in poll.rows:
                cells = table.add_row().cells
                cells[0].text = _word(f"{row.label} ✓" if row.selected else row.label)
                cells[1].text, cells[2].text = str(row.votes), row.percent or "—"
            _para(doc, f"Kết quả: {poll.result()}")
            for line in poll.named_lines():
                _para(doc, line, size=12)
    _para(doc, minutes.closing_sentence(), indent=True)
    signatures = doc.add_table(rows=1, cols=2)
    for cell, title, signer in zip(signatures.rows[0].cells, ("THƯ KÝ", "CHỦ TỌA"), (minutes.secretary, minutes.chair), strict=True):
        cell._element.remove(cell.paragraphs[0]._element)
        _para(cell, title, bold=True, center=True)
        _para(cell, "(Ký, ghi rõ họ tên)", italic=True, size=11, center=True)
        for _ in range(3):
            _para(cell, "")
        _para(cell, signer.name if signer else "", bold=True, center=True)
    _para(doc, "Nơi nhận:", bold=True, italic=True, size=12)
    for recipient in minutes.recipients:
        _para(doc, f"- {recipient};", size=11)
    _para(doc, "- Lưu: VT, Hồ sơ.", size=11)
    if minutes.transcript:
        doc.add_page_break()  # type: ignore[no-untyped-call]  # python-docx leaves it unannotated
        _transcript_body(doc, minutes.transcript)
    return _save(doc)


def _transcript_body(doc: WordDocument, entries: Iterable[TranscriptEntry]) -> None:
    _para(doc, "PHỤ LỤC", bold=True, size=14, center=True)
    _para(doc, "BẢN GHI LỜI NÓI TẠI CUỘC HỌP", bold=True, size=14, center=True)
    _para(doc, "(thời điểm tính từ đầu bản ghi âm; ghi tự động bằng nhận dạng tiếng nói)", italic=True, size=11, center=True)
    for entry in entries:
        paragraph = doc.add_paragraph()
        stamp = paragraph.add_run(f"[{clock(entry.start)}] ")
        stamp.font.size = Pt(11)
        who = paragraph.add_run(_word(entry.speaker) + ": ")
        who.bold, who.font.size = True, Pt(11)
        said = paragraph.add_run(_word(entry.text))
        said.font.size = Pt(11)


def transcript_docx(title: str, entries: Iterable[TranscriptEntry]) -> bytes:
    """The transcript alone, with a title line (the meeting's name and date)."""
    doc = _document()
    _para(doc, title, bold=True, size=13, center=True)
    _transcript_body(doc, entries)
    return _save(doc)
