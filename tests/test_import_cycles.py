"""No import cycle among stallscope's modules: each module can be read (and loaded) before whatever imports it.

A cycle is two modules that each need the other, at module level or inside a function: the structure no longer
says which one holds the shared thing, and a lazy import that hides it breaks the day someone hoists it. Imports are
read with ``ast`` (those inside functions and ``if TYPE_CHECKING`` blocks too); ``from package import name`` counts
as an import of the submodule ``package.name`` when that submodule exists, else of the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import stallscope

PACKAGE = Path(stallscope.__file__).resolve().parent
#: Cycles known and left, each with why; the test fails on any other (none today).
KNOWN_CYCLES: list[list[str]] = []


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root`` by its dotted name (a package by its own name)."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The most specific known module ``name`` names (``a.b.c`` -> ``a.b`` when ``c`` is not a module)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """The package's modules ``module`` (at ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per further dot
                base = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            targets = [f"{stem}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            hit = _resolve(t, known)
            if hit is not None and hit != module:
                found.add(hit)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {m: imports_of(p, m, known) for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def _describe(comp: Iterable[str], edges: dict[str, set[str]]) -> str:
    members = set(comp)
    return "; ".join(f"{m} -> {', '.join(sorted(edges[m] & members))}" for m in sorted(members))


def test_no_import_cycle_among_stallscope_modules() -> None:
    edges = graph(PACKAGE)
    assert len(edges) > 50, "too few modules found; the test is looking in the wrong place"
    assert any("stallscope.experiment.placement" in e for e in edges.values()), "no imports found"
    found = [c for c in cycles(edges) if c not in KNOWN_CYCLES]
    assert not found, "import cycles:\n" + "\n".join(_describe(c, edges) for c in found)


def test_the_checker_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .c import g\n")
    (pkg / "sub" / "c.py").write_text("import pkg.a\n")
    (pkg / "d.py").write_text("from pkg import a, sub\n")
    edges = graph(pkg)
    assert edges["pkg.d"] == {"pkg.a", "pkg.sub"}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b", "pkg.sub.c"]]
