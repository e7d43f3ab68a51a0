"""The document reader's time to first page for a large PDF, on a member's phone, in Debian's chromium.

    .venv/bin/python benchmarks/document_viewer.py [--mb 20] [--pages 100] [--rounds 5] [--smoke]

Makes a PDF of ``--mb`` megabytes with reportlab (``--pages`` pages, each with a heading, text and
an incompressible photo-like image, so the size is real and spread over the pages), attaches it to
the demo meeting's agenda, starts the server as it ships (HTTPS, its own process) and, in a fresh
browser each round (nothing cached), logs a member in at 390x844 and taps the document on the
meeting page. Prints:
  * time to first page: from the tap to page 1 drawn on the reader's canvas (the reader's own
    measure, ``data-first-page-ms``, and the wall clock around it);
  * what it took from the network: bytes in byte-range answers (206) against the file's size, and
    whether a whole download (200) ran to its end;
  * for comparison, downloading the whole file over the same HTTPS.
``--smoke``: a 2 MB PDF of 10 pages, one round.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx2 as httpx
import numpy as np
from playwright.sync_api import Request, Response, ViewportSize, sync_playwright
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import serve  # noqa: E402  (this folder: the script's own)

from meeting_room.api.routes.pages import vendor_dir  # noqa: E402
from meeting_room.auth import actor_of  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.demo import load_demo  # noqa: E402
from meeting_room.files.documents import DocumentFiles  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import documents  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402

PHONE: ViewportSize = {"width": 390, "height": 844}


def make_pdf(target_mb: float, pages: int) -> bytes:
    """About ``target_mb`` MB over ``pages`` pages: noise images (Flate cannot shrink them) plus text."""
    rl_config.useA85 = 0  # binary streams, as real PDFs have (ASCII85 would add a quarter to the size)
    rng = np.random.default_rng(25)
    side = max(16, int(math.sqrt(target_mb * 1e6 / pages / 3)))  # RGB bytes per page's image
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle("Hồ sơ trình kỳ họp (tài liệu đo thời gian)")
    for n in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 18)
        c.drawString(60, 780, f"Page {n} of {pages}")
        c.setFont("Helvetica", 11)
        for i in range(8):
            c.drawString(60, 750 - i * 16, f"Item {n}.{i + 1}: appendix figure and table, see the image below.")
        pixels = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
        c.drawImage(ImageReader(_png(pixels)), 60, 120, width=475, height=475)
        c.showPage()
    c.save()
    return buf.getvalue()


def _png(pixels: np.ndarray) -> io.BytesIO:
    from PIL import Image  # Pillow comes with reportlab

    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG", compress_level=1)
    out.seek(0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mbps", type=float, default=50, help="the tablet's Wi-Fi, emulated by chromium (0: loopback as it is)")
    parser.add_argument("--rtt-ms", type=float, default=4, help="round trip on that Wi-Fi")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 2 MB, 10 pages, 1 round")
    args = parser.parse_args()
    if args.smoke:
        args.mb, args.pages, args.rounds = 2, 10, 1
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Debian's chromium is needed: apt-get install chromium")
    if vendor_dir("pdfjs-dist") is None:
        sys.exit("pdf.js is not installed: run npm ci in meeting_room/web (scripts/setup.sh does)")

    start = time.perf_counter()
    pdf = make_pdf(args.mb, args.pages)
    made_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "var"
        settings = load_settings(data_dir=data)
        store = open_store(settings)
        ensure_first_admin(store)
        with store.read() as session:
            admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
        demo = load_demo(store, admin, timezone=settings.timezone)
        mid = demo.meeting_id
        with store.read() as session:
            item = session.query(t.AgendaItem).filter_by(meeting_id=mid).order_by(t.AgendaItem.position).first()
            assert item is not None
            secretary = actor_of(session.query(t.Member).filter_by(username="thuky").one())
        files = DocumentFiles(settings.documents_dir, len(pdf) + 1)
        doc_id = documents.attach(
            store, files, secretary, mid, item.id, source=io.BytesIO(pdf), filename="ho-so.pdf", title="Hồ sơ trình kỳ họp"
        )
        store.engine.dispose()
        user, password = next((u, p) for u, p, _ in demo.logins if u == "daibieu1")
        file_url = f"/api/meetings/{mid}/documents/{doc_id}/file"

        first_page, wall, ranged, whole_done, requests = [], [], [], [], []
        with serve(data) as server, sync_playwright() as pw:
            with httpx.Client(base_url=server.base, verify=server.tls, timeout=120) as api:
                token = api.post("/api/auth/login", json={"username": user, "password": password}).json()["token"]
                start = time.perf_counter()
                got = api.get(file_url, headers={"Authorization": f"Bearer {token}"})
                whole_ms = (time.perf_counter() - start) * 1000
                assert got.status_code == 200 and len(got.content) == len(pdf)
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for _ in range(args.rounds):
                # a fresh browser profile each round: nothing of the file is cached
                context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", ignore_https_errors=True)
                context.set_default_timeout(120_000)
                page = context.new_page()
                if args.mbps:
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    rate = args.mbps * 1e6 / 8  # bytes per second
                    conditions = {"offline": False, "latency": args.rtt_ms, "downloadThroughput": rate, "uploadThroughput": rate}
                    cdp.send("Network.emulateNetworkConditions", conditions)
                page.goto(f"{server.base}/?next=/member/{mid}")
                page.get_by_label("Tên đăng nhập").fill(user)
                page.get_by_label("Mật khẩu").fill(password)
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url(
                    re.compile(rf"^[a-z]+://[^/]+/member/{mid}$")
                )  # "**/member/…" matched the login page's "/?next=/member/…"
                link = page.locator(f'#agenda a[data-document="{doc_id}"]')
                link.wait_for()
                seen: list[Response] = []
                finished: list[int] = []
                page.on("response", partial(_keep, seen, file_url))
                page.on("requestfinished", partial(_finished, finished, file_url))
                start = time.perf_counter()
                link.tap()
                page.locator("#viewer[data-first-page-ms] canvas").wait_for()
                wall.append((time.perf_counter() - start) * 1000)
                first_page.append(float(page.locator("#viewer").get_attribute("data-first-page-ms") or "nan"))
                ranged.append(sum(int(r.headers.get("content-length", "0")) for r in seen if r.status == 206))
                whole_done.append(any(size >= len(pdf) for size in finished))
                requests.append(len(seen))
                context.close()
            browser.close()

    mb = len(pdf) / 1e6
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores; {version}; pdf.js {_pdfjs_version()}")
    network = f"Wi-Fi emulated at {args.mbps:g} Mbit/s, {args.rtt_ms:g} ms round trip" if args.mbps else "loopback"
    print(f"document: {mb:.1f} MB, {args.pages} pages (made in {made_s:.1f} s); rounds: {args.rounds}, a fresh browser each at 390x844")
    print(f"network: {network}")
    print(f"time to first page (the reader's measure): median {statistics.median(first_page):.0f} ms   max {max(first_page):.0f} ms")
    print(f"tap -> page 1 drawn (wall clock):          median {statistics.median(wall):.0f} ms   max {max(wall):.0f} ms")
    print(
        f"fetched for page 1: median {statistics.median(ranged) / 1e6:.2f} MB in byte ranges of {mb:.1f} MB "
        f"({statistics.median(requests):.0f} responses); a whole download ran to its end: {any(whole_done)}"
    )
    whole_wifi = f"; at {args.mbps:g} Mbit/s at least {len(pdf) * 8 / args.mbps / 1e3:.0f} ms" if args.mbps else ""
    print(f"the whole file over the same HTTPS, for comparison: {whole_ms:.0f} ms on loopback{whole_wifi}")


def _keep(seen: list[Response], url: str, response: Response) -> None:
    if url in response.url:
        seen.append(response)


def _finished(sizes: list[int], url: str, request: Request) -> None:
    if url in request.url:
        sizes.append(request.sizes()["responseBodySize"])


def _pdfjs_version() -> str:
    import json

    path = vendor_dir("pdfjs-dist")
    return json.loads((path / "package.json").read_text())["version"] if path else "?"


if __name__ == "__main__":
    main()
