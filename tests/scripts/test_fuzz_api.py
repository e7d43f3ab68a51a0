"""scripts/fuzz_api.py, small: schemathesis against a demo server finds no server error and drops
no connection on a few operations that used to fail (integers out of range, control characters)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import needs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_short_fuzzing_run_finds_no_server_error() -> None:
    needs.module("schemathesis")
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "fuzz_api.py"),
            "--examples",
            "4",
            "--include-path-regex",
            r"/events$|/minutes$|/minutes\.docx$",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    last = run.stdout.strip().splitlines()[-1]
    found = re.fullmatch(r"requests=(\d+) server_errors=(\d+) dropped=(\d+) operations=(\d+)", last)
    assert found, run.stdout[-3000:] + run.stderr[-3000:]
    requests, errors, dropped, operations = map(int, found.groups())
    assert operations == 4 and requests > 50
    assert (errors, dropped) == (0, 0), run.stdout[-3000:]
    assert run.returncode == 0
