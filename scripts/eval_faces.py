"""Face recognition accuracy on a labelled photo folder laid out like ../shared/testdata/faces.

    .venv/bin/python scripts/eval_faces.py --data ../shared/testdata/faces [--tolerance T] [--margin M] [--sweep] [--table [--cnn]]

Protocol (../shared/testdata/README.md): enrol each identity on its first photo (labels.csv order),
probe with the others. The largest face of each photo is used. Prints:
- TAR: probes accepted as their own identity (best match within tolerance, ``margin`` clear of
  the runner-up), over all probes; a probe with no face found counts as rejected;
- FAR: over all impostor pairs (probe, enrolled identity other than its own), the share whose
  distance is within tolerance; also how many probes the matcher assigned to a wrong identity;
- detection recall on group photos with hand-drawn boxes (IoU >= 0.5; without boxes, against
  the face counts made by eye);
- detection recall on a composed 1920x1080 hall frame built at run time from the identity photos
  (probe photos only, each scaled so that its face is 40-60 px; 8 x 4 seats), and how many of
  its faces the gallery names right or wrong;
- time per frame (detect + encode every face) at 640x480 and 1280x720, one process;
- with ``--table``: per detector setting (HOG/CNN, upsample, detection width) the recall on each
  photo set, the time per 1080p hall frame (detection alone, and with every face encoded) and
  faces per second, one process.
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
from typing import Literal

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


SEATS = (8, 4)  # columns x rows of the composed hall frame
HALL_SIZE = (1920, 1080)
Setting = tuple[Literal["hog", "cnn"], int, int]  # detector, upsample, detection width
SETTINGS: tuple[Setting, ...] = (
    ("hog", 0, 1280),
    ("hog", 1, 1280),  # the default until 2026-11-30: a 1080p frame shrunk to 1280 px
    ("hog", 0, 1920),
    ("hog", 1, 1920),  # the default
)
CNN: Setting = ("cnn", 0, 1920)  # with --cnn: about a minute or two per 1080p frame on 2 cores


def hall_frame(probes: list[tuple[str, Path]], finder: FaceEngine, seed: int = 19) -> tuple[np.ndarray, list[tuple[str, Box]]]:
    """A 1920x1080 grey hall with up to 32 people seated in a grid: each a head-and-shoulders crop
    of one probe photo, scaled so that its face is 40-60 px wide (chosen at random, fixed seed).
    Returns the frame and (identity, face box) of each person placed. Built in memory, never saved."""
    rng = np.random.default_rng(seed)
    cols, rows = SEATS
    width, height = HALL_SIZE
    cell_w, cell_h = width // cols, height // rows
    canvas = Image.new("RGB", HALL_SIZE, (96, 104, 112))
    placed: list[tuple[str, Box]] = []
    for i in rng.permutation(len(probes)):
        if len(placed) == cols * rows:
            break
        identity, path = probes[i]
        image = load_image(path)
        boxes = finder.detect(image, upsample=1)
        if len(boxes) != 1:
            continue  # no face found, or several: the truth would be unclear
        (b,) = boxes
        face = b.right - b.left
        target = float(rng.uniform(40, 60))
        k = target / face
        cx, cy = (b.left + b.right) / 2, (b.top + b.bottom) / 2
        x0, y0 = max(0, round(cx - 1.5 * face)), max(0, round(cy - 1.4 * face))
        x1, y1 = min(image.shape[1], round(cx + 1.5 * face)), min(image.shape[0], round(cy + 2.0 * face))
        crop = Image.fromarray(image[y0:y1, x0:x1])
        crop = crop.resize((max(1, round(crop.width * k)), max(1, round(crop.height * k))), Image.Resampling.LANCZOS)
        seat = len(placed)
        gx, gy = (seat % cols + 0.5) * cell_w, (seat // cols + 0.45) * cell_h  # where the face's centre sits
        canvas.paste(crop, (round(gx - (cx - x0) * k), round(gy - (cy - y0) * k)))
        truth = Box(
            round(gy - (cy - b.top) * k), round(gx + (b.right - cx) * k), round(gy + (b.bottom - cy) * k), round(gx - (cx - b.left) * k)
        )
        placed.append((identity, truth))
    return np.asarray(canvas), placed


def _hits(truth: list[Box], detected: list[Box]) -> int:
    return sum(any(t.iou(d) >= 0.5 for d in detected) for t in truth)


def _group_recall(engine: FaceEngine, data: Path, rows: list[dict[str, str]], boxes: dict[str, list[Box]]) -> tuple[int, int, int, int]:
    """(found, total) on the photos with hand-drawn boxes and (counted, expected) on those counted by eye."""
    found = total = 0
    for name, truth in sorted(boxes.items()):
        if (data / "group" / "dlib_voc" / name).exists():  # the XML lists photos the data set does not include
            found += _hits(truth, engine.detect(load_image(data / "group" / "dlib_voc" / name)))
            total += len(truth)
    counted = expected_total = 0
    for row in rows:
        if row["kind"] == "group" and row["expected_faces"].strip():
            n, expected = len(engine.detect(load_image(data / row["file"]))), int(row["expected_faces"])
            counted, expected_total = counted + min(n, expected), expected_total + expected
    return found, total, counted, expected_total


def _table(data: Path, rows: list[dict[str, str]], boxes: dict[str, list[Box]], hall: np.ndarray, truth: list[Box], cnn: bool) -> None:
    print(f"detector settings ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; one process; "
          f"hall frame {HALL_SIZE[0]}x{HALL_SIZE[1]}, {len(truth)} faces of 40-60 px):")  # fmt: skip
    print("  setting              boxed   by-eye  hall    detect ms  detect+encode ms  faces/s")
    for detector, upsample, width in SETTINGS + ((CNN,) if cnn else ()):
        engine = FaceEngine(FaceOptions(detector=detector, upsample=upsample, detect_width=width))
        found, total, counted, expected = _group_recall(engine, data, rows, boxes)
        t0 = time.perf_counter()
        detected = engine.detect(hall)
        t1 = time.perf_counter()
        engine.encode(hall, detected)
        t2 = time.perf_counter()
        hall_hits = _hits(truth, detected)
        print(f"  {detector} up{upsample} w{width:<5}       {found / max(1, total):.3f}   {counted / max(1, expected):.3f}   "
              f"{hall_hits / max(1, len(truth)):.3f}   {1000 * (t1 - t0):8.0f}   {1000 * (t2 - t0):15.0f}   "
              f"{len(detected) / (t2 - t0):6.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN)
    parser.add_argument("--upsample", type=int, default=1)
    parser.add_argument("--detector", choices=("hog", "cnn"), default="hog")
    parser.add_argument("--detect-width", type=int, default=FaceOptions().detect_width, help="frames wider are shrunk for detection")
    parser.add_argument("--table", action="store_true", help="also print recall and 1080p time per detector setting")
    parser.add_argument("--cnn", action="store_true", help="with --table: dlib's CNN detector too (minutes)")
    parser.add_argument("--sweep", action="store_true", help="also print TAR/FAR for a range of tolerances")
    args = parser.parse_args()
    labels = args.data / "labels.csv"
    if not labels.exists():
        raise SystemExit(f"no labels.csv in {args.data}: nothing to evaluate")
    rows = list(csv.DictReader(labels.open(encoding="utf-8")))
    engine = FaceEngine(FaceOptions(detector=args.detector, upsample=args.upsample, detect_width=args.detect_width))
    print(f"Face evaluation: {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f}), dlib {args.detector.upper()}, "
          f"upsample {args.upsample}, detection width {args.detect_width}, data {args.data}")  # fmt: skip

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
    found, total, counted, expected_total = _group_recall(engine, args.data, rows, boxes)
    print(f"detection recall on group photos with boxes: {found}/{total}")
    for row in rows:
        if row["kind"] == "group" and row["expected_faces"].strip():
            n = len(engine.detect(load_image(args.data / row["file"])))
            print(f"  {Path(row['file']).name}: {n} faces found, {row['expected_faces']} counted by eye")
    if expected_total:
        print(f"detection recall on group photos counted by eye: {counted}/{expected_total}")
    # Hand-drawn boxes are the measure; without any, the by-eye counts stand in.
    recall = found / total if total else (counted / expected_total if expected_total else 0.0)

    probe_paths = [(identity, path) for identity, paths in photos.items() for path in paths[1:]]
    hall, placed = hall_frame(probe_paths, FaceEngine(FaceOptions(detect_width=1280)))  # the same frame whatever is evaluated
    hall_truth = [b for _, b in placed]
    t0 = time.perf_counter()
    seen = engine.observe(hall)
    hall_ms = 1000 * (time.perf_counter() - t0)
    detected = [o.box for o in seen]
    named_right = named_wrong = 0
    for identity, box in placed:
        near = [o for o in seen if o.box.iou(box) >= 0.5]
        if near:
            who = gallery.match(near[0].encoding, args.tolerance, args.margin).member_id
            named_right += who == identity
            named_wrong += who is not None and who != identity
    print(f"detection recall on a composed {HALL_SIZE[0]}x{HALL_SIZE[1]} hall frame ({len(placed)} faces of 40-60 px): "
          f"{_hits(hall_truth, detected)}/{len(placed)}, {len(detected)} found in all; named right {named_right}, "
          f"named wrong {named_wrong}; {hall_ms:.0f} ms (detect + encode)")  # fmt: skip
    if args.table:
        _table(args.data, rows, boxes, hall, hall_truth, args.cnn)

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
