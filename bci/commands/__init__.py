"""Subcommands of ``bci``: one module per command, each with ``register(subparsers)``.

``register`` adds a parser whose ``func`` default is called with the parsed arguments and
returns the exit code. Modules are discovered automatically, so adding a command means
adding a module here.
"""
