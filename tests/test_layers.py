"""The package's shape: dependencies point one way, no import cycles, no module past 400 lines,
front-ends that stay thin. Every import counts, lazy and type-only ones too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "follow", "ideas", "insights", "retrieval", "ingest", "store")
ALLOWED = {  # the brief's architecture; every package may raise staffroom_errors
    "bot": {"follow", "ideas", "insights", "retrieval", "ingest", "store"},
    "follow": {"store"},
    "ingest": {"retrieval"},
    "ideas": {"store"},
    "insights": {"store"},
    "retrieval": set(),
    "store": set(),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports (``from a import b`` names module ``a.b`` if any)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            submodules = names & modules.keys()
            out |= submodules or ({node.module} & modules.keys())
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_dependencies_point_one_way():
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if (a := module.split(".")[0]) != (b := target.split(".")[0]) and b not in ALLOWED[a]
    ]
    assert not wrong, wrong


def test_no_import_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_no_module_is_a_god_module():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}  # fmt: skip
    assert not long, long


def test_front_ends_only_translate():
    for front_end in ("slack", "teams"):
        lines = sum(
            len(p.read_text(encoding="utf-8").splitlines())
            for p in (ROOT / "bot" / front_end).rglob("*.py")
        )
        assert lines <= 500, f"bot/{front_end} has {lines} lines: it is doing the core's job"
