"""``bci --help``, ``bci COMMAND --help`` and argument errors load nothing heavy.

Behaviour, not time (``benchmarks/bench_startup.py`` measures the time): a fresh
interpreter calls :func:`bci.cli.main` and reports the modules loaded, and none of numpy,
scipy, MNE, pylsl, pyxdf, BrainFlow, matplotlib or Qt may be among them. The rule that makes it so
(see :mod:`bci.commands`) is checked on the source too.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bci.cli import build_parser, command_modules

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "numpy",
    "scipy",
    "mne",
    "pylsl",
    "pyxdf",
    "brainflow",
    "matplotlib",
    "PySide6",
    "pyqtgraph",
)
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}

#: Runs ``bci.cli.main(argv)`` for each argv given as JSON; prints the heavy modules loaded.
RUNNER = f"""
import contextlib, io, json, sys
import bci.cli

for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = bci.cli.main(argv)
        except SystemExit as exc:
            code = exc.code
    loaded = sorted({{m.partition(".")[0] for m in sys.modules}} & set({HEAVY!r}))
    print(json.dumps({{"argv": argv, "code": code, "loaded": loaded, "out": out.getvalue(),
                      "err": err.getvalue()}}))
"""


def commands() -> list[str]:
    return sorted(build_parser()._subparsers._group_actions[0].choices)


def run_cli(argvs: list[list[str]]) -> list[dict]:
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_help_of_bci_and_of_every_command_loads_nothing_heavy():
    names = commands()
    assert {"demo", "evaluate", "live", "train"} <= set(names)
    results = run_cli([["--help"]] + [[name, "--help"] for name in names])
    assert len(results) == len(names) + 1
    for r in results:
        assert r["code"] == 0, r
        assert r["out"].startswith("usage: bci"), r
        assert r["loaded"] == [], f"bci {' '.join(r['argv'])} loaded {r['loaded']}"


def test_argument_errors_answer_without_loading_anything_heavy():
    results = run_cli(
        [
            ["live"],  # --model missing
            ["evaluate", "x.edf", "--paradigm", "p.toml", "--group-by", "day"],
            ["nosuchcommand"],
            [],  # no command: the help, exit 2
        ]
    )
    for r in results:
        assert r["code"] == 2, r
        assert r["loaded"] == [], f"bci {' '.join(r['argv'])} loaded {r['loaded']}"
    assert "--model" in results[0]["err"]
    assert "invalid choice: 'day'" in results[1]["err"]
    assert "invalid choice: 'nosuchcommand'" in results[2]["err"]
    assert results[3]["out"].startswith("usage: bci")


def test_the_runner_sees_a_heavy_import_when_a_command_runs(tmp_path):
    # The check above can fail: running a command (not its help) loads the library.
    (r,) = run_cli([["info", str(tmp_path / "missing.edf")]])
    assert r["code"] == 2 and "missing.edf" in r["err"]
    assert "numpy" in r["loaded"]


def top_level_imports(path: Path) -> list[str]:
    """Modules imported at the top level of a file, outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("name", [*command_modules(), "__init__"])
def test_a_command_module_imports_only_the_standard_library_at_its_top(name):
    path = ROOT / "bci" / "commands" / f"{name}.py"
    public = {f"bci.commands.{m}" for m in command_modules()}
    for module in top_level_imports(path):
        ok = module.partition(".")[0] in STDLIB or module in public
        assert ok, f"bci/commands/{name}.py imports {module} at its top; import it in run()"


def test_discovery_skips_private_helpers_and_finds_every_command():
    found = command_modules()
    assert "_demo_story" not in found and "demo" in found
    on_disk = {p.stem for p in (ROOT / "bci" / "commands").glob("*.py")}
    assert set(found) == {n for n in on_disk if not n.startswith("_")}


def test_evaluate_group_by_choices_are_the_evaluations():
    from bci.commands import evaluate
    from bci.evaluation import GROUP_BY

    assert evaluate.GROUP_BY == GROUP_BY
