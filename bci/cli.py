"""The ``bci`` command line: discovers the subcommands in :mod:`bci.commands`.

Building the parser imports every command module; they keep their heavy imports inside
their run functions (see :mod:`bci.commands`), so ``bci --help``, ``bci COMMAND --help``
and argument errors answer without loading numpy, scipy, MNE, liblsl or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import tomllib
import zipfile
from collections.abc import Sequence
from xml.etree.ElementTree import ParseError as XMLParseError

import bci.commands
from bci import __version__
from bci.commands import stopping
from bci.errors import BCIError
from bci.threads import limit_blas_threads


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors that come from what the user gave us: printed as one line, exit code 2.

    A function, not a constant: the ``acquisition`` and ``models`` packages load numpy,
    which ``bci --help`` must not; it is called only once a command has failed.
    """
    from acquisition.errors import AcquisitionError
    from models.errors import ModelError

    return (
        BCIError,
        AcquisitionError,
        ModelError,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
    )


def command_modules() -> list[str]:
    """Names of the modules of :mod:`bci.commands` that may hold a command (sorted).

    Private modules (``_name``) are the command layer's helpers with heavy imports at the
    top; they are imported by a command when it runs, never at registration.
    """
    found = pkgutil.iter_modules(bci.commands.__path__)
    return sorted(m.name for m in found if not m.name.startswith("_") and not m.ispkg)


#: The parsers' own errors, raised on a user's malformed file wherever one slips past the
#: module that reads it: also one line and exit 2. Anything else (a bug in our code) keeps
#: its traceback.
PARSER_ERRORS = (
    tomllib.TOMLDecodeError,
    json.JSONDecodeError,
    UnicodeDecodeError,
    zipfile.BadZipFile,
    XMLParseError,
)

#: Errors of exhausted resources: a size or depth from outside that escaped its bound.
RESOURCE_ERRORS = {
    MemoryError: "out of memory: an input asks for more than this machine has; check its sizes",
    RecursionError: "an input is nested too deeply to process; check the file's structure",
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="bci",
        description="A brain-computer interface that learns from EEG band power.",
    )
    parser.add_argument("--version", action="version", version=f"bci {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        module = importlib.import_module(f"bci.commands.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bci`` with ``argv``; the exit code: 0 ok, 2 user error, 130 Ctrl-C, 143 SIGTERM."""
    previous = stopping.install()
    command = ""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command or ""
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        # Work starts here: before the command imports numpy (its BLAS then reads the limit).
        limit_blas_threads()
        try:
            return int(func(args) or 0)
        except user_errors() as exc:
            text = str(exc)
            # Library messages may name the command themselves: say it once.
            if text.startswith(f"{args.command}: "):
                text = text[len(args.command) + 2 :]
            print(f"bci {args.command}: error: {text}", file=sys.stderr)
            return 2
        except PARSER_ERRORS as exc:
            text = " ".join(str(exc).split())
            print(
                f"bci {args.command}: error: malformed input ({type(exc).__name__}: {text})",
                file=sys.stderr,
            )
            return 2
        except (MemoryError, RecursionError) as exc:
            kind = MemoryError if isinstance(exc, MemoryError) else RecursionError
            print(f"bci {args.command}: error: {RESOURCE_ERRORS[kind]}", file=sys.stderr)
            return 2
    except KeyboardInterrupt as exc:
        print(stopping.closing_line(command, exc), file=sys.stderr)
        return stopping.exit_code(exc)
    finally:
        stopping.restore(previous)


if __name__ == "__main__":
    sys.exit(main())
