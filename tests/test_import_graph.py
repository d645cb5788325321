"""The layer picture, enforced: `app/app_pages -> ui -> core <- training`, `cli -> core, training`.

Every import of every production file counts, wherever it is written (module level, inside a
function, under `if TYPE_CHECKING`), and so do string imports (`importlib.import_module("x")`,
`__import__("x")`, `runpy.run_module("x")`, `importlib.util.find_spec("x")`); a string import
whose target is not a literal fails too, since nobody can check it. The second half feeds the
checker small synthetic sources to show it catches each kind of violation.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# top-level unit -> the other units it may import (itself always allowed)
ALLOWED: dict[str, frozenset[str]] = {
    "app": frozenset({"app_pages", "ui", "core"}),
    "app_pages": frozenset({"ui", "core"}),
    "ui": frozenset({"core"}),
    "core": frozenset(),
    "training": frozenset({"core"}),
    "cli": frozenset({"core", "training"}),
    "gradio_app": frozenset({"core", "gradio_clip"}),
    "gradio_clip": frozenset({"core"}),  # the Gradio demo's Video clip tab
}
STRING_IMPORTS = {"import_module", "__import__", "run_module", "find_spec"}
DYNAMIC = "<dynamic>"  # a string import whose target is not a literal


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. core.cli
    target: str  # imported module as written (absolute), e.g. training.eval_cli
    line: int
    how: str  # "import", "from", or the string-import function's name

    @property
    def src_unit(self) -> str:
        return self.source.split(".")[0]

    @property
    def dst_unit(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target} ({self.how})"


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute module of `from <level dots><name> import ...` written in module."""
    if level == 0:
        return name or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[Edge]:
    """Every import in source (any depth), string imports included."""
    edges = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            edges += [Edge(module, alias.name, node.lineno, "import") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:  # pkg.name: a submodule, or a name in pkg (resolved later)
                target = base if alias.name == "*" else ".".join(p for p in (base, alias.name) if p)
                edges.append(Edge(module, target, node.lineno, "from"))
        elif isinstance(node, ast.Call) and _call_name(node.func) in STRING_IMPORTS:
            arg = node.args[0] if node.args else None
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            edges.append(Edge(module, arg.value if literal else DYNAMIC, node.lineno,
                              _call_name(node.func)))
    return edges


def project_sources(root: Path = REPO) -> dict[str, tuple[str, bool]]:
    """module name -> (source, is_package) for app.py, the Gradio demo's gradio_*.py and every checked package."""
    files = [root / "app.py", *sorted(root.glob("gradio_*.py"))]
    for pkg in ("app_pages", "ui", "core", "training", "cli"):
        files += sorted((root / pkg).rglob("*.py"))
    out = {}
    for f in files:
        rel = f.relative_to(root).with_suffix("")
        is_package = rel.name == "__init__"
        parts = rel.parts[:-1] if is_package else rel.parts
        out[".".join(parts)] = (f.read_text(encoding="utf-8"), is_package)
    return out


def all_edges(sources: dict[str, tuple[str, bool]]) -> list[Edge]:
    return [e for mod, (src, pkg) in sources.items() for e in imports_of(src, mod, is_package=pkg)]


def layer_violations(edges: list[Edge], allowed: dict[str, frozenset[str]] = ALLOWED) -> list[str]:
    """Edges between checked units that the layer rules forbid, and unverifiable string imports."""
    out = []
    for e in edges:
        if e.target == DYNAMIC:
            out.append(f"{e}: the imported name is computed; import it by name")
        elif e.dst_unit in allowed and e.dst_unit != e.src_unit and e.dst_unit not in allowed[e.src_unit]:
            out.append(f"{e}: {e.src_unit} may not import {e.dst_unit}")
    return out


def unit_cycles(edges: list[Edge], units: frozenset[str] = frozenset(ALLOWED)) -> list[list[str]]:
    """Cycles in the graph of top-level units (strongly connected components of 2+ units)."""
    graph: dict[str, set[str]] = {u: set() for u in units}
    for e in edges:
        if e.src_unit in units and e.dst_unit in units and e.src_unit != e.dst_unit:
            graph[e.src_unit].add(e.dst_unit)
    return [sorted(c) for c in _sccs(graph) if len(c) > 1]


def module_cycles(edges: list[Edge], modules: set[str]) -> list[list[str]]:
    """Cycles between project modules (an import of a name inside a module counts as the module)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges:
        target = e.target
        while target and target not in modules:  # core.x.name -> core.x
            target = target.rpartition(".")[0]
        if target and target != e.source:
            graph[e.source].add(target)
    return [sorted(c) for c in _sccs(graph) if len(c) > 1]


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in graph:
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
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                out.append(comp)
    return out


# -- the project ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project() -> tuple[dict[str, tuple[str, bool]], list[Edge]]:
    sources = project_sources()
    return sources, all_edges(sources)


def test_every_import_follows_the_layers(project):
    _, edges = project
    assert len(edges) > 500  # the walk really saw the code base
    assert layer_violations(edges) == []


def test_no_cycle_between_top_level_packages(project):
    _, edges = project
    assert unit_cycles(edges) == []


def test_no_import_cycle_between_modules(project):
    sources, edges = project
    assert module_cycles(edges, set(sources)) == []


# -- the checker catches each kind of violation ------------------------------------------------

def _check(sources: dict[str, str]) -> list[str]:
    mods = {m: (src, m in {"core", "training", "cli", "ui"}) for m, src in sources.items()}
    return layer_violations(all_edges(mods))


@pytest.mark.parametrize("module, source, needle", [
    ("core.x", "import training.loop\n", "core may not import training"),
    ("core.x", "from training import loop\n", "core may not import training"),
    ("core.x", "def f():\n    from training.cli import main\n    return main\n", "core may not import training"),
    ("core.x", "import importlib\nmod = importlib.import_module('training.eval_cli')\n",
     "core may not import training"),
    ("core.x", "from importlib import import_module\nimport_module('cli.app')\n", "core may not import cli"),
    ("core.x", "m = __import__('ui.state')\n", "core may not import ui"),
    ("core.x", "import runpy\nrunpy.run_module('cli', run_name='__main__')\n", "core may not import cli"),
    ("core.x", "import importlib\nname = 'cli'\nimportlib.import_module(name)\n", "computed"),
    ("core.x", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui.state import x\n",
     "core may not import ui"),
    ("core.a.b", "from ... import training\n", "core may not import training"),
    ("training.x", "from cli.train import train\n", "training may not import cli"),
    ("ui.x", "import app_pages.browse\n", "ui may not import app_pages"),
    ("ui.x", "import training.jobs\n", "ui may not import training"),
    ("app_pages.x", "from cli.app import main\n", "app_pages may not import cli"),
    ("gradio_app", "from ui.overlay import draw\n", "gradio_app may not import ui"),
    ("core.x", "import app\n", "core may not import app"),
])
def test_checker_catches(module, source, needle):
    found = _check({module: source})
    assert len(found) == 1 and needle in found[0], found
    assert f"{module}:" in found[0]


def test_checker_allows_the_layers_and_outside_libraries():
    ok = {
        "cli.app": "import typer\nfrom core.store import db\nfrom training.loop import train\n",
        "training.loop": "import torch\nfrom core.model import net\nfrom . import data\n",
        "ui.state": "import streamlit as st\nfrom core.config import get_settings\n",
        "app_pages.browse": "from ui import grid\nfrom core.store.queries import page\n",
        "app": "import app_pages\nimport ui.state\n",
        "core.x": "import importlib\nimportlib.import_module('onnxruntime')\nfrom .y import z\n",
    }
    assert _check(ok) == []


def test_relative_imports_resolve_against_the_package():
    assert _absolute("core.store.db", False, 1, "models") == "core.store.models"
    assert _absolute("core.store", True, 1, "models") == "core.store.models"
    assert _absolute("core.store.db", False, 2, None) == "core"
    assert _absolute("core.a.b", False, 3, "training") == "training"


def test_cycles_are_found_between_units_and_modules():
    edges = all_edges({"core.a": ("import training.b\n", False), "training.b": ("import core.a\n", False),
                       "core.c": ("def f():\n    from core.d import g\n", False),
                       "core.d": ("from core.c import f\n", False), "core.e": ("import core.c\n", False)})
    assert unit_cycles(edges) == [["core", "training"]]
    cycles = module_cycles(edges, {"core.a", "training.b", "core.c", "core.d", "core.e"})
    assert sorted(cycles) == [["core.a", "training.b"], ["core.c", "core.d"]]
