"""Property-based fuzzing of the two parsers of untrusted input (issue 6 item 3).

- The paradigm parser, fed random dicts shaped like (and unlike) a paradigm and random
  TOML-ish texts: the only exception allowed is ``ParadigmError``.
- The model-file loader, fed a valid ``.bci`` with random byte flips, truncations and
  member edits: the only exception allowed is ``ModelFileError``, and no code ever runs.

Bounded (``max_examples``, no deadline) so the file runs in well under 30 s.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_helpers import fitted_pipeline, short_paradigm

from bci.errors import ModelFileError, ParadigmError
from bci.model_file import load_model, save_model
from bci.paradigm import Paradigm, load_paradigm

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
VALID = short_paradigm().to_dict()
TABLES = [*VALID, "modle", "classes.left"]
KEYS = sorted({k for t in VALID.values() if isinstance(t, dict) for k in t} | {"tmn", "", "ß"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def paradigm_dicts(draw):
    """A valid paradigm with random tables/keys replaced, added or removed."""
    d = {t: dict(v) if isinstance(v, dict) else v for t, v in VALID.items()}
    for _ in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from(TABLES))
        action = draw(st.sampled_from(["set", "drop", "replace-table"]))
        if action == "drop":
            d.pop(table, None)
        elif action == "replace-table":
            d[table] = draw(values)
        else:
            if not isinstance(d.get(table), dict):
                d[table] = {}
            d[table][draw(st.sampled_from(KEYS))] = draw(values)
    return d


@SETTINGS
@given(paradigm_dicts())
def test_paradigm_from_dict_raises_only_paradigm_error(d):
    try:
        p = Paradigm.from_dict(d)
    except ParadigmError as exc:
        assert str(exc)
        return
    # Accepted: it must survive its own round trip.
    assert Paradigm.from_dict(p.to_dict()) == p


toml_lines = st.one_of(
    st.sampled_from(
        ["[classes]", "[epochs]", "[model]", "[online]", "[filter]", "[features]", "[x]"]
    ),
    st.builds(
        lambda k, v: f"{k} = {v}",
        st.sampled_from([*KEYS, "left", "right"]),
        st.sampled_from(
            [
                '"a"',
                "1",
                "-1",
                "0.5",
                "1e400",
                "nan",
                "inf",
                "[1, 2]",
                "[[8, 13]]",
                "true",
                "{}",
                '"',
            ]
        ),
    ),
    st.text(max_size=20),
)


@SETTINGS
@given(st.lists(toml_lines, max_size=12))
def test_paradigm_file_raises_only_paradigm_error(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        load_paradigm(path)
    except ParadigmError as exc:
        assert str(path) in str(exc)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("m") / "good.bci"
    save_model(path, fitted_pipeline())
    return path.read_bytes()


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@SETTINGS
@given(data=st.data())
def test_model_loader_raises_only_model_file_error(model_bytes, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    marker = folder / "ran"
    how = data.draw(st.sampled_from(["flip", "truncate", "member"]))
    raw = bytearray(model_bytes)
    if how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
        blob = bytes(raw)
    elif how == "truncate":
        blob = bytes(raw[: data.draw(st.integers(0, len(raw) - 1))])
    else:
        # Valid zip, one member edited inside (flipped or cut), stored uncompressed.
        members = _zip_members(model_bytes)
        name = data.draw(st.sampled_from(sorted(members)))
        content = bytearray(members[name])
        if content and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(content) - 1))
            content[i] ^= data.draw(st.integers(1, 255))
        else:
            content = content[: data.draw(st.integers(0, max(len(content) - 1, 0)))]
        members[name] = bytes(content)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for n, c in members.items():
                zf.writestr(n, c)
        blob = buf.getvalue()
    path = folder / "m.bci"
    path.write_bytes(blob)
    cwd = os.getcwd()
    try:
        os.chdir(folder)  # anything a payload might write lands here
        load_model(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in Path(folder).iterdir()) == ["m.bci"]
    assert not marker.exists()
