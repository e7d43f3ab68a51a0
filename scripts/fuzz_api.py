"""Fuzz the HTTP API with schemathesis against a demo server, as the administrator: no answer may be
a server error, and no request may drop the connection.

    .venv/bin/python scripts/fuzz_api.py [--examples N] [--seed S] [--include-path-regex RE]

Loads the demo data (``meeting-room demo``) into a throwaway data directory, serves the app over
plain HTTP on a free local port (in this process, so that every request and every status is counted
here), logs in as ``admin`` and runs ``schemathesis run`` with the ``not_a_server_error`` check and
N examples per operation. Real demo objects (the meeting, a delegate, the body, an agenda item, the
poll, and a document and a recording uploaded first) fill the path parameters, so the routes behind
them are reached rather than their 404. Routes that would end the
fuzzer's own session (logout) are left out. Prints, as its LAST line exactly:

    requests=R server_errors=E dropped=D operations=O

and exits non-zero when E or D is not 0 (the server errors are listed above it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

import httpx2 as httpx  # noqa: E402
import uvicorn  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from meeting_room.api.app import create_app  # noqa: E402
from meeting_room.cli import _operator  # noqa: E402
from meeting_room.demo import load_demo  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402

# Operations that end the fuzzer's own session: after one of them every later request is a 401.
EXCLUDED_PATHS = ["/api/auth/logout"]


class Counter:
    """Outermost ASGI wrapper: counts requests, server errors (status >= 500, by route) and requests
    that raised out of the app (the server would drop the connection)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0
        self.server_errors: collections.Counter[str] = collections.Counter()
        self.dropped: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests += 1
        where = f"{scope['method']} {scope['path']}"

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                self.server_errors[f"{message['status']} {where}"] += 1
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except BaseException:
            self.dropped[where] += 1
            raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app: ASGIApp, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    with httpx.Client(timeout=2) as client:
        for _ in range(600):  # up to a minute on a loaded machine
            if server.started:
                break
            if not thread.is_alive():
                raise SystemExit("the server did not start")
            threading.Event().wait(0.1)
        client.get(f"http://127.0.0.1:{port}/api/health").raise_for_status()
    return server, thread


def demo_ids(client: httpx.Client, auth: dict[str, str], meeting_id: str, delegate: str) -> dict[str, str]:
    """Ids of real demo objects for the path parameters (random ids reach nothing but the 404),
    with a document and a recording uploaded so that their routes have something to serve."""
    from reportlab.pdfgen import canvas

    members = client.get("/api/members", headers=auth).json()
    meeting = f"/api/meetings/{meeting_id}"
    items = client.get(f"{meeting}/agenda", headers=auth).json()
    polls = client.get(f"{meeting}/polls", headers=auth).json()
    pdf = io.BytesIO()
    page = canvas.Canvas(pdf)
    page.drawString(72, 720, "Dự thảo nghị quyết (fuzzing)")
    page.save()
    files = {"file": ("du-thao.pdf", pdf.getvalue(), "application/pdf")}
    document = client.post(f"{meeting}/agenda/{items[0]['id']}/documents", files=files, headers=auth).json()
    wav = io.BytesIO()
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\0\0" * 32_000)
    files = {"file": ("ghi-am.wav", wav.getvalue(), "audio/wav")}
    recording = client.post(f"{meeting}/recordings", files=files, headers=auth).json()
    return {
        "meeting_id": meeting_id,
        "member_id": next(m["id"] for m in members if m["username"] == delegate),
        "body_id": members[0]["body_id"] or next(m["body_id"] for m in members if m["body_id"]),
        "item_id": items[0]["id"],
        "poll_id": polls[0]["id"],
        "document_id": document["id"],
        "recording_id": recording["recording_id"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=25, help="examples per operation (default 25)")
    parser.add_argument("--seed", type=int, default=24, help="random seed (default 24: the same run twice)")
    parser.add_argument("--include-path-regex", help="fuzz only the operations whose path matches")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="fuzz-api-"))
    try:
        settings = load_settings(data_dir=data / "var", https=False, port=free_port())
        store = open_store(settings)
        admin = ensure_first_admin(store)
        assert admin is not None
        demo = load_demo(store, _operator(store), timezone=settings.timezone)
        delegate = next(u for u, _p, _n in demo.logins if u == "daibieu1")
        counter = Counter(create_app(settings, store))
        server, thread = start_server(counter, settings.port)
        base = f"http://127.0.0.1:{settings.port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            token = client.post("/api/auth/login", json={"username": admin.username, "password": admin.password}).json()["token"]
            ids = demo_ids(client, {"Authorization": f"Bearer {token}"}, demo.meeting_id, delegate)
        config = data / "schemathesis.toml"
        config.write_text("[parameters]\n" + "".join(f'"path.{k}" = {json.dumps(v)}\n' for k, v in ids.items()))
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(args.examples),
            "--seed",
            str(args.seed),
            "--workers",
            str(args.workers),
            "--request-timeout",
            "60",
            "--continue-on-failure",
            "--suppress-health-check",
            "all",
            "--report-dir",
            str(data / "report"),
            "--no-color",
        ]
        for path in EXCLUDED_PATHS:
            command += ["--exclude-path", path]
        if args.include_path_regex:
            command += ["--include-path-regex", args.include_path_regex]
        run = subprocess.run(command, cwd=data, capture_output=True, text=True)
        print(run.stdout[-20_000:])
        if run.returncode not in (0, 1):
            print(run.stderr[-5_000:], file=sys.stderr)
        tested = re.search(r"Tested: (\d+)", run.stdout)
        operations = int(tested.group(1)) if tested else 0
        server.should_exit = True
        thread.join(timeout=30)
        store.engine.dispose()
        for where, n in sorted(counter.server_errors.items()):
            print(f"server error x{n}: {where}")
        for where, n in sorted(counter.dropped.items()):
            print(f"dropped connection x{n}: {where}")
        errors, dropped = sum(counter.server_errors.values()), sum(counter.dropped.values())
        print(f"requests={counter.requests} server_errors={errors} dropped={dropped} operations={operations}")
        return 0 if errors == 0 and dropped == 0 and run.returncode in (0, 1) else 1
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
