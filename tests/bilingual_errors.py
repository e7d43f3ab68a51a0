"""Every error class of the project, found rather than listed: each module that declares a class
deriving from an ``…Error`` is imported, then the subclasses of the one base are collected."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from transcripts.bilingual import BilingualError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["meeting_room", "speech", "vision", "voting", "webrtc", "hardware", "transcripts"]
VI = "Lỗi thử nghiệm: không có gì được lưu"
EN = "A test error: nothing was saved"


def _declares_an_error(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            names = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases]
            if any(n.endswith("Error") for n in names):
                return True
    return False


def every_error_class() -> list[type[BilingualError]]:
    for path in sorted(p for d in PACKAGES for p in (ROOT / d).rglob("*.py")):
        if _declares_an_error(path):
            parts = path.relative_to(ROOT).with_suffix("").parts
            importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    found: list[type[BilingualError]] = []
    todo = [BilingualError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.split(".")[0] in PACKAGES and sub not in found:
                found.append(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def make(cls: type[BilingualError]) -> BilingualError:
    """An instance with the test messages, whatever other arguments its class requires."""
    params = list(inspect.signature(cls).parameters.values())[2:]
    extra = {p.name: "test" for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return cls(VI, EN, **extra)
