"""The ``bci`` command line: discovers the subcommands in :mod:`bci.commands`."""

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
from acquisition.errors import AcquisitionError
from bci import __version__
from bci.errors import BCIError
from models.errors import ModelError

#: Errors that come from what the user gave us: printed as one line, exit code 2.
USER_ERRORS = (
    BCIError,
    AcquisitionError,
    ModelError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)

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
    for mod in sorted(pkgutil.iter_modules(bci.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bci.commands.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bci`` with ``argv`` and return the exit code (0 ok, 2 user error, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except USER_ERRORS as exc:
        print(f"bci {args.command}: error: {exc}", file=sys.stderr)
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
    except KeyboardInterrupt:
        print(f"bci {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
