"""Requests per second and latency of the real server (its own process, SQLite in a temporary
directory), with the server's resident memory before and after.

    .venv/bin/python benchmarks/api_requests.py [--requests 1000] [--clients 1 4] [--smoke]

The server speaks HTTPS as it ships; the client trusts its local CA (``benchmarks/served.py``).

Read: GET a meeting's agenda (authorisation, two queries). Write: PUT a member's attendance
(decided in the store's transaction, hash-chained, committed with fsync, pushed to subscribers).
"""

from __future__ import annotations

import argparse
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from served import serve  # noqa: E402  (this folder: the script's own)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _printed(pattern: str, output: str) -> str:
    """The value the demo printed after a label."""
    found = re.search(pattern, output)
    assert found, f"the demo did not print {pattern!r}"
    return found.group(1)


def _measure(
    label: str, base: str, tls: ssl.SSLContext, token: str, calls: Sequence[tuple[str, str, dict[str, Any] | None]], clients: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    per_client = [calls[i::clients] for i in range(clients)]

    def run(mine: list[tuple[str, str, dict[str, Any] | None]]) -> list[float]:
        out = []
        with httpx.Client(base_url=base, headers=headers, timeout=30, verify=tls) as c:
            for method, url, body in mine:
                t0 = time.perf_counter()
                r = c.request(method, url, json=body)
                out.append(time.perf_counter() - t0)
                r.raise_for_status()
        return out

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        lat = sorted(x * 1000 for part in pool.map(run, per_client) for x in part)
    elapsed = time.perf_counter() - start
    print(
        f"{label:<6} clients={clients}  {len(lat) / elapsed:7.1f} req/s  "
        f"latency mean {statistics.mean(lat):6.2f} ms  p95 {lat[int(0.95 * len(lat)) - 1]:6.2f} ms  "
        f"p99 {lat[int(0.99 * len(lat)) - 1]:6.2f} ms  max {lat[-1]:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 20 requests, 1 and 2 clients")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.clients = 20, [1, 2]
    print(f"API benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.requests} requests per run")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MEETING_ROOM_DATA_DIR": f"{tmp}/var", "MEETING_ROOM_LOG_LEVEL": "warning"}
        demo = subprocess.run([sys.executable, "-m", "meeting_room", "demo"], env=env, capture_output=True, text=True, check=True)
        password, meeting_id = _printed(r"chutich\s+(\S+)", demo.stdout), _printed(r"demo meeting: (\S+)", demo.stdout)
        with serve(f"{tmp}/var") as server:
            base, tls = server.base, server.tls
            print(f"server memory after start: {_rss_mb(server.process.pid):.0f} MB RSS")
            login = {"username": "chutich", "password": password}
            token = httpx.post(base + "/api/auth/login", json=login, verify=tls).json()["token"]
            h = {"Authorization": f"Bearer {token}"}
            httpx.post(f"{base}/api/meetings/{meeting_id}/transitions", json={"to": "open"}, headers=h, verify=tls).raise_for_status()
            people = [p["member_id"] for p in httpx.get(f"{base}/api/meetings/{meeting_id}/participants", headers=h, verify=tls).json()]
            reads = [("GET", f"/api/meetings/{meeting_id}/agenda", None)] * args.requests
            statuses = ["present_in_room", "present_online"]
            writes = [
                ("PUT", f"/api/meetings/{meeting_id}/attendance/{people[i % len(people)]}", {"status": statuses[i % 2]})
                for i in range(args.requests)
            ]
            for clients in args.clients:
                _measure("read", base, tls, token, reads, clients)
                _measure("write", base, tls, token, writes, clients)
            print(f"server memory after the runs: {_rss_mb(server.process.pid):.0f} MB RSS")


if __name__ == "__main__":
    main()
