"""The minutes PDF read back with poppler: the Vietnamese words, the form of Mẫu 1.9, the fonts, PDF/A identification."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.transcripts.conftest import FAILED, sample_minutes
from transcripts.errors import FontError
from transcripts.fonts import FontSet, find_fonts
from transcripts.minutes import UNWRITTEN, Section, check_section_text, draft_text
from transcripts.pdf import RenderedMinutes, render_minutes

DPI = 288  # four pixels a point: a rule's ends are measured to a quarter of a point
SHOTS = Path(os.environ.get("MEETING_ROOM_SCREENSHOTS", Path(__file__).parents[2] / "test-artifacts" / "screenshots"))


def _text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_form_and_the_vietnamese_words_read_back(rendered: RenderedMinutes, tmp_path: Path) -> None:
    text = _text(rendered.pdf, tmp_path)
    for expected in (
        "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG TRỊ",  # the parent body breaks in its column, into even lines
        "SỞ KẾ HOẠCH VÀ ĐẦU TƯ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "/BB-SKHĐT",
        "BIÊN BẢN",
        "Họp giao ban tháng 11 năm 2026",  # given as NFD, printed as NFC
        "Thời gian bắt đầu: 08 giờ 00, ngày 20 tháng 11 năm 2026.",
        "Vắng mặt có lý do (1):",
        "Phạm Quốc Việt (lý do: đi công tác)",
        "Chủ trì (chủ tọa): Nguyễn Văn Trường – Giám đốc Sở.",
        "Thư ký (người ghi biên bản): Lê Thị Hoa",
        "Đề nghị các phòng đẩy nhanh tiến độ",  # given as NFD too
        "Quy tắc áp dụng: quá 1/2 tổng số thành viên tán thành.",
        "Kết quả: Thông qua: tán thành 18/25 tổng số thành viên (72,00%)",  # the outcome said once
        "Cuộc họp kết thúc vào 11 giờ 15, ngày 20 tháng 11 năm 2026./.",
        "THƯ KÝ",
        "CHỦ TỌA",
        "Nơi nhận:",
        "- Lưu: VT, Hồ sơ.",
        "PHỤ LỤC",
        "[00:04:52] Nguyễn Văn Trường: Câu thứ 39: chúng ta biểu quyết kế hoạch",
    ):
        assert expected in text, expected
    layout = _text(rendered.pdf, tmp_path, "-layout")
    table_row = next(line for line in layout.splitlines() if line.strip().startswith("Tán thành"))
    assert table_row.split()[-2:] == ["18", "72,00"]
    # the secretary signs on the left, the chair on the right, on the same page
    sec, chair = rendered.signature_boxes["secretary"], rendered.signature_boxes["chair"]
    assert sec.page == chair.page < rendered.pages and sec.box[2] < chair.box[0]


def test_a_failed_vote_is_said_once_and_nothing_unwritten_is_printed(fonts: FontSet, tmp_path: Path) -> None:
    sample = sample_minutes(0)
    sections = (
        *sample.sections,
        Section("i2", FAILED.title, draft_text([]), (FAILED,)),
        Section("i3", "Các vấn đề phát sinh", UNWRITTEN),  # as a version saved by an older draft holds it
        Section("general", "Ý kiến phát biểu khác", "", optional=True),
    )
    text = " ".join(_text(render_minutes(dataclasses.replace(sample, sections=sections), fonts).pdf, tmp_path).split())
    assert f"Kết quả: {FAILED.reason}" in text and "Không thông qua. Không thông qua" not in text
    assert text.count("tán thành 10/25") == 1  # the table says it; the drafted text does not say it again
    assert "3. Các vấn đề phát sinh" in text and UNWRITTEN not in text
    assert "Ý kiến phát biểu khác" not in text  # empty and optional: left out


def test_every_font_is_embedded_and_pdfa_is_declared(rendered: RenderedMinutes, tmp_path: Path) -> None:
    path = tmp_path / "m.pdf"
    path.write_bytes(rendered.pdf)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(" yes yes " in line for line in fonts), fonts  # embedded, subset
    assert all("LiberationSerif" in line for line in fonts)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "PDF version:     1.7" in info and "Metadata Stream: yes" in info
    assert "Title:           Biên bản Họp giao ban tháng 11 năm 2026" in info
    xmp = subprocess.run(["pdfinfo", "-meta", str(path)], check=True, capture_output=True, text=True).stdout
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert b"/OutputIntents" in rendered.pdf and b"/GTS_PDFA1" in rendered.pdf


def test_missing_fonts_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("transcripts.fonts.DEFAULT_DIRS", (tmp_path / "none",))
    with pytest.raises(FontError) as err:
        find_fonts([tmp_path])
    assert "fonts-liberation2" in err.value.message_vi and str(tmp_path) in err.value.details["searched"]


def test_section_text_is_checked() -> None:
    assert check_section_text("1", "  Kết luận:  \u0301a  ") == "Kết luận: \u0301a"
    assert check_section_text("Mục 1", "   ") == ""  # kept empty: signing, not saving, refuses an empty item
    for bad in ("x" * 20_001, "chữ\x07chuông"):
        with pytest.raises(Exception) as err:
            check_section_text("Mục 1", bad)
        assert "Mục 1" in str(err.value)


@dataclass(frozen=True)
class _Box:
    text: str
    x0: float
    x1: float
    y0: float  # from the top of the page, in points
    y1: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def _lines(pdf: Path) -> list[_Box]:
    """Page 1's text lines with their boxes, as poppler reads them."""
    out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True).stdout
    found = []
    for line in ET.fromstring(out).iter("{http://www.w3.org/1999/xhtml}line"):
        text = " ".join(word.text or "" for word in line)
        found.append(_Box(text, *(float(line.attrib[k]) for k in ("xMin", "xMax", "yMin", "yMax"))))
    return found


def _rules(pdf: Path, tmp_path: Path, above: float) -> list[_Box]:
    """Horizontal rules at least 20 pt long drawn on page 1 above ``above`` (points from the top), from its pixels."""
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", "1", "-l", "1", "-gray", "-singlefile", str(pdf), str(tmp_path / "p")], check=True)
    data = (tmp_path / "p.pgm").read_bytes()
    magic, columns, rows = data.split(maxsplit=3)[:3]
    assert magic == b"P5"
    width, scale = int(columns), DPI / 72
    pixels = data[-width * int(rows) :]  # one byte a pixel after the header
    rules: list[_Box] = []
    for row in range(int(above * scale)):
        line = pixels[row * width : (row + 1) * width]
        col = 0
        while col < width:
            if line[col] < 128:
                end = col
                while end < width and line[end] < 128:
                    end += 1
                if end - col >= 20 * scale:
                    box = _Box("", col / scale, end / scale, row / scale, (row + 1) / scale)
                    same = [r for r in rules if abs(r.x0 - box.x0) < 1 and abs(r.x1 - box.x1) < 1 and box.y0 - r.y1 < 0.5]
                    if same:  # the next pixel row of the same rule
                        rules[rules.index(same[0])] = dataclasses.replace(same[0], y1=box.y1)
                    else:
                        rules.append(box)
                col = end
            col += 1
    return rules


def test_the_header_is_two_columns_with_centred_rules_as_in_form_1_9(fonts: FontSet, tmp_path: Path) -> None:
    minutes = dataclasses.replace(sample_minutes(), parent_name=None, body_name="Thường trực HĐND tỉnh Sơn Hà", number="/BB-HĐND")
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(render_minutes(minutes, fonts).pdf)
    SHOTS.mkdir(parents=True, exist_ok=True)  # page 1 as people see it, to compare by eye
    shot = ["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf), str(SHOTS / "minutes-page1")]
    subprocess.run(shot, check=True)
    lines = _lines(pdf)
    title = next(b for b in lines if b.text == "BIÊN BẢN")
    header = [b for b in lines if b.y1 < title.y0]
    national = next(b for b in header if b.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    motto = next(b for b in header if b.text == "Độc lập - Tự do - Hạnh phúc")
    so = next(b for b in header if b.text.startswith("Số:"))
    parts = [b for b in header if abs(b.y0 - so.y0) < 1]  # poppler splits the line at the room left for the number
    number = _Box(" ".join(b.text for b in parts), min(b.x0 for b in parts), max(b.x1 for b in parts), so.y0, so.y1)
    assert number.text == "Số: /BB-HĐND"
    body = [b for b in header if b.y1 <= number.y0 and b not in (national, motto, *parts)]
    assert " ".join(b.text for b in body) == "THƯỜNG TRỰC HĐND TỈNH SƠN HÀ"  # broken between words, nothing lost
    left, right = [*body, number], [national, motto]

    # two columns side by side that do not touch, the body name level with the national title
    assert max(b.x1 for b in left) + 10 <= min(b.x0 for b in right)
    assert abs(body[0].y0 - national.y0) < 1
    # every line centred in its own column
    for column in (left, right):
        assert max(b.centre for b in column) - min(b.centre for b in column) < 1, column

    rules = _rules(pdf, tmp_path, title.y0)
    assert len(rules) == 2, rules
    body_rule, motto_rule = sorted(rules, key=lambda r: r.x0)
    assert body[-1].y1 < body_rule.y0 < number.y0 and motto.y1 < motto_rule.y0 < motto.y1 + 10
    # the motto's rule as long as the motto, the body's a third of the name, each centred under its text
    assert abs((motto_rule.x1 - motto_rule.x0) - (motto.x1 - motto.x0)) < 2
    assert abs(motto_rule.centre - motto.centre) < 2
    assert abs((body_rule.x1 - body_rule.x0) - max(b.x1 - b.x0 for b in body) / 3) < 2
    assert abs(body_rule.centre - body[0].centre) < 2
