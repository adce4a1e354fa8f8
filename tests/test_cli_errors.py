"""The CLI's error mapping (issue 15 item 2): user and resource errors are one line, exit 2.

``MemoryError``, ``RecursionError`` and the parsers' own errors (TOML, JSON, zip, XML,
UnicodeDecodeError) become one line and exit 2; any other exception is a bug in our code
and keeps its traceback. The errors are raised from inside a real command (``bci info``)
by replacing the one function that reads the file, so ``main`` is exercised end to end.
"""

from __future__ import annotations

import json
import tomllib
import zipfile

import pytest

from acquisition import file_source
from bci import cli


def _raise(exc: BaseException):
    def load(*args, **kwargs):
        raise exc

    return load


def _parser_error(kind: str) -> BaseException:
    if kind == "toml":
        try:
            tomllib.loads("a = [")
        except tomllib.TOMLDecodeError as exc:
            return exc
    if kind == "json":
        try:
            json.loads("{")
        except json.JSONDecodeError as exc:
            return exc
    if kind == "unicode":
        return UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    return zipfile.BadZipFile("File is not a zip file")


@pytest.mark.parametrize(
    ("exc", "needle"),
    [
        (MemoryError(), "out of memory"),
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (_parser_error("toml"), "malformed input (TOMLDecodeError"),
        (_parser_error("json"), "malformed input (JSONDecodeError"),
        (_parser_error("unicode"), "malformed input (UnicodeDecodeError"),
        (_parser_error("zip"), "malformed input (BadZipFile"),
    ],
)
def test_resource_and_parser_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys, exc, needle):
    (tmp_path / "r.edf").write_bytes(b"0" * 256)
    monkeypatch.setattr(file_source, "load_recording", _raise(exc))
    assert cli.main(["info", str(tmp_path / "r.edf")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("bci info: error: ")
    assert needle in err


@pytest.mark.parametrize("exc", [ZeroDivisionError("bug"), KeyError("bug"), ValueError("bug")])
def test_a_bug_in_our_code_keeps_its_traceback(tmp_path, monkeypatch, exc):
    (tmp_path / "r.edf").write_bytes(b"0" * 256)
    monkeypatch.setattr(file_source, "load_recording", _raise(exc))
    with pytest.raises(type(exc)):
        cli.main(["info", str(tmp_path / "r.edf")])
