"""The pages' own text: no emoji (Debian has no emoji font: they show as empty boxes; icons are inline SVG)."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[3] / "meeting_room" / "web"
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


def test_no_page_or_script_uses_emoji() -> None:
    found = [
        f"{path.relative_to(WEB)}:{n}: {line.strip()[:80]}"
        for path in sorted(WEB.rglob("*"))
        if path.suffix in (".html", ".js", ".css") and "node_modules" not in path.parts  # ours, not npm's
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if EMOJI.search(line)
    ]
    assert found == [], "use icon(name) from app.js instead:\n" + "\n".join(found)
