"""The serif font of administrative documents (Times New Roman metrics), found on disk and registered.

Decree 30/2020/NĐ-CP asks for Times New Roman; Liberation Serif has the same metrics and every
Vietnamese letter, and Debian ships it (``fonts-liberation2``). The four faces are needed; the
error says where they were looked for and how to install them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transcripts.errors import FontError

DEFAULT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/liberation-serif"),
)
FACES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bold_italic": "LiberationSerif-BoldItalic.ttf",
}
FAMILY = "MinutesSerif"
_lock = threading.Lock()
_registered: dict[str, FontSet] = {}


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path

    @property
    def names(self) -> dict[str, str]:
        """reportlab font names of the four faces."""
        return {face: f"{FAMILY}-{face}" for face in FACES}


def find_fonts(extra_dirs: Sequence[Path] = ()) -> FontSet:
    """The first directory (configured ones first) that holds all four faces."""
    searched = [*extra_dirs, *DEFAULT_DIRS]
    for directory in searched:
        paths = {face: Path(directory) / filename for face, filename in FACES.items()}
        if all(p.is_file() for p in paths.values()):
            return FontSet(**paths)
    raise FontError(
        "Không tìm thấy phông chữ Liberation Serif (cỡ chữ như Times New Roman) để in biên bản. "
        "Cài gói Debian fonts-liberation2 hoặc chỉ thư mục chứa phông trong cấu hình (fonts_dir)",
        "Liberation Serif (Times New Roman metrics) is not installed: install the Debian package fonts-liberation2 "
        "or set fonts_dir to a directory holding " + ", ".join(FACES.values()),
        searched=[str(d) for d in searched],
    )


def register(fonts: FontSet) -> dict[str, str]:
    """Register the faces with reportlab once per process; returns the face -> font name map."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _lock:
        names = fonts.names
        if _registered.get(FAMILY) == fonts:
            return names
        for face, name in names.items():
            pdfmetrics.registerFont(TTFont(name, str(getattr(fonts, face))))
        pdfmetrics.registerFontFamily(
            FAMILY, normal=names["regular"], bold=names["bold"], italic=names["italic"], boldItalic=names["bold_italic"]
        )
        mappings: tuple[tuple[Literal[0, 1], Literal[0, 1], str], ...] = (
            (0, 0, "regular"),
            (1, 0, "bold"),
            (0, 1, "italic"),
            (1, 1, "bold_italic"),
        )
        for bold, italic, face in mappings:
            addMapping(FAMILY, bold, italic, names[face])
        _registered[FAMILY] = fonts
        return names


def stamp_font(fonts: FontSet, cache_dir: Path) -> Path:
    """The regular face rescaled to 1000 units per em, for pyHanko's signature appearance.

    pyHanko writes glyph widths in font units while PDF reads them as 1/1000 em, so a TrueType
    font with 2048 units per em (Liberation, DejaVu) comes out twice as wide; rescaling fixes it.
    """
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    source = fonts.regular
    target = Path(cache_dir) / f"{source.stem}-upem1000-{source.stat().st_size}.ttf"
    with _lock:
        if not target.is_file():
            font = TTFont(str(source))
            if font["head"].unitsPerEm != 1000:
                scale_upem(font, 1000)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            font.save(str(partial))
            partial.replace(target)
    return target
