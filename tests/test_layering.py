"""Who may import whom (ARCHITECTURE.md): the domain packages never import the application, they
import each other only down the order the README states (foundation modules aside), and no module
imports itself back through any chain of imports, function-local imports included."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ["speech", "vision", "voting", "webrtc", "hardware", "transcripts"]
PACKAGES = ["meeting_room", *DOMAIN]

# The README's line (under "How it is built"), read left to right: a package may import the
# packages to its left in its own group and nothing else of the domain; packages after the same
# arrow are side by side and do not import each other; groups apart ("|") import nothing of each other.
ORDER = "voting, transcripts  |  hardware (media vocabulary) -> webrtc -> speech, vision"

# Modules that every package may import whatever its place in the order (the README names them next
# to the order): they import nothing of the project but each other, so they add no edge between packages.
FOUNDATION = {"transcripts.bilingual", "hardware.workers"}

# Import cycles that could not be broken yet, each a sorted tuple of modules with a reason. Goal: none.
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def _allowed(order: str) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for group in order.split("|"):
        below: set[str] = set()
        for step in group.split("->"):
            names = [re.sub(r"\(.*?\)", "", n).strip() for n in step.split(",")]
            for name in names:
                allowed[name] = set(below)
            below |= set(names)
    return allowed


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


@cache
def _graph() -> dict[str, set[str]]:
    """Every project module -> the project modules it imports anywhere in the file (top level,
    functions, ``TYPE_CHECKING`` blocks), relative imports resolved."""
    files = {name: (path, pkg) for path in (p for d in PACKAGES for p in (ROOT / d).rglob("*.py")) for name, pkg in [_module_name(path)]}

    def resolve(name: str) -> str | None:
        while name:
            if name in files:
                return name
            name = name.rpartition(".")[0]
        return None

    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in files.items():
        package = module if is_package else module.rpartition(".")[0]
        targets: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package
                targets += [f"{source}.{a.name}" if f"{source}.{a.name}" in files else source for a in node.names]
        graph[module] = {t for t in map(resolve, targets) if t is not None and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return found


def test_the_detector_finds_a_cycle_through_a_function_local_import() -> None:
    graph = {"a.store": {"a.projections"}, "a.projections": {"a.search"}, "a.search": {"a.store"}, "a.api": {"a.store"}}
    assert _cycles(graph) == [("a.projections", "a.search", "a.store")]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_local_and_relative_imports() -> None:
    graph = _graph()
    assert "meeting_room.store" in graph["meeting_room.api.app"]
    assert "speech.campplus" in graph["speech.models"]  # imported inside a function


def test_no_import_cycles() -> None:
    cycles = set(_cycles(_graph()))
    assert sorted(cycles - KNOWN_CYCLES) == []
    assert sorted(KNOWN_CYCLES - cycles) == [], "a known cycle is gone: remove it from KNOWN_CYCLES"


def test_the_readme_states_the_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{ORDER}`" in readme
    assert set(_allowed(ORDER)) == set(DOMAIN)
    for module in FOUNDATION:
        assert f"`{module}`" in readme


def _against_the_order(graph: dict[str, set[str]]) -> list[str]:
    """Imports from one domain package into another that the order does not allow (foundation modules
    may be imported from anywhere)."""
    allowed = _allowed(ORDER)
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if target not in FOUNDATION and (a := module.split(".")[0]) in allowed and (b := target.split(".")[0]) != a and b not in allowed[a]
    )


def _foundation_leaks(graph: dict[str, set[str]]) -> list[str]:
    """Imports by a foundation module of anything in the project but another foundation module."""
    return sorted(f"{m} -> {t}" for m in FOUNDATION & set(graph) for t in graph[m] if t not in FOUNDATION)


def test_the_layering_rules_catch_a_wrong_import() -> None:
    graph = {
        "voting.poll": {"transcripts.bilingual", "transcripts.text", "voting.errors"},
        "speech.asr": {"transcripts.bilingual", "hardware.media"},
        "hardware.media": {"webrtc.peer"},
        "transcripts.bilingual": {"transcripts.text"},
    }
    assert _against_the_order(graph) == ["hardware.media -> webrtc.peer", "voting.poll -> transcripts.text"]
    assert _foundation_leaks(graph) == ["transcripts.bilingual -> transcripts.text"]


def test_domain_packages_import_each_other_only_down_the_order() -> None:
    assert _against_the_order(_graph()) == []


def test_foundation_modules_import_only_each_other() -> None:
    graph = _graph()
    assert FOUNDATION <= set(graph), "a foundation module named here does not exist"
    assert _foundation_leaks(graph) == []


def test_importing_a_foundation_module_loads_nothing_of_another_package() -> None:
    """Python runs the package's ``__init__`` first: what it reaches must stay inside that package, or
    be another foundation module (``hardware``'s errors rest on ``transcripts.bilingual``)."""
    graph = _graph()
    for module in FOUNDATION:
        package = module.split(".")[0]
        reached: set[str] = set()
        todo = [package]
        while todo:
            for target in graph[todo.pop()] - reached:
                reached.add(target)
                todo.append(target)
        assert sorted(t for t in reached if t.split(".")[0] != package and t not in FOUNDATION) == []


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_package_does_not_import_the_application(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = sorted(
        m for m, targets in _graph().items() if m.split(".")[0] == package and any(t.split(".")[0] == "meeting_room" for t in targets)
    )
    assert offenders == []


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_package_reads_no_environment(package: str) -> None:
    offenders = [
        str(f.relative_to(ROOT))
        for f in sorted((ROOT / package).rglob("*.py"))
        if "os.environ" in f.read_text(encoding="utf-8") or "getenv" in f.read_text(encoding="utf-8")
    ]
    assert offenders == []
