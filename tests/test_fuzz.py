"""Property-based fuzzing of the two parsers of untrusted input (issue 6 item 3).

- The paradigm parser, fed random dicts shaped like (and unlike) a paradigm and random
  TOML-ish texts: the only exception allowed is ``ParadigmError``.
- The model-file loader, fed a valid ``.bci`` with random byte flips, truncations and
  member edits: the only exception allowed is ``ModelFileError``, and no code ever runs.

- Both again over *sizes* (rates, lengths, layer sizes, array shapes, nesting depths from
  tiny to absurd): refused with the one error, or accepted with every derived buffer under
  the bounds of :mod:`acquisition.limits`, and never more than a few hundred MB of memory.

Reproducible: the "ci" hypothesis profile (tests/conftest.py) derandomizes every example.
A long randomised search: ``pytest tests/test_fuzz.py --hypothesis-profile=long --timeout=0``
(``BCI_HYPOTHESIS_EXAMPLES=N`` examples per test).
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from live_helpers import fitted_pipeline, short_paradigm

from bci.errors import ModelFileError, ParadigmError
from bci.model_file import load_model, save_model
from bci.paradigm import Paradigm, load_paradigm

# The loaded profile (tests/conftest.py: "ci" derandomized by default, "long" on demand)
# decides how many examples and whether they are random.
SETTINGS = settings()
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


def test_a_central_directory_asking_for_an_unknown_zip_version_is_a_model_file_error(
    model_bytes, tmp_path
):
    # Found by the long profile: one flipped byte made the zip reader raise
    # NotImplementedError("zip file version 8.4") from inside zipfile.
    raw = bytearray(model_bytes)
    entry = raw.index(b"PK\x01\x02")  # the first central-directory record
    raw[entry + 6] = 84  # its "version needed to extract": 8.4
    path = tmp_path / "m.bci"
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=r"not a readable zip archive: zip file version 8\.4"):
        load_model(path)


def test_a_member_flagged_encrypted_is_a_model_file_error(model_bytes, tmp_path):
    # Found by the long profile: one flipped flag bit made zipfile raise RuntimeError
    # ("password required") on reading the header.
    raw = bytearray(model_bytes)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        entry = raw.index(signature)  # the first local and central records: header.json
        raw[entry + flags_at] |= 0x01  # general-purpose flag bit 0: encrypted
    path = tmp_path / "m.bci"
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="unreadable"):
        load_model(path)


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


# ------------------------------------------------------------------------ fuzzing sizes

#: Sizes from tiny to absurd: what a clumsy user or an attacker writes.
sizes = st.one_of(
    st.sampled_from([0, 1, 2, 64, 4096, 4097, 10**5, 10**6, 10**9, 10**12, -1, -(10**7)]),
    st.floats(min_value=-1e13, max_value=1e13, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**13), 10**13),
)
SIZE_KEYS = [
    ("epochs", "tmin"),
    ("epochs", "tmax"),
    ("online", "window"),
    ("online", "step"),
    ("features", "welch_segment"),
    ("features", "csp_components"),
    ("model", "hidden_sizes"),
    ("filter", "order"),
]


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@st.composite
def sized_paradigms(draw):
    """The valid paradigm with sizes replaced by anything from 0 to 1e13, or deep nesting."""
    d = {t: dict(v) if isinstance(v, dict) else v for t, v in VALID.items()}
    d["features"] = {**d["features"], "method": draw(st.sampled_from(["bandpower", "csp"]))}
    for _ in range(draw(st.integers(1, 4))):
        table, key = draw(st.sampled_from(SIZE_KEYS))
        value = draw(sizes)
        if key == "hidden_sizes":
            d["model"] = {"kind": "mlp"}
            value = draw(st.lists(sizes, max_size=12))
        if key in ("csp_components", "order") and isinstance(value, float):
            value = int(value) if abs(value) < 1e15 and value == value else value
        d.setdefault(table, {})[key] = value
    if draw(st.booleans()):
        n = draw(st.sampled_from([1, 8, 40, 200, 5000]))
        d["features"]["bands"] = (
            [[8, 13]] * draw(st.sampled_from([1, 64, 65, 1000])) if n == 1 else _nested(n)
        )
    return d


@SETTINGS
@given(
    sized_paradigms(),
    st.sampled_from([0.05, 1.0, 160.0, 1e5, 1e9]),
    st.sampled_from([1, 8, 64, 1025]),
)
def test_paradigm_sizes_are_bounded_before_allocation(d, sfreq, n_channels):
    from acquisition import limits
    from bci.errors import BCIError
    from bci.pipeline import Pipeline

    try:
        p = Paradigm.from_dict(d)
    except ParadigmError as exc:
        assert str(exc)
        return
    assert -300 <= p.epochs.tmin < p.epochs.tmax <= 300
    assert p.online.step <= p.online.window <= p.epochs.length
    for size in p.model.params.get("hidden_sizes", []):
        assert 1 <= size <= 4096
    before = _peak_rss_mb()
    try:
        pipe = Pipeline(p, [f"ch{i}" for i in range(n_channels)], sfreq)
    except BCIError as exc:  # ParadigmError for the bounds, BCIError for other mismatches
        assert str(exc)
        return
    assert 0.1 <= pipe.sfreq <= 1e5 and pipe.n_channels <= 1024
    assert pipe.window_samples * pipe.n_channels <= limits.MAX_BUFFER_VALUES
    assert pipe.epoch_samples * pipe.n_channels <= limits.MAX_BUFFER_VALUES
    assert _peak_rss_mb() - before < 300


#: Header fields a hostile model file may set, and where they live.
HEADER_SIZES = [
    ("sfreq",),
    ("paradigm", "online", "window"),
    ("paradigm", "online", "step"),
    ("paradigm", "epochs", "tmin"),
    ("paradigm", "epochs", "tmax"),
    ("paradigm", "features", "csp_components"),
]


@SETTINGS
@given(data=st.data())
def test_model_loader_sizes_raise_only_model_file_error(model_bytes, tmp_path_factory, data):
    """Resealed headers (an attacker knows the format) with hostile sizes, shapes, depths."""
    import json

    import numpy as np

    from bci.model_file import seal_header

    members = _zip_members(model_bytes)
    header = json.loads(members["header.json"])
    how = data.draw(st.sampled_from(["field", "shape", "npy-shape", "depth", "extra-array"]))
    if how == "field":
        path = data.draw(st.sampled_from(HEADER_SIZES))
        target = header
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = data.draw(sizes)
    elif how == "shape":
        key = data.draw(st.sampled_from(sorted(header["arrays"])))
        header["arrays"][key]["shape"] = data.draw(st.lists(sizes, max_size=6))
    elif how == "npy-shape":
        # The member's own .npy header declares another shape over the same bytes.
        key = data.draw(st.sampled_from(sorted(header["arrays"])))
        name = f"arrays/{key}.npy"
        shape = tuple(abs(int(v)) for v in data.draw(st.lists(st.integers(0, 10**12), max_size=4)))
        arr = np.load(io.BytesIO(members[name]))
        head = {"descr": arr.dtype.str, "fortran_order": False, "shape": shape}
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, head)
        members[name] = (
            buf.getvalue() + members[name][-arr.nbytes :] if arr.nbytes else buf.getvalue()
        )
        if data.draw(st.booleans()):
            header["arrays"][key]["shape"] = list(shape)
    elif how == "depth":
        header["metrics"] = {"x": _nested(data.draw(st.sampled_from([33, 1000, 200_000])))}
    else:
        n = data.draw(st.integers(1, 3))
        for i in range(n):
            key = f"model/extra{i}"
            header["arrays"][key] = {
                "dtype": "<f8",
                "shape": [data.draw(st.integers(0, 2**27))],
                "sha256": "0",
            }
            members[f"arrays/{key}.npy"] = b""
    try:
        members["header.json"] = json.dumps(seal_header(header)).encode()
    except (RecursionError, ValueError):
        members["header.json"] = ("{" + '"a":[' * 200_000 + "]" * 200_000 + "}").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, c in members.items():
            zf.writestr(n, c)
    path = tmp_path_factory.mktemp("sizes") / "m.bci"
    path.write_bytes(buf.getvalue())
    before = _peak_rss_mb()
    try:
        load_model(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
    assert _peak_rss_mb() - before < 300
