"""The import graph between Lentera's folders: no cycle, lms/plugins at the bottom, and
every dependency one that docs/architecture.md allows.

A *unit* is a package under ``lms/`` (``lms/courses/``...) or a top-level module
(``lms/web.py``...). Every ``import`` counts, at the top of a file or inside a function:
a function-level import is still a dependency (it only moves the moment it is paid), so
it may not close a cycle either. ``lms/__init__.py``, ``lms/cli.py`` and ``lms/models.py``
are the composition roots: they wire every module and may import any; nothing else may
import them except for ``lms.MODULES`` (``from lms import MODULES``).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LMS = ROOT / "lms"
ROOTS = {"__init__", "cli", "models"}
SKIP = {"migrations"}


def _units() -> dict[str, list[Path]]:
    units: dict[str, list[Path]] = {}
    for path in sorted(LMS.iterdir()):
        if path.name in SKIP or path.name.startswith((".", "__pycache__")):
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            units[path.name] = sorted(path.rglob("*.py"))
        elif path.suffix == ".py" and path.stem not in ROOTS:
            units[path.stem] = [path]
    return units


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), with the line."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                here = _module_name(path).split(".")
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == "lms":  # from lms import x: x is a unit (or MODULES)
                found += [(f"lms.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((module, node.lineno))
    return found


def import_graph() -> dict[str, dict[str, list[str]]]:
    """unit -> unit it imports -> where (file:line)."""
    units = _units()
    graph: dict[str, dict[str, list[str]]] = {name: defaultdict(list) for name in units}
    for unit, files in units.items():
        for path in files:
            for module, line in _imported(path):
                parts = module.split(".")
                if parts[0] != "lms" or len(parts) < 2:
                    continue
                target = parts[1]
                if target == "MODULES":
                    continue
                where = f"{path.relative_to(ROOT)}:{line}"
                if target in ROOTS:
                    graph[unit][f"<{target}>"].append(where)
                elif target != unit and target in units:
                    graph[unit][target].append(where)
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, {}):
            if succ not in graph:
                continue
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def allowed_table() -> dict[str, set[str]]:
    """The table "Allowed imports" of docs/architecture.md: unit -> units it may import."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Allowed imports", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9_]+)` \| (.*?) \|", line)
        if match:
            names = set(re.findall(r"`([a-z0-9_]+)`", match.group(2)))
            table[match.group(1)] = names
    return table


def test_no_cycle_between_folders() -> None:
    graph = import_graph()
    found = cycles(graph)
    detail = [
        f"{a} -> {b}: {', '.join(graph[a][b][:3])}"
        for component in found for a in component for b in component if b in graph[a]
    ]
    assert not found, "import cycles: " + "; ".join(map(str, found)) + "\n" + "\n".join(detail)


def test_plugins_import_no_feature() -> None:
    graph = import_graph()
    assert dict(graph["plugins"]) == {}, f"lms/plugins imports {dict(graph['plugins'])}"


#: The bottom layer: imports nothing of Lentera (db: only config and plugins).
BOTTOM = {"plugins": set(), "config": set(), "errors": set(), "i18n": set(),
          "signals": set(), "db": {"config", "plugins"}}


def test_the_bottom_layer_imports_no_feature() -> None:
    graph = import_graph()
    for unit, allowed in BOTTOM.items():
        assert set(graph.get(unit, {})) <= allowed, f"lms/{unit} imports {dict(graph[unit])}"


def test_nothing_imports_the_composition_roots() -> None:
    graph = import_graph()
    bad = {f"{unit} -> {target}": where for unit, targets in graph.items()
           for target, where in targets.items() if target.startswith("<")}
    assert not bad


def test_every_import_is_allowed_by_the_documented_table() -> None:
    graph = import_graph()
    table = allowed_table()
    assert set(table) == set(graph), (
        "docs/architecture.md 'Allowed imports' lists other units than lms/ has: "
        f"missing {sorted(set(graph) - set(table))}, extra {sorted(set(table) - set(graph))}")
    unexpected = {
        f"{unit} -> {target}": where[:3]
        for unit, targets in graph.items() for target, where in targets.items()
        if target not in table[unit]
    }
    assert not unexpected, ("imports docs/architecture.md does not allow (add the row, if the "
                            f"dependency is right, or invert it with a registry): {unexpected}")
    unused = {unit: sorted(table[unit] - set(graph[unit])) for unit in table
              if table[unit] - set(graph[unit])}
    assert not unused, f"allowed imports no code makes (remove them from the table): {unused}"


def test_the_table_itself_has_no_cycle() -> None:
    table = allowed_table()
    graph = {unit: {target: [] for target in targets} for unit, targets in table.items()}
    assert not cycles(graph)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["import lms.x.y", "from lms.x import y",
                                    "def f():\n    from lms.x import y"])
def test_the_graph_counts_every_kind_of_import(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert any(module.startswith("lms.x") for module, _line in _imported(path))
