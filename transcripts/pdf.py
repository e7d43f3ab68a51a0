"""The minutes as a PDF: the layout of Mẫu 1.9 (Decree 30/2020/NĐ-CP), rendered with reportlab.

A4, margins 20/20/30/20 mm (top/bottom/left/right), Times New Roman metrics at 13 pt, page
numbers centred at the top from page 2. The two signature blocks (THƯ KÝ left, CHỦ TỌA right)
leave a box each for the digital signature's visible appearance; the renderer reports where those
boxes landed so that signing places each signature exactly there.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from transcripts.fonts import FontSet, register
from transcripts.minutes import Minutes, PollTable, clock, vn_date, vn_time
from transcripts.notice import Notice
from transcripts.pdfa import make_pdfa
from transcripts.text import nfc

MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 20}
HEADER_GAP = 12.0  # points between the two header columns
SIGNATURE_BOX_MM = (74, 40)  # width, height of each visible signature: the image above, three lines of text below
SIGNERS = ("secretary", "chair")


@dataclass(frozen=True)
class SignatureBox:
    """Where a signature's appearance goes: page index (0-based) and the box in PDF points."""

    page: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class RenderedMinutes:
    pdf: bytes
    pages: int
    signature_boxes: dict[str, SignatureBox]


class _SignatureSpot(Flowable):
    """Empty space that remembers where it was drawn (the page and its absolute box)."""

    def __init__(self, role: str, width: float, height: float, found: dict[str, SignatureBox]) -> None:
        super().__init__()
        self.role, self.width, self.height, self._found = role, width, height, found

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        x0, y0 = self.canv.absolutePosition(0, 0)
        self._found[self.role] = SignatureBox(self.canv.getPageNumber() - 1, (x0, y0, x0 + self.width, y0 + self.height))


class _Styles:
    def __init__(self, fonts: FontSet) -> None:
        names = register(fonts)
        regular, bold, italic, bold_italic = names["regular"], names["bold"], names["italic"], names["bold_italic"]
        self.font = regular
        base = ParagraphStyle("body", fontName=regular, fontSize=13, leading=17, alignment=TA_JUSTIFY, spaceAfter=4)
        self.body = base
        self.indent = ParagraphStyle("indent", parent=base, firstLineIndent=10 * mm)
        self.item = ParagraphStyle("item", parent=base, fontName=bold, spaceBefore=6)
        self.bullet = ParagraphStyle("bullet", parent=base, leftIndent=6 * mm, spaceAfter=2)
        self.head_left = ParagraphStyle("hl", fontName=regular, fontSize=12, leading=15, alignment=TA_CENTER)
        self.head_left_bold = ParagraphStyle("hlb", parent=self.head_left, fontName=bold)
        self.head_right = ParagraphStyle("hr", fontName=bold, fontSize=12, leading=15, alignment=TA_CENTER)
        self.motto = ParagraphStyle("motto", fontName=bold, fontSize=13, leading=16, alignment=TA_CENTER)
        self.dated = ParagraphStyle("dated", fontName=italic, fontSize=13, leading=16, alignment=TA_CENTER)
        self.number = ParagraphStyle("no", fontName=regular, fontSize=13, leading=16, alignment=TA_CENTER)
        self.title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=TA_CENTER, spaceBefore=14)
        self.subtitle = ParagraphStyle("subtitle", fontName=bold, fontSize=14, leading=18, alignment=TA_CENTER, spaceAfter=10)
        self.sign_role = ParagraphStyle("sr", fontName=bold, fontSize=13, leading=16, alignment=TA_CENTER)
        self.sign_note = ParagraphStyle("sn", fontName=italic, fontSize=11, leading=14, alignment=TA_CENTER)
        self.sign_name = ParagraphStyle("sname", fontName=bold, fontSize=13, leading=16, alignment=TA_CENTER)
        self.recipients_head = ParagraphStyle("rh", fontName=bold_italic, fontSize=12, leading=14, alignment=TA_LEFT)
        self.recipients = ParagraphStyle("r", fontName=regular, fontSize=11, leading=13, alignment=TA_LEFT)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=12, leading=14)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=bold)
        self.small = ParagraphStyle("small", fontName=italic, fontSize=12, leading=15, spaceAfter=4)
        self.appendix = ParagraphStyle(
            "app", fontName=regular, fontSize=11, leading=14, spaceAfter=3, leftIndent=22 * mm, firstLineIndent=-22 * mm
        )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped, NFC, line breaks kept)."""
    return Paragraph(escape(nfc(text)).replace("\n", "<br/>"), style)


def _cells(st: _Styles) -> list[tuple[str, tuple[int, int], tuple[int, int], str]]:
    # a table sets its cells' font even when they hold paragraphs; the default is Helvetica, which
    # would then be a font the PDF names without embedding it
    return [("FONTNAME", (0, 0), (-1, -1), st.font), ("VALIGN", (0, 0), (-1, -1), "TOP")]


def _balanced(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into as few lines as ``width`` allows, each as even as it can be.

    A body name that does not fit breaks into lines as even as its words allow: "THƯỜNG TRỰC / HĐND
    TỈNH SƠN HÀ" rather than "THƯỜNG TRỰC HĐND TỈNH SƠN / HÀ".
    """
    lines = len(simpleSplit(text, font, size, width))
    low, high = 0.0, width
    while high - low > 0.5:
        middle = (low + high) / 2
        low, high = (low, middle) if len(simpleSplit(text, font, size, middle)) == lines else (middle, high)
    found: list[str] = simpleSplit(text, font, size, high)
    return found


def _header_lines(text: str, style: ParagraphStyle, width: float) -> tuple[Paragraph, float]:
    """A header text centred in its column, and the width of its widest line."""
    lines = _balanced(nfc(text), style.fontName, style.fontSize, width)
    widest = max(stringWidth(line, style.fontName, style.fontSize) for line in lines)
    return Paragraph("<br/>".join(escape(line) for line in lines), style), widest


def _rule(length: float) -> HRFlowable:
    # a fixed length, so that the cell's CENTER alignment centres it under its text
    return HRFlowable(width=length, thickness=0.6, color=colors.black, spaceBefore=2, spaceAfter=6)


def _header(document: Minutes | Notice, st: _Styles, width: float, *, blank: str = "/BB", date_line: str | None = None) -> Table:
    """Mẫu 1.9: the body on the left, the national title on the right, each centred in its own column.

    The right column is as wide as the national title, the left takes the rest less a gap; the rule
    under the motto is as long as the motto, the one under the body name a third of the name. ``blank``
    is the number printed when none is set; a notice adds its place and date under the motto.
    """
    title, motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    right_width = stringWidth(title, st.head_right.fontName, st.head_right.fontSize) + HEADER_GAP / 2
    left_width = width - right_width - HEADER_GAP
    left: list[Flowable] = []
    if document.parent_name:
        left.append(_header_lines(document.parent_name.upper(), st.head_left, left_width)[0])
    body, body_width = _header_lines(document.body_name.upper(), st.head_left_bold, left_width)
    left += [body, _rule(body_width / 3)]
    number = document.number.strip() or blank
    left.append(_p("Số: " + "\u00a0" * 6 * number.startswith("/") + number, st.number))  # room to write the number in
    right: list[Flowable] = [
        _p(title, st.head_right),
        _p(motto, st.motto),
        _rule(stringWidth(motto, st.motto.fontName, st.motto.fontSize)),
    ]
    if date_line:
        right.append(_p(date_line, st.dated))
    table = Table([[left, right]], colWidths=[left_width + HEADER_GAP, right_width])
    table.setStyle(
        TableStyle(
            [
                *_cells(st),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), HEADER_GAP),  # the gap between the columns
            ]
        )
    )
    return table


def _poll(poll: PollTable, st: _Styles, width: float) -> list[Flowable]:
    rows: list[list[Flowable]] = [[_p("Phương án", st.cell_bold), _p("Số phiếu", st.cell_bold), _p("Tỷ lệ (%)", st.cell_bold)]]
    for row in poll.rows:
        label = f"{row.label} ✓" if row.selected else row.label
        rows.append([_p(label, st.cell), _p(str(row.votes), st.cell), _p(row.percent or "—", st.cell)])
    table = Table(rows, colWidths=[width * 0.6, width * 0.2, width * 0.2], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                *_cells(st),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ]
        )
    )
    kind = " (bỏ phiếu kín)" if poll.secret else ""
    return [
        KeepTogether(
            [
                _p(f"{poll.heading}: {poll.title}{kind}", st.item),
                _p(f"Quy tắc áp dụng: {poll.rule}. {poll.electorate}.", st.small),
                table,
                Spacer(1, 3),
                _p(f"Kết quả: {poll.result()}", st.body),
            ]
        ),
        *(_p(line, st.small) for line in poll.named_lines()),  # a named vote: who chose what (may run over a page)
    ]


def _signatures(minutes: Minutes, st: _Styles, width: float, found: dict[str, SignatureBox]) -> Table:
    box_w, box_h = SIGNATURE_BOX_MM[0] * mm, SIGNATURE_BOX_MM[1] * mm
    cells = []
    for role, title, person in (("secretary", "THƯ KÝ", minutes.secretary), ("chair", "CHỦ TỌA", minutes.chair)):
        cells.append(
            [
                _p(title, st.sign_role),
                _p("(Ký, ghi rõ họ tên)", st.sign_note),
                _SignatureSpot(role, box_w, box_h, found),
                _p(person.name if person else "", st.sign_name),
            ]
        )
    table = Table([cells], colWidths=[width / 2, width / 2])
    table.setStyle(TableStyle([*_cells(st), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return table


def _page_number(font: str) -> Callable[[Canvas, object], None]:
    def draw(canvas: Canvas, _doc: object) -> None:
        canvas.saveState()
        canvas.setFont(font, 12)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    return draw


def _document(buffer: io.BytesIO, st: _Styles, *, title: str, author: str, subject: str) -> SimpleDocTemplate:
    """An A4 page with Decree 30's margins, PDF/A-ready metadata and the Vietnamese fonts."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGINS_MM["left"] * mm,
        rightMargin=MARGINS_MM["right"] * mm,
        topMargin=MARGINS_MM["top"] * mm,
        bottomMargin=MARGINS_MM["bottom"] * mm,
        title=nfc(title),
        author=nfc(author),
        subject=nfc(subject),
        creator="meeting-room",
        lang="vi-VN",
        initialFontName=st.font,  # else every page names Helvetica, a font PDF/A would need embedded
    )


def render_minutes(minutes: Minutes, fonts: FontSet) -> RenderedMinutes:
    """The minutes as PDF bytes (with the PDF/A-2b identification added), and the signature boxes."""
    st = _Styles(fonts)
    buffer = io.BytesIO()
    doc = _document(
        buffer,
        st,
        title=f"Biên bản {minutes.title}",
        author=minutes.body_name,
        subject=f"Biên bản cuộc họp, {vn_date(minutes.started_at)}",
    )
    width = doc.width
    found: dict[str, SignatureBox] = {}
    story: list[Flowable] = [
        _header(minutes, st, width),
        _p("BIÊN BẢN", st.title),
        _p(minutes.title, st.subtitle),
        _p(f"Thời gian bắt đầu: {vn_time(minutes.started_at)}, {vn_date(minutes.started_at)}.", st.body),
        _p(f"Địa điểm: {minutes.place or '…'}.", st.body),
        _p(f"Thành phần tham dự: {minutes.attendance.present}/{minutes.attendance.total} thành viên có mặt.", st.body),
    ]
    for heading, people in minutes.attendance.groups():
        story.append(_p(f"{heading} ({len(people)}):", st.bullet))
        story.extend(_p(f"– {person.label()};", st.bullet) for person in people)
    story.append(_p(f"Chủ trì (chủ tọa): {minutes.chair.label() if minutes.chair else '…'}.", st.body))
    story.append(_p(f"Thư ký (người ghi biên bản): {minutes.secretary.label() if minutes.secretary else '…'}.", st.body))
    story.append(_p("Nội dung (theo diễn biến cuộc họp):", st.item))
    if minutes.opening:
        story.append(_p(minutes.opening, st.indent))
    for number, section in enumerate(minutes.printed_sections(), start=1):
        story.append(_p(f"{number}. {section.title}", st.item))
        story.extend(_p(paragraph, st.indent) for paragraph in section.paragraphs())
        for poll in section.polls:
            story.extend(_poll(poll, st, width))
    story.append(Spacer(1, 4))
    story.append(_p(minutes.closing_sentence(), st.indent))
    story.append(Spacer(1, 10))
    story.append(KeepTogether([_signatures(minutes, st, width, found)]))
    story.append(Spacer(1, 10))
    story.append(_p("Nơi nhận:", st.recipients_head))
    for recipient in minutes.recipients:
        story.append(_p(f"- {recipient};", st.recipients))
    story.append(_p("- Lưu: VT, Hồ sơ.", st.recipients))
    if minutes.transcript:
        story.append(PageBreak())
        story.append(_p("PHỤ LỤC", st.title))
        story.append(_p("BẢN GHI LỜI NÓI TẠI CUỘC HỌP", st.subtitle))
        story.append(_p("(thời điểm tính từ đầu bản ghi âm; ghi tự động bằng nhận dạng tiếng nói)", st.sign_note))
        story.append(Spacer(1, 6))
        for entry in minutes.transcript:
            story.append(_p(f"[{clock(entry.start)}] {entry.speaker}: {entry.text}", st.appendix))
    doc.build(story, onFirstPage=lambda c, d: None, onLaterPages=_page_number(st.font))
    pages = doc.page
    missing = [role for role in SIGNERS if role not in found]
    if missing:  # a layout bug, never the user's input
        raise RuntimeError(f"signature boxes not placed: {missing}")
    return RenderedMinutes(make_pdfa(buffer.getvalue()), pages, found)


def _notice_signature(notice: Notice, st: _Styles, width: float, found: dict[str, SignatureBox]) -> Table:
    """Decree 30's foot of a document: "Nơi nhận" on the left, the chair's signature on the right."""
    box_w, box_h = SIGNATURE_BOX_MM[0] * mm, SIGNATURE_BOX_MM[1] * mm
    recipients: list[Flowable] = [_p("Nơi nhận:", st.recipients_head)]
    recipients += [_p(f"- {recipient};", st.recipients) for recipient in notice.recipients]
    recipients.append(_p("- Lưu: VT, Hồ sơ.", st.recipients))
    signer: list[Flowable] = []
    if notice.authority.strip():
        signer.append(_p(notice.authority.upper(), st.sign_role))
    signer += [_p(notice.signer_title(), st.sign_role), _SignatureSpot("chair", box_w, box_h, found)]
    signer.append(_p(notice.chair.name if notice.chair else "", st.sign_name))
    right = max(box_w, width / 2)
    table = Table([[recipients, signer]], colWidths=[width - right, right])
    table.setStyle(TableStyle([*_cells(st), ("ALIGN", (1, 0), (1, 0), "CENTER"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return table


def render_notice(notice: Notice, fonts: FontSet) -> RenderedMinutes:
    """The conclusion notice as PDF bytes (PDF/A-2b identified), with the chair's signature box."""
    st = _Styles(fonts)
    buffer = io.BytesIO()
    doc = _document(buffer, st, title=f"Thông báo {notice.heading()}", author=notice.body_name, subject="Thông báo kết luận cuộc họp")
    found: dict[str, SignatureBox] = {}
    story: list[Flowable] = [
        _header(notice, st, doc.width, blank="/TB", date_line=notice.date_line()),
        _p("THÔNG BÁO", st.title),
        _p(notice.heading(), st.subtitle),
        _p(notice.opening(), st.indent),
    ]
    for number, item in enumerate(notice.items, start=1):
        paragraphs = item.paragraphs() or ["…"]
        story.append(_p(f"{number}. {item.title}: {paragraphs[0]}", st.indent))
        story.extend(_p(paragraph, st.indent) for paragraph in paragraphs[1:])
    story.append(_p(f"{notice.body_name} thông báo để các cơ quan, đơn vị, cá nhân liên quan biết, thực hiện./.", st.indent))
    story.append(Spacer(1, 10))
    story.append(KeepTogether([_notice_signature(notice, st, doc.width, found)]))
    doc.build(story, onFirstPage=lambda c, d: None, onLaterPages=_page_number(st.font))
    if "chair" not in found:  # a layout bug, never the user's input
        raise RuntimeError("signature box not placed: chair")
    return RenderedMinutes(make_pdfa(buffer.getvalue()), doc.page, found)
