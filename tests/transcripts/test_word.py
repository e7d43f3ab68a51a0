"""The Word copy's header: Mẫu 1.9 as in the PDF, two borderless columns, every line centred, the rules' lengths."""

from __future__ import annotations

import io

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from tests.transcripts.conftest import sample_minutes
from transcripts.word import MOTTO, TEXT_WIDTH_MM, TITLE, _width_mm, minutes_docx


def test_the_header_is_two_borderless_centred_columns_with_the_rules_of_mau_1_9() -> None:
    doc = docx.Document(io.BytesIO(minutes_docx(sample_minutes())))
    header = doc.tables[0]
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and {b.get(qn("w:val")) for b in borders} == {"nil"}  # no lines around or between
    left, right = header.rows[0].cells
    assert left.width is not None and right.width is not None
    assert abs(left.width.mm + right.width.mm - TEXT_WIDTH_MM) < 0.5
    assert right.width.mm >= _width_mm(TITLE, 12, bold=True)  # the national title on one line
    texts = [[p.text for p in cell.paragraphs if p.text] for cell in (left, right)]
    number = "Số: " + "\u00a0" * 6 + "/BB-SKHĐT"  # room to write the number in
    assert texts == [["ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", number], [TITLE, MOTTO]]
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.CENTER for cell in (left, right) for p in cell.paragraphs if p.text)

    def rule_mm(cell: docx.table._Cell, column_mm: float) -> float:
        (rule,) = [p for p in cell.paragraphs if p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None]
        fmt = rule.paragraph_format
        assert fmt.left_indent is not None and fmt.right_indent is not None and abs(fmt.left_indent - fmt.right_indent) < 10  # centred
        return float(column_mm - fmt.left_indent.mm - fmt.right_indent.mm)

    assert abs(rule_mm(right, right.width.mm) - _width_mm(MOTTO, 13, bold=True)) < 0.5  # as long as the motto
    assert abs(rule_mm(left, left.width.mm) - _width_mm("SỞ KẾ HOẠCH VÀ ĐẦU TƯ", 12, bold=True) / 3) < 0.5  # a third of the name
    assert [p.text for p in doc.paragraphs[:2]] == ["BIÊN BẢN", "Họp giao ban tháng 11 năm 2026"]


def test_a_record_made_before_the_input_rules_still_exports() -> None:
    """A title, an opinion or a speaker's line with a character XML cannot hold (a control, U+FFFF),
    stored before the rules refused them: the Word copy leaves the character out instead of failing."""
    import dataclasses

    minutes = sample_minutes(transcript_lines=3)
    odd = dataclasses.replace(minutes, title="Phiên họp \uffff thứ \x07nhất", opening="Khai mạc\ufffe.")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(minutes_docx(odd))).paragraphs)
    assert "Phiên họp  thứ nhất" in text and "Khai mạc." in text and "\uffff" not in text
