"""Signature images (a member's own, or set by the administrator) and seal images (a body's) through the
API: hostile files refused with a bilingual reason and nothing kept; the signed minutes carry them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate
from tests.signature_pictures import opaque_png, seal_png, signature_png


def _png(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("anh.png", data, "image/png")}


def _kept_files(data_dir: Path) -> list[Path]:
    root = data_dir / "signature-images"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_who_may_set_see_and_remove_images(client: TestClient, world: World) -> None:
    admin, sec, member = login(client, "admin"), login(client, "secretary"), login(client, "member1")
    own = f"/api/members/{world.ids['secretary']}/signature-image"
    assert client.get(f"{own}/info", headers=sec).json() is None
    r = client.put(own, files=_png(signature_png()), headers=sec)  # a member sets their own
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "signature" and (r.json()["width"], r.json()["height"]) == (600, 240)
    assert client.get(own, headers=sec).headers["content-type"] == "image/png"
    assert client.get(own, headers=admin).status_code == 200
    assert client.get(f"{own}/info", headers=sec).json() == r.json()
    assert client.get(own, headers=member).status_code == 403  # nobody else sees a signature
    assert client.get(f"{own}/info", headers=member).status_code == 403
    assert client.put(own, files=_png(signature_png()), headers=member).status_code == 403
    seal = f"/api/bodies/{world.body_id}/seal-image"
    assert client.put(seal, files=_png(seal_png()), headers=sec).status_code == 403  # a seal: the administrator only
    assert client.put(seal, files=_png(seal_png()), headers=admin).status_code == 200
    listed = client.get("/api/signature-images", headers=admin).json()
    assert sorted((i["kind"], i["owner_id"]) for i in listed) == [("seal", world.body_id), ("signature", world.ids["secretary"])]
    assert client.get("/api/signature-images", headers=sec).status_code == 403
    assert client.put("/api/bodies/nope/seal-image", files=_png(seal_png()), headers=admin).status_code == 404
    assert client.delete(own, headers=sec).status_code == 204
    assert client.get(own, headers=sec).status_code == 404
    assert client.delete(own, headers=sec).status_code == 404


def test_hostile_files_are_refused_and_nothing_is_kept(client: TestClient, world: World, tmp_path: Path) -> None:
    admin = login(client, "admin")
    url = f"/api/bodies/{world.body_id}/seal-image"
    before, files_before = snapshot(world.store), _kept_files(tmp_path / "var")
    cases = [
        (opaque_png(), 415, "nền trong suốt"),
        (b"GIF89a" + b"\0" * 64, 415, "phải là tệp PNG"),
        (seal_png()[:300], 415, "không phải tệp PNG đọc được"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (1 << 20), 413, "quá lớn"),
    ]
    for data, status, says in cases:
        r = client.put(url, files=_png(data), headers=admin)
        assert r.status_code == status, r.text
        error = r.json()["error"]
        assert says in error["message"] and error["message_en"] and error["message"] != error["message_en"]
    assert client.put(url, data={"x": "y"}, headers=admin).status_code == 422  # no file at all
    assert snapshot(world.store) == before and _kept_files(tmp_path / "var") == files_before


def test_the_signed_minutes_carry_the_signature_images_and_the_body_s_seal(mclient: TestClient, mworld: World, tmp_path: Path) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    admin, sec, chair = login(client, "admin"), login(client, "secretary"), login(client, "chair")
    assert client.put(f"/api/members/{world.ids['secretary']}/signature-image", files=_png(signature_png()), headers=sec).status_code == 200
    assert client.put(f"/api/members/{world.ids['chair']}/signature-image", files=_png(signature_png()), headers=admin).status_code == 200
    assert client.put(f"/api/bodies/{world.body_id}/seal-image", files=_png(seal_png()), headers=admin).status_code == 200
    for who, passphrase, headers in (("secretary", "thu-ky", sec), ("chair", "chu-toa", chair)):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
        r = client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=headers)
        assert r.status_code == 200, r.text
    reports = client.get(f"{url}/minutes/verify", headers=sec).json()
    assert [r["field"] for r in reports] == ["ChuKy_ThuKy", "ChuKy_ChuToa"] and all(r["ok"] for r in reports)

    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(client.get(f"{url}/minutes.pdf", headers=sec).content)
    pages = _run("pdftotext", str(pdf), "-").split("\f")
    page = next(i + 1 for i, text in enumerate(pages) if "Người ký: Người chair" in text)  # poppler reads the appearance
    subprocess.run(["pdftoppm", "-r", "60", "-f", str(page), "-l", str(page), "-png", "-singlefile", str(pdf), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    rgb = np.asarray(Image.open(tmp_path / "p.png").convert("RGB")).astype(int)
    red_, green, blue_ = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red = int(((red_ > 150) & (green < 90) & (blue_ < 90)).sum())
    blue = int(((blue_ > 110) & (red_ < 90) & (green < 110)).sum())
    assert red > 100 and blue > 100  # the seal (red) and the signatures (blue) are drawn on that page


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout
