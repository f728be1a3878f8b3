"""No import cycles among the modules of ocrd/ and bench/.

Every import statement counts, at module level or inside a function: an import moved into a
function still makes the modules depend on each other, it only hides the cycle until that
function runs. Imports under ``if TYPE_CHECKING:`` are left out (they never run). ``from x
import y`` depends on ``x``, and on ``x.y`` too when that is a module. Found by reading the
source with ``ast``, so nothing is imported and the test takes milliseconds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.paths import REPO

PACKAGES = ("ocrd", "bench")


@dataclass(frozen=True)
class Edge:
    target: str
    line: int


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> source file, for every .py file under the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if any(part.startswith(".") for part in parts):
                continue  # bench/.venvs holds the peers' virtual environments, not our code
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _import_nodes([child])
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    yield from _import_nodes(child.body)


def _imported_names(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    return [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]


def import_graph(modules: dict[str, Path]) -> dict[str, list[Edge]]:
    """Each module's imports of other modules in ``modules``, with the line that makes each."""
    graph: dict[str, list[Edge]] = {}
    for module, path in modules.items():
        edges: dict[str, Edge] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree.body):
            for name in _imported_names(module, path.name == "__init__.py", node):
                while name and name not in modules:  # a name inside a module: the module
                    name = name.rpartition(".")[0]
                if name and name != module and name not in edges:
                    edges[name] = Edge(name, node.lineno)
        graph[module] = list(edges.values())
    return graph


def cycles(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected components), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm with an explicit stack: no recursion limit on deep import chains.
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            edge = next(edges, None)
            if edge is not None:
                if edge.target not in index:
                    index[edge.target] = low[edge.target] = len(index)
                    stack.append(edge.target)
                    on_stack.add(edge.target)
                    work.append((edge.target, iter(graph.get(edge.target, ()))))
                elif edge.target in on_stack:
                    low[node] = min(low[node], index[edge.target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return sorted(found)


def describe(group: list[str], graph: dict[str, list[Edge]], modules: dict[str, Path]) -> str:
    """One cycle's imports, file:line each, so the message says where to cut."""
    members = set(group)
    lines = [f"cycle among {', '.join(group)}:"]
    for module in group:
        for edge in graph[module]:
            if edge.target in members:
                where = modules[module].relative_to(REPO) if modules[module].is_relative_to(REPO) else modules[module]
                lines.append(f"  {where}:{edge.line} {module} imports {edge.target}")
    return "\n".join(lines)


def test_no_module_of_ocrd_or_bench_is_part_of_an_import_cycle() -> None:
    modules = module_files(REPO, PACKAGES)
    graph = import_graph(modules)
    assert "ocrd.cli" in graph and "bench.run" in graph  # the walk found the sources

    found = cycles(graph)

    # Every cycle is listed, each with the imports that make it, not only the first one met.
    assert not found, "\n".join(describe(group, graph, modules) for group in found)


def test_the_cycle_finder_sees_deferred_imports_and_skips_type_checking_ones(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from . import a\n    return a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\nelse:\n    import json\n"
    )
    (package / "d.py").write_text("import pkg.c\n")
    (package / "sub" / "e.py").write_text("from .. import sub\nfrom ..sub import f\n")
    (package / "sub" / "f.py").write_text("try:\n    import pkg.sub.e\nexcept ImportError:\n    pass\n")
    modules = module_files(tmp_path, ("pkg",))
    graph = import_graph(modules)

    assert {edge.target for edge in graph["pkg.sub.e"]} == {"pkg", "pkg.sub", "pkg.sub.f"}
    assert {edge.target for edge in graph["pkg.c"]} == set()
    assert cycles(graph) == [["pkg.a", "pkg.b"], ["pkg.sub.e", "pkg.sub.f"]]
    message = describe(["pkg.a", "pkg.b"], graph, modules)
    assert f"{package / 'b.py'}:2 pkg.b imports pkg.a" in message
    assert f"{package / 'a.py'}:1 pkg.a imports pkg.b" in message


# The service layers sit on the library ones, never the other way round: a library module that
# imported the daemon or the web app would drag the service (and its import time) into
# `ocrd ocr`, `ocrd eval` and the benchmarks.
SERVICE = ("ocrd.daemon", "ocrd.web", "ocrd.cluster", "ocrd.cli", "ocrd.commands")
LIBRARY = ("ocrd.engine", "ocrd.documents", "ocrd.results", "ocrd.fields", "ocrd.outputs", "ocrd.evaluation")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_library_packages_never_import_the_service_layers() -> None:
    modules = module_files(REPO, ("ocrd",))
    graph = import_graph(modules)
    assert any(_within(module, LIBRARY) for module in graph)
    wrong = [
        f"{modules[module].relative_to(REPO)}:{edge.line} {module} imports {edge.target}"
        for module, edges in graph.items()
        if _within(module, LIBRARY)
        for edge in edges
        if _within(edge.target, SERVICE)
    ]
    assert not wrong, "\n".join(wrong)
