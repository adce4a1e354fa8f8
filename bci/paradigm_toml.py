"""A paradigm written back as TOML text, so it can travel to another process as plain text.

The standard library reads TOML but does not write it; paradigms hold only strings,
numbers, booleans, arrays of those and tables, which is all this writer handles.
``load(dumps(p))`` equals ``p`` for every valid paradigm ``p`` (a test checks it).
"""

from __future__ import annotations

import json
import math
import re
import tomllib

from bci.errors import ParadigmError
from bci.paradigm import Paradigm

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def paradigm_to_toml(paradigm: Paradigm) -> str:
    """Return TOML text that :func:`paradigm_from_toml` turns back into an equal paradigm."""
    return dumps(paradigm.to_dict())


def paradigm_from_toml(text: str, source: str = "<paradigm text>") -> Paradigm:
    """Parse and validate paradigm TOML text (the same rules as a paradigm file)."""
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParadigmError(f"{source}: not valid TOML ({exc})") from None
    return Paradigm.from_dict(d, source=source)


def dumps(table: dict) -> str:
    """TOML text of a dict of scalars, arrays and nested tables.

    ``None`` becomes ``false``: the paradigm's optional frequencies read ``false`` as
    "none", and TOML has no null.
    """
    lines: list[str] = []
    _table(table, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(table: dict, path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for k, v in scalars.items():
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in tables.items():
        _table(v, [*path, str(k)], lines)


def _key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else _string(text)


def _string(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also needs DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v: object) -> str:
    if v is None or v is False:
        return "false"
    if v is True:
        return "true"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise ParadigmError(f"cannot write {v!r} ({type(v).__name__}) as TOML")
