"""The minutes PDF read back with poppler: the Vietnamese words, the form of Mẫu 1.9, the fonts, PDF/A identification."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from transcripts.errors import FontError
from transcripts.fonts import find_fonts
from transcripts.minutes import check_section_text
from transcripts.pdf import RenderedMinutes


def _text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_form_and_the_vietnamese_words_read_back(rendered: RenderedMinutes, tmp_path: Path) -> None:
    text = _text(rendered.pdf, tmp_path)
    for expected in (
        "ỦY BAN NHÂN DÂN TỈNH QUẢNG",  # the parent body wraps in its column
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
        "Kết quả: Thông qua.",
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
    for bad in ("   ", "x" * 20_001, "chữ\x07chuông"):
        with pytest.raises(Exception) as err:
            check_section_text("Mục 1", bad)
        assert "Mục 1" in str(err.value)
