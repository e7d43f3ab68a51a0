"""QR codes of the links the pages hand out: the SVG that the answer creating a link carries is read
back by a real decoder (zbar, from Debian) as that very link; listings, which know no token, carry none."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

from fastapi.testclient import TestClient
from PIL import Image

from meeting_room.api.qr import qr_svg_uri
from tests.conftest import World, login
from tests.needs import PACKAGES, unavailable

MODULE_PX = 8


def decode(uri: str, tmp: Path) -> str:
    """What a phone's camera would read: the SVG's modules painted into a PNG, read by zbarimg."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        unavailable("zbarimg (Debian zbar-tools) is not installed; scripts/test.sh installs it", PACKAGES)
    head, _, body = uri.partition(",")
    assert head == "data:image/svg+xml;charset=utf-8"
    svg = unquote(body)
    size = int(re.search(r"viewBox='0 0 (\d+) (\d+)'", svg).group(1)) // 4  # type: ignore[union-attr]  # drawn at scale(4)
    path = re.search(r"class='qrline' stroke='#000' d='([^']+)'", svg).group(1)  # type: ignore[union-attr]  # the dark modules
    image = Image.new("L", (size * MODULE_PX, size * MODULE_PX), 255)
    x = y = 0.0
    for command, args in re.findall(r"([MmHh])([-\d. ]+)", path):  # segno draws rows of modules as horizontal strokes
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            end = numbers[0] if command == "H" else x + numbers[0]
            row = int(y - 0.5)
            for col in range(int(x), int(end)):
                image.paste(0, (col * MODULE_PX, row * MODULE_PX, (col + 1) * MODULE_PX, (row + 1) * MODULE_PX))
            x = end
    png = tmp / "qr.png"
    image.save(png)
    out = subprocess.run([zbarimg, "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.rstrip("\n")


def test_the_svg_reads_back_as_the_link(tmp_path: Path) -> None:
    url = "https://phonghop.hdnd.local:8443/join/q0D5-vX_7fKzLr2nM8pT1wYcB3hJ6sEaGuNiOo9kR4"
    assert decode(qr_svg_uri(url), tmp_path) == url
    assert decode(qr_svg_uri(url + "x"), tmp_path) == url + "x"


def test_invitation_and_display_links_come_with_their_qr(client: TestClient, world: World, tmp_path: Path) -> None:
    chair = login(client, "chair")
    base = f"/api/meetings/{world.meeting_id}"
    invitation = client.post(f"{base}/invitations", json={"member_id": world.ids["member2"]}, headers=chair).json()
    assert decode(invitation["qr"], tmp_path) == invitation["url"]
    display = client.post(f"{base}/displays", json={}, headers=chair).json()
    assert "#" in display["url"] and decode(display["qr"], tmp_path) == display["url"]
    # shown once, like the link: the listings know neither
    assert [i["qr"] for i in client.get(f"{base}/invitations", headers=chair).json()] == [None]
    assert [d["qr"] for d in client.get(f"{base}/displays", headers=chair).json()] == [None]
