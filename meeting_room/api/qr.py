"""QR codes for the links the pages hand out (a participant's invitation, a hall display's link), so
that a phone or the hall's PC opens them from the screen or from paper instead of a retyped token.

Drawn by segno (a maintained QR library, pure Python) as SVG, sent in the JSON that creates the
link as a ``data:`` URI: the link's token is shown once, and so is its code; nothing is kept."""

from __future__ import annotations

import segno


def qr_svg_uri(url: str) -> str:
    """``url`` as an SVG QR code (error correction M: readable from a crumpled or glossy print), as a data: URI."""
    code = segno.make(url, error="m", micro=False, boost_error=False)
    return str(code.svg_data_uri(scale=4, border=4, dark="#000", light="#fff", omitsize=True))
