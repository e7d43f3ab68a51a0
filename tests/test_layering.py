"""The six domain packages never import the application (ARCHITECTURE.md: a one-way dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ["speech", "vision", "voting", "webrtc", "hardware", "transcripts"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_package_does_not_import_the_application(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = [str(f.relative_to(ROOT)) for f in files if "meeting_room" in _imports(f)]
    assert offenders == []


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_package_reads_no_environment(package: str) -> None:
    offenders = [
        str(f.relative_to(ROOT))
        for f in sorted((ROOT / package).rglob("*.py"))
        if "os.environ" in f.read_text(encoding="utf-8") or "getenv" in f.read_text(encoding="utf-8")
    ]
    assert offenders == []
