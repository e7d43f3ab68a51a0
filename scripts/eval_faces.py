"""Face recognition accuracy on a labelled photo folder laid out like ../shared/testdata/faces.

    .venv/bin/python scripts/eval_faces.py --data ../shared/testdata/faces [--tolerance T] [--margin M] [--sweep]

Protocol (../shared/testdata/README.md): enrol each identity on its first photo (labels.csv order),
probe with the others. The largest face of each photo is used. Prints:
- TAR: probes accepted as their own identity (best match within tolerance, ``margin`` clear of
  the runner-up), over all probes; a probe with no face found counts as rejected;
- FAR: over all impostor pairs (probe, enrolled identity other than its own), the share whose
  distance is within tolerance; also how many probes the matcher assigned to a wrong identity;
- detection recall on group photos with hand-drawn boxes (IoU >= 0.5; without boxes, against
  the face counts made by eye);
- time per frame (detect + encode every face) at 640x480 and 1280x720, one process.
The LAST line is exactly: TAR=0.xxxx FAR=0.xxxx detection_recall=0.xxxx probes=N
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision.faces import Box, FaceEngine, FaceOptions, sharpness  # noqa: E402
from vision.gallery import Gallery  # noqa: E402
from vision.image import load_image  # noqa: E402

DEFAULT_TOLERANCE = 0.55  # chosen from the sweep on ../shared/testdata/faces: see README
DEFAULT_MARGIN = 0.04
SAME_PERSON = {frozenset({"df_person10", "fr_elon_musk_unenrolled"})}  # see the data's SOURCE.txt


def _largest(engine: FaceEngine, path: Path) -> tuple[np.ndarray | None, float]:
    image = load_image(path)
    boxes = engine.detect(image)
    if not boxes:
        return None, 0.0
    box = max(boxes, key=lambda b: b.size)
    (encoding,) = engine.encode(image, [box])
    return encoding, sharpness(image, box)


def _voc_boxes(data: Path) -> dict[str, list[Box]]:
    out: dict[str, list[Box]] = defaultdict(list)
    for xml in (data / "group" / "dlib_voc").glob("*.xml"):
        for image in ET.parse(xml).getroot().iter("image"):
            name = Path(image.get("file", "")).name
            for b in image.iter("box"):
                top, left, w, h = (int(b.get(k, "0")) for k in ("top", "left", "width", "height"))
                out[name].append(Box(top, left + w, top + h, left))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN)
    parser.add_argument("--upsample", type=int, default=1)
    parser.add_argument("--sweep", action="store_true", help="also print TAR/FAR for a range of tolerances")
    args = parser.parse_args()
    labels = args.data / "labels.csv"
    if not labels.exists():
        raise SystemExit(f"no labels.csv in {args.data}: nothing to evaluate")
    rows = list(csv.DictReader(labels.open(encoding="utf-8")))
    engine = FaceEngine(FaceOptions(upsample=args.upsample))
    print(f"Face evaluation: {os.cpu_count()} cores, dlib HOG, upsample {args.upsample}, data {args.data}")

    photos: dict[str, list[Path]] = defaultdict(list)
    for row in rows:
        if row["kind"] == "identity":
            photos[row["identity"]].append(args.data / row["file"])
    enrolled: list[tuple[str, np.ndarray]] = []
    probes: list[tuple[str, np.ndarray | None]] = []
    sharp_values = []
    for identity, paths in photos.items():
        encoding, sharp = _largest(engine, paths[0])
        if encoding is None:
            print(f"  not enrolled (no face in {paths[0].name}): {identity}")
        else:
            enrolled.append((identity, encoding))
            sharp_values.append(sharp)
        for path in paths[1:]:
            probe, sharp = _largest(engine, path)
            probes.append((identity, probe))
            if probe is not None:
                sharp_values.append(sharp)
    gallery = Gallery(enrolled)
    enrolled_ids = gallery.members

    def score(tolerance: float) -> tuple[float, float, int, int, int]:
        accepted = wrong = impostor_hits = impostor_pairs = 0
        for identity, enc in probes:
            others = [m for m in enrolled_ids if m != identity and frozenset({m, identity}) not in SAME_PERSON]
            impostor_pairs += len(others)
            if enc is None:
                continue
            match = gallery.match(enc, tolerance, args.margin)
            accepted += match.member_id == identity
            wrong += match.member_id is not None and match.member_id != identity
            dist = gallery.distances(enc)
            impostor_hits += sum(dist[m] <= tolerance for m in others)
        return accepted / len(probes), impostor_hits / max(1, impostor_pairs), wrong, impostor_pairs, accepted

    no_face = sum(enc is None for _, enc in probes)
    print(f"identities {len(photos)}, enrolled {len(enrolled)}, probes {len(probes)} (no face found in {no_face})")
    print(f"face sharpness (variance of Laplacian at 128 px) of these photos: min {min(sharp_values):.0f}, "
          f"5th percentile {np.percentile(sharp_values, 5):.0f}, median {np.median(sharp_values):.0f}")  # fmt: skip
    genuine = [gallery.distances(enc)[identity] for identity, enc in probes if enc is not None and identity in enrolled_ids]
    impostor = [
        d
        for identity, enc in probes
        if enc is not None
        for m, d in gallery.distances(enc).items()
        if m != identity and frozenset({m, identity}) not in SAME_PERSON
    ]
    print(f"distances: same person median {np.median(genuine):.3f}, 95th percentile {np.percentile(genuine, 95):.3f}, "
          f"max {max(genuine):.3f}; different people min {min(impostor):.3f}, 1st percentile {np.percentile(impostor, 1):.3f}")  # fmt: skip
    if args.sweep:
        for tol in np.arange(0.40, 0.66, 0.025):
            tar, far, wrong, pairs, _ = score(float(tol))
            print(f"  tolerance {tol:.3f}: TAR {tar:.4f}  FAR {far:.4f} ({pairs} impostor pairs)  wrong identities {wrong}")
    tar, far, wrong, pairs, accepted = score(args.tolerance)
    print(f"tolerance {args.tolerance}, margin {args.margin}: accepted {accepted}/{len(probes)}, wrong identity {wrong}, "
          f"impostor pairs {pairs}")  # fmt: skip

    boxes = _voc_boxes(args.data)
    found = total = 0
    for name, truth in sorted(boxes.items()):
        if not (args.data / "group" / "dlib_voc" / name).exists():
            continue  # the XML lists photos the data set does not include
        detected = engine.detect(load_image(args.data / "group" / "dlib_voc" / name))
        hits = sum(any(t.iou(d) >= 0.5 for d in detected) for t in truth)
        found, total = found + hits, total + len(truth)
    print(f"detection recall on group photos with boxes: {found}/{total}")
    counted = expected_total = 0
    for row in rows:
        if row["kind"] == "group" and row["expected_faces"].strip():
            n, expected = len(engine.detect(load_image(args.data / row["file"]))), int(row["expected_faces"])
            counted, expected_total = counted + min(n, expected), expected_total + expected
            print(f"  {Path(row['file']).name}: {n} faces found, {expected} counted by eye")
    # Hand-drawn boxes are the measure; without any, the by-eye counts stand in.
    recall = found / total if total else (counted / expected_total if expected_total else 0.0)

    frames = [args.data / r["file"] for r in rows if r["kind"] in ("group", "group_with_boxes")]
    for width, height in ((640, 480), (1280, 720)):
        times, faces = [], 0
        for path in frames:
            img = np.asarray(Image.open(path).convert("RGB").resize((width, height)))
            t0 = time.perf_counter()
            faces += len(engine.observe(img))
            times.append(time.perf_counter() - t0)
        print(f"time per frame at {width}x{height}: mean {1000 * np.mean(times):.0f} ms, "
              f"max {1000 * max(times):.0f} ms ({faces / len(frames):.1f} faces per frame)")  # fmt: skip
    print(f"TAR={tar:.4f} FAR={far:.4f} detection_recall={recall:.4f} probes={len(probes)}")


if __name__ == "__main__":
    main()
