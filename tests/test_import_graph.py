"""The import graph of the tree: no cycles, and the layer arrows of DESIGN.md hold.

Every module of ``acquisition``, ``bci``, ``gui`` and ``models`` is parsed with :mod:`ast`
and every import statement anywhere in it is an edge: at the top, inside functions and
methods, under ``if TYPE_CHECKING:``, and ``importlib.import_module("name")`` with a
literal name. The command discovery of :mod:`bci.cli` (``import_module`` of a computed
name) is added as edges from ``bci.cli`` to every command module. The checks run on a
small broken tree first, to show that they find what they look for.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("acquisition", "bci", "gui", "models")
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the packages."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports, wherever the import statement is (dotted, absolute)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            out.add(base)
            # ``from pkg import sub``: the submodule is imported too.
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.add(node.args[0].value)
    return out


def import_graph(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, set[str]], dict]:
    """(edges between the tree's modules, every module's imports including outside ones)."""
    files = module_files(root, packages)
    known = set(files)
    imports = {name: imported_names(name, path, known) for name, path in files.items()}
    edges = {
        name: {t for t in targets if t in known and t != name} for name, targets in imports.items()
    }
    return edges, imports


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def in_package(module: str, *packages: str) -> bool:
    """True when ``module`` is one of ``packages`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in packages)


COMMAND_LINE = ("bci.cli", "bci.__main__", "bci.commands")


def arrow_violations(imports: dict[str, set[str]]) -> list[str]:
    """The imports that break DESIGN.md's layer table, as ``importer -> imported: rule``."""
    bad = []
    for module, targets in sorted(imports.items()):
        for target in sorted(targets):
            top = target.partition(".")[0]
            if in_package(module, "models") and top not in STDLIB | {"numpy", "models"}:
                bad.append(f"{module} -> {target}: models/ imports numpy only")
            if in_package(module, "acquisition") and in_package(target, "gui", "bci"):
                bad.append(f"{module} -> {target}: acquisition/ never imports gui/ or bci/")
            library = in_package(module, "bci") and not in_package(module, *COMMAND_LINE)
            if library and in_package(target, "gui", *COMMAND_LINE):
                bad.append(f"{module} -> {target}: the bci/ library never imports gui/ or the CLI")
            if in_package(module, "gui") and in_package(target, *COMMAND_LINE):
                bad.append(f"{module} -> {target}: gui/ never imports the command line")
    return bad


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_find_a_cycle_hidden_in_a_function_and_broken_arrows(tmp_path):
    write_tree(
        tmp_path,
        {
            "models/__init__.py": "",
            "models/net.py": "import numpy\n\ndef f():\n    import scipy.linalg\n",
            "acquisition/__init__.py": "",
            "acquisition/src.py": "from . import other\n",
            "acquisition/other.py": "def g():\n    from acquisition import src\n",
            "bci/__init__.py": "",
            "bci/lib.py": "import importlib\n\ndef h():\n    importlib.import_module('gui.win')\n",
            "gui/__init__.py": "",
            "gui/win.py": "from bci.commands import run\n",
            "bci/commands/__init__.py": "",
            "bci/commands/run.py": "from gui import win\n",
        },
    )
    edges, imports = import_graph(tmp_path, PACKAGES)
    assert cycles(edges) == [
        ["acquisition.other", "acquisition.src"],
        ["bci.commands.run", "gui.win"],
    ]
    assert edges["gui.win"] == {"bci.commands", "bci.commands.run"}
    assert edges["bci.lib"] == {"gui.win"}
    assert arrow_violations(imports) == [
        "bci.lib -> gui.win: the bci/ library never imports gui/ or the CLI",
        "gui.win -> bci.commands: gui/ never imports the command line",
        "gui.win -> bci.commands.run: gui/ never imports the command line",
        "models.net -> scipy.linalg: models/ imports numpy only",
    ]


@pytest.fixture(scope="module")
def tree() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    edges, imports = import_graph(ROOT, PACKAGES)
    from bci.cli import command_modules

    # bci.cli imports the command modules by computed name (automatic discovery).
    commands = {f"bci.commands.{name}" for name in command_modules()}
    assert commands <= set(edges), "a command module the discovery finds is not in the tree"
    edges["bci.cli"] |= commands
    imports["bci.cli"] |= commands
    return edges, imports


def test_the_tree_has_no_import_cycle_not_even_inside_functions(tree):
    edges, _ = tree
    assert len(edges) > 50  # the whole tree was read
    assert cycles(edges) == []


def test_the_layer_arrows_of_the_design_hold(tree):
    _, imports = tree
    assert arrow_violations(imports) == []


def test_the_command_line_is_the_only_code_that_opens_windows(tree):
    _, imports = tree
    outside = {
        module
        for module, targets in imports.items()
        if any(in_package(t, "gui") for t in targets)
        and not in_package(module, "gui", *COMMAND_LINE)
    }
    assert outside == set()
