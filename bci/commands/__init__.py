"""Subcommands of ``bci``: one module per command, each with ``register(subparsers)``.

``register`` adds a parser whose ``func`` default is called with the parsed arguments and
returns the exit code. Modules are discovered automatically (:func:`bci.cli.command_modules`),
so adding a command means adding a module here.

The command line is the top layer: it may import everything (the library in :mod:`bci`,
:mod:`acquisition`, :mod:`models`, :mod:`gui`), and it is the only code that opens windows.
Nothing below it imports it.

Start fast: ``bci --help`` imports every command module to register it, so ``bci --help``,
``bci COMMAND --help`` and argument errors cost what the slowest module's top level costs.
Hence the rule every module here keeps (a test checks it, ``benchmarks/bench_startup.py``
measures it):

- **The top level imports the standard library only** (and other public modules of this
  package, which keep the same rule: :mod:`~bci.commands.common`,
  :mod:`~bci.commands.display`, :mod:`~bci.commands.native_output`). Names needed only in
  annotations go under ``if TYPE_CHECKING:``.
- **``register`` builds the parser with constants.** Help text and ``choices`` that come
  from the library are imported inside ``register`` only from modules that themselves load
  the standard library only (:mod:`bci.paradigm`'s names, :mod:`bci.datasets`' run table);
  otherwise the values are written out here and a test keeps them equal to the library's.
- **The run function imports the rest** (numpy, scipy, MNE, pylsl, the library, Qt), at its
  top, before any work; windows are opened by importing :mod:`gui` at the point a window
  is opened, after deciding not to run headless (:func:`~bci.commands.display.display_available`).
- **A helper with heavy imports at its top is private** (``_name.py``, e.g.
  :mod:`~bci.commands._demo_story`): discovery skips private modules, and a command imports
  its helper inside its run function.

A new command, in short::

    # bci/commands/stream.py: ``bci stream --board NAME``
    from __future__ import annotations

    import argparse

    from bci.commands.common import add_status_every_argument


    def register(subparsers: argparse._SubParsersAction) -> None:
        p = subparsers.add_parser("stream", help="...", description="...")
        p.add_argument("--board", required=True, help="...")
        add_status_every_argument(p)
        p.set_defaults(func=run)


    def run(args: argparse.Namespace) -> int:
        from acquisition.brainflow_source import BrainFlowSource  # heavy: here, not above

        ...
        return 0

The BLAS thread limit is applied by :func:`bci.cli.main` before ``func`` runs; a command
does not set it.
"""
