"""Every benchmark runs: its ``--smoke`` run (seconds, small sizes) against the code as it ships
exits 0 and prints its figures, so that a benchmark can no longer rot unnoticed. The figures are
not judged for speed here (the machine may be loaded), only for being there and making sense."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from meeting_room.api.routes.pages import vendor_dir
from tests import needs
from tests.pgcluster import ThrowawayCluster

if TYPE_CHECKING:
    from speech.models import ModelStore

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
HELPERS = {"served"}  # modules the benchmarks share, not benchmarks themselves
NUMBER = r"(\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class Smoke:
    script: str
    figures: tuple[str, ...]  # each must be found in the output; its first group (when any) is a positive number
    # (durations at smoke sizes may print as 0.00: those are matched without a group)

    def run(self, *extra: str, timeout: float = 900) -> str:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0"}
        result = subprocess.run(
            [sys.executable, str(BENCHMARKS / f"{self.script}.py"), "--smoke", *extra],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{self.script} --smoke exited {result.returncode}:\n{output[-4000:]}"
        for figure in self.figures:
            found = re.search(figure, output)
            assert found, f"{self.script} --smoke did not print {figure!r}:\n{output[-4000:]}"
            if found.groups():
                assert float(found.group(1)) > 0, f"{self.script}: {found.group(0)!r} is not a positive figure"
        return output


# What each benchmark must print (SQLite, or nothing to choose) ----------------------------------
PLAIN = {
    "api_requests": Smoke(
        "api_requests",
        (
            rf"read +clients=2 +{NUMBER} req/s +latency mean +{NUMBER}",
            rf"write +clients=2 +{NUMBER} req/s",
            rf"after the runs: {NUMBER} MB RSS",
        ),
    ),
    "backup_restore": Smoke("backup_restore", (r"built 3 meetings", r"backup +[\d.]+ s +(\d+) events", r"restore +[\d.]+ s .*verify")),
    "face_import": Smoke(
        "face_import", (rf"sqlite in-process: 4 members, \d+ photos in [\d.]+ s \(done\); {NUMBER} photos/s", r"enrolled [1-9]\d*")
    ),
    "kill9_ballots": Smoke("kill9_ballots", (r"round +1: killed after +\d+ acknowledged; counted +\d+; lost 0", r"lost 0; verify ok")),
    "poll_load": Smoke(
        "poll_load",
        tuple(rf"sqlite +{kind} +8 voters .*201=8 counted=8 exact=True verify=True; all in {NUMBER} s" for kind in ("secret", "named"))
        + (rf"tally p50 {NUMBER} ms p99 \d+ ms", rf"4 members' pages open: every ballot on every page after {NUMBER} s"),
    ),
    "search_archive": Smoke(
        "search_archive",
        (
            rf"sqlite +indexed {NUMBER} documents",
            r"q='truong' +all +hits= *[1-9]\d* p50= *[\d.]+ ms p99= *[\d.]+ ms",
            rf"sqlite +worst p99 {NUMBER} ms",
        ),
    ),
    "store_append": Smoke("store_append", (rf"sqlite.*threads=2.*?{NUMBER} events/s",)),
    "call_load": Smoke(
        "call_load",
        (
            rf"(?m)^ +1 \| +{NUMBER}% \| .* \| (?:0\.[5-9]\d|1\.\d\d) / \d\.\d\d \| \d\.\d{{3}} / \d\.\d{{3}} \| \d\.\d{{3}} "
            r"\| \d+, (?:nan|\d+\.\d\d) s, (?:nan|\d\.\d\d)$",
        ),
    ),
}
ON_POSTGRES = {
    "poll_load": (
        Smoke(
            "poll_load", tuple(rf"postgresql +{kind} +8 voters .*201=8 counted=8 exact=True verify=True" for kind in ("secret", "named"))
        ),
        "--postgres-url",
    ),
    "store_append": (Smoke("store_append", (rf"postgresql.*threads=2.*?{NUMBER} events/s",)), "--postgres-url"),
    "search_archive": (
        Smoke("search_archive", (r"postgresql +indexed \d+ documents", rf"postgresql +worst p99 {NUMBER} ms")),
        "--postgres",
    ),
    "kill9_ballots": (Smoke("kill9_ballots", (r"PostgreSQL", r"lost 0")), "--database-url"),
    "face_import": (Smoke("face_import", (rf"workers=1: \d+ photos in [\d.]+ s in all: {NUMBER} photos/s",)), "--database-url"),
}
WITH_MODELS = {
    "room_live": Smoke(
        "room_live", (rf"1 room\(s\): process CPU {NUMBER}% .* utterances captioned [1-9]\d* \(none for \d+\), delay median {NUMBER} s",)
    ),
    "speech_models": Smoke(
        "speech_models", (rf"whisper .* RTF {NUMBER}", rf"voiceprint .* RTF {NUMBER}", r"live x1: [1-9]\d* final captions")
    ),
    "startup": Smoke("startup", (rf"first start: health +{NUMBER} s, first caption +{NUMBER} s after serve; RSS {NUMBER} MB",)),
    # a throwaway PostgreSQL of its own, one worker process: the queue, the worker and the pass run
    "transcription_jobs": Smoke("transcription_jobs", (r"workers=1: 2 jobs, .*completed 2/2", rf"workers=1: {NUMBER} audio-s/s in all")),
}
SLOW = {
    "face_attendance": Smoke(
        "face_attendance", (rf"workers=1 640x480: +{NUMBER} frames/s", rf"present on the chair's screen: median {NUMBER} s")
    )
}
IN_BROWSER = {
    "page_latency": Smoke(
        "page_latency", (rf"chair console ready .* median +{NUMBER} ms", rf"chair's tally shows it +median +{NUMBER} ms")
    ),
    "document_viewer": Smoke(
        "document_viewer",
        (
            rf"time to first page \(the reader's measure\): median {NUMBER} ms",
            rf"fetched for page 1: median {NUMBER} MB in byte ranges of 2\.\d MB .*a whole download ran to its end: False",
        ),
    ),
}


def test_every_benchmark_has_a_smoke_run() -> None:
    scripts = {p.stem for p in BENCHMARKS.glob("*.py")} - HELPERS
    covered = set(PLAIN) | set(WITH_MODELS) | set(SLOW) | set(IN_BROWSER)
    assert scripts == covered, f"benchmarks without a smoke run: {sorted(scripts - covered)}; gone: {sorted(covered - scripts)}"
    for script in scripts:
        assert "--smoke" in (BENCHMARKS / f"{script}.py").read_text(encoding="utf-8"), script


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_smoke(name: str) -> None:
    PLAIN[name].run()


@pytest.mark.parametrize("name", sorted(ON_POSTGRES))
def test_smoke_on_postgres(name: str, pg_cluster: ThrowawayCluster | str) -> None:
    if isinstance(pg_cluster, str):
        pytest.skip("the benchmarks empty their database: they run on a throwaway server only")
    smoke, option = ON_POSTGRES[name]
    smoke.run(option, pg_cluster.new_database())


@pytest.mark.parametrize("name", sorted(WITH_MODELS))
def test_smoke_with_models(name: str, model_store: ModelStore) -> None:
    WITH_MODELS[name].run("--models-dir", str(model_store.root))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_smoke_slow(name: str) -> None:
    SLOW[name].run()


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(IN_BROWSER))
def test_smoke_in_browser(name: str) -> None:
    if shutil.which("chromium") is None:
        needs.unavailable("Debian's chromium is needed for the page benchmark", needs.BROWSER)
    needs.module("playwright")
    if name == "document_viewer" and vendor_dir("pdfjs-dist") is None:
        needs.unavailable("pdf.js is not installed (scripts/setup.sh runs npm ci in meeting_room/web)", needs.PACKAGES)
    IN_BROWSER[name].run()
