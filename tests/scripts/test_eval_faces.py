"""scripts/eval_faces.py runs end to end on a folder laid out like ../shared/testdata/faces."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.face_photos import astronaut, coffee, hopper, scene

ROOT = Path(__file__).resolve().parents[2]


def _save(path: Path, image: np.ndarray) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path.as_posix()


def test_eval_prints_the_agreed_last_line(tmp_path: Path) -> None:
    rows = []
    for ident, photo in (("collins", astronaut()), ("hopper", hopper())):
        variants = [photo, photo[:, ::-1].copy(), np.asarray(Image.fromarray(photo).rotate(4))]
        for i, img in enumerate(variants):
            rel = f"identities/{ident}/{i}.png"
            _save(tmp_path / rel, img)
            rows.append({"file": rel, "kind": "identity", "identity": ident, "expected_faces": "1"})
    _save(tmp_path / "group/two.png", scene([astronaut(), hopper()], face_width=360))
    rows.append({"file": "group/two.png", "kind": "group", "identity": "", "expected_faces": "2"})
    _save(tmp_path / "no_face/coffee.png", coffee())
    rows.append({"file": "no_face/coffee.png", "kind": "no_face", "identity": "", "expected_faces": "0"})
    with (tmp_path / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["file", "kind", "identity", "expected_faces", "note", "source_repo"])
        writer.writeheader()
        writer.writerows({**r, "note": "", "source_repo": "tests"} for r in rows)
    command = [sys.executable, str(ROOT / "scripts/eval_faces.py"), "--data", str(tmp_path), "--table"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    last = out.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"TAR=(\d\.\d{4}) FAR=(\d\.\d{4}) detection_recall=(\d\.\d{4}) probes=(\d+)", last)
    assert match, out.stdout
    assert match.group(4) == "4" and float(match.group(1)) == 1.0 and float(match.group(2)) == 0.0 and float(match.group(3)) == 1.0
    assert "time per frame at 1280x720" in out.stdout
    # the composed hall: the 4 probe photos seated with 40-60 px faces, found and named at full size
    hall = re.search(r"hall frame \((\d+) faces of 40-60 px\): (\d+)/\d+, \d+ found in all; named right \d+, named wrong (\d+)", out.stdout)
    assert hall and hall.group(1) == "4" and hall.group(2) == "4" and hall.group(3) == "0", out.stdout
    table = re.findall(r"^  (hog|cnn) up(\d) w(\d+) +([\d.]+) +([\d.]+) +([\d.]+) +(\d+) +(\d+) +([\d.]+)$", out.stdout, re.M)
    assert [(d, u, w) for d, u, w, *_ in table] == [("hog", "0", "1280"), ("hog", "1", "1280"), ("hog", "0", "1920"), ("hog", "1", "1920")]
    assert table[-1][5] == "1.000", out.stdout  # the default finds every face of the hall
