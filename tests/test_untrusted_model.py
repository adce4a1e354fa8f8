"""Untrusted .bci model files (issue 6 item 4): loading never executes code, mismatches and
tampering are refused in words.

A model file is something people e-mail each other. Every test builds a valid file with
``save_model`` and then edits it the way an attacker or a broken disk would.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from live_helpers import fitted_pipeline, simulated_replay

from acquisition.array_source import ArraySource
from acquisition.source import SourceInfo
from bci.errors import ModelFileError
from bci.live_session import LiveSession
from bci.model_file import (
    HEADER,
    array_sha256,
    check_stream_compatible,
    load_model,
    save_model,
    seal_header,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("acquisition", "bci", "models", "gui")


class Payload:
    """Unpickling this creates ``path``: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "good.bci"
    save_model(path, fitted_pipeline(), metrics={"train_accuracy": 1.0})
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rewrite(src: Path, dst: Path, *, replace=None, header=None, drop=(), seal=True) -> Path:
    """Copy a .bci with members replaced/dropped and the header edited by ``header(h)``.

    ``seal``: recompute the header's sha256 as an attacker who knows the format would, so
    the loader's other checks are what is tested.
    """
    content = members(src)
    for name in drop:
        content.pop(name)
    content.update(replace or {})
    if header is not None:
        h = json.loads(content[HEADER])
        header(h)
        content[HEADER] = json.dumps(seal_header(h) if seal else h).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    return dst


def weight_member(path: Path) -> str:
    """The largest float array member (the model's weights)."""
    content = members(path)
    return max((n for n in content if n.startswith("arrays/model/")), key=lambda n: len(content[n]))


def pickled_npy(marker: Path) -> bytes:
    buf = io.BytesIO()
    arr = np.empty(1, dtype=object)
    arr[0] = Payload(marker)
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def test_the_payload_really_runs_when_unpickled(tmp_path):
    # Guards the tests below: if this payload did nothing, their "marker absent" would prove
    # nothing.
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("declare_object", [False, True], ids=["header-unchanged", "header-says-O"])
def test_a_pickled_array_is_refused_and_never_run(model_file, tmp_path, declare_object):
    marker = tmp_path / "pwned"
    member = weight_member(model_file)
    key = member[len("arrays/") : -len(".npy")]

    def edit(h):
        if declare_object:
            h["arrays"][key]["dtype"] = "|O"
            h["arrays"][key]["shape"] = [1]

    evil = rewrite(
        model_file, tmp_path / "evil.bci", replace={member: pickled_npy(marker)}, header=edit
    )
    with pytest.raises(ModelFileError, match="pickle") as err:
        load_model(evil)
    assert str(evil) in str(err.value)
    assert not marker.exists()


def test_a_raw_pickle_member_is_refused_and_never_run(model_file, tmp_path):
    marker = tmp_path / "pwned"
    member = weight_member(model_file)
    evil = rewrite(
        model_file, tmp_path / "evil.bci", replace={member: pickle.dumps(Payload(marker))}
    )
    with pytest.raises(ModelFileError, match=re.escape(str(evil))):
        load_model(evil)
    assert not marker.exists()


def test_an_extra_pickled_member_is_refused_and_never_run(model_file, tmp_path):
    marker = tmp_path / "pwned"
    payload = pickled_npy(marker)

    def edit(h):
        h["arrays"]["evil"] = {"dtype": "|O", "shape": [1], "sha256": "0" * 64}

    for header in (None, edit):
        evil = rewrite(
            model_file, tmp_path / "evil.bci", replace={"arrays/evil.npy": payload}, header=header
        )
        with pytest.raises(ModelFileError):
            load_model(evil)
    assert not marker.exists()


def test_a_whole_pickle_instead_of_a_model_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.bci"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ModelFileError, match=r"not a \.bci model file"):
        load_model(evil)
    assert not marker.exists()


def _package_sources():
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _call_text(text: str, open_paren: int) -> str:
    """The text of a call from its opening parenthesis to the matching closing one."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren : i + 1]
    return text[open_paren:]


def test_no_pickle_anywhere_in_the_package():
    forbidden = re.compile(
        r"^\s*(import|from)\s+(pickle|cPickle|_pickle|dill|cloudpickle|joblib|shelve|marshal)\b"
        r"|allow_pickle\s*=\s*True|\bpickle\.loads?\(|torch\.load\(",
        re.M,
    )
    offenders = []
    np_load_without_flag = []
    files = list(_package_sources())
    assert len(files) > 20  # the glob found the package
    for path in files:
        text = path.read_text(encoding="utf-8")
        offenders += [
            f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in forbidden.finditer(text)
        ]
        for m in re.finditer(r"np\.load\(", text):
            call = _call_text(text, m.end() - 1)
            if "allow_pickle=False" not in call:
                np_load_without_flag.append(f"{path.relative_to(ROOT)}: {call}")
    assert offenders == []
    assert np_load_without_flag == []


def test_a_model_for_other_channels_or_another_rate_is_refused_in_words(model_file):
    pipeline = load_model(model_file)
    names = pipeline.ch_names
    cases = {
        "missing channels C3": SourceInfo(
            "s", tuple(n for n in names if n != "C3"), ("eeg",) * (len(names) - 1), 250.0
        ),
        "rate 500 Hz vs the model's 250 Hz": SourceInfo("s", names, ("eeg",) * len(names), 500.0),
        "extra: X1": SourceInfo("s", (*names, "X1"), ("eeg",) * (len(names) + 1), 250.0),
    }
    for what, info in cases.items():
        with pytest.raises(ModelFileError) as err:
            check_stream_compatible(pipeline, info)
        assert what in str(err.value)
        assert str(model_file) in str(err.value)
    # ...and the live session refuses such a stream before classifying anything.
    other = simulated_replay(2.0, ch_names=["C3", "Cz", "C4", "O1"])
    with pytest.raises(ModelFileError, match="missing channels"):
        LiveSession(ArraySource(other), pipeline)


def test_another_schema_version_is_refused_in_words(model_file, tmp_path):
    def edit(h):
        h["schema_version"] = 99

    newer = rewrite(model_file, tmp_path / "newer.bci", header=edit)
    with pytest.raises(ModelFileError, match="schema version 99") as err:
        load_model(newer)
    assert "schema version 2" in str(err.value) and "upgrade bci" in str(err.value)


def test_edited_weights_are_detected(model_file, tmp_path):
    member = weight_member(model_file)
    raw = members(model_file)[member]
    arr = np.load(io.BytesIO(raw), allow_pickle=False)
    edited = arr.copy()
    edited.flat[0] += 0.5
    buf = io.BytesIO()
    np.save(buf, edited, allow_pickle=False)
    tampered = rewrite(model_file, tmp_path / "tampered.bci", replace={member: buf.getvalue()})
    with pytest.raises(ModelFileError, match="sha256") as err:
        load_model(tampered)
    assert member[len("arrays/") : -len(".npy")] in str(err.value)
    # Control: the untouched file loads.
    assert load_model(model_file).classes_


def test_truncated_arrays_and_files_are_detected(model_file, tmp_path):
    member = weight_member(model_file)
    raw = members(model_file)[member]
    for keep in (len(raw) - 8, len(raw) // 2, 20, 0):
        cut = rewrite(model_file, tmp_path / f"cut{keep}.bci", replace={member: raw[:keep]})
        with pytest.raises(ModelFileError, match=re.escape(str(cut))):
            load_model(cut)
    dropped = rewrite(model_file, tmp_path / "dropped.bci", drop=[member])
    with pytest.raises(ModelFileError, match="missing from the file"):
        load_model(dropped)
    whole = model_file.read_bytes()
    for keep in (len(whole) - 1, len(whole) // 2, 100, 0):
        cut = tmp_path / f"file{keep}.bci"
        cut.write_bytes(whole[:keep])
        with pytest.raises(ModelFileError, match=re.escape(str(cut))):
            load_model(cut)


def test_header_lies_about_shapes_are_detected(model_file, tmp_path):
    member = weight_member(model_file)
    key = member[len("arrays/") : -len(".npy")]

    def edit(h):
        h["arrays"][key]["shape"] = [1, 1]

    lied = rewrite(model_file, tmp_path / "lied.bci", header=edit)
    with pytest.raises(ModelFileError, match="altered or truncated"):
        load_model(lied)


def test_consistent_but_wrong_state_is_refused_not_crashed(model_file, tmp_path):
    # An attacker who also fixes the sha256 gets past the integrity check: the shapes of
    # every step must still fit together (a dry run at load), else a ModelFileError.
    member = weight_member(model_file)
    key = member[len("arrays/") : -len(".npy")]
    arr = np.load(io.BytesIO(members(model_file)[member]), allow_pickle=False)
    wrong = np.zeros((arr.shape[0] + 3, *arr.shape[1:]), dtype=arr.dtype)
    buf = io.BytesIO()
    np.save(buf, wrong, allow_pickle=False)

    def edit(h):
        h["arrays"][key] = {
            "dtype": wrong.dtype.str,
            "shape": list(wrong.shape),
            "sha256": array_sha256(wrong),
        }

    forged = rewrite(
        model_file, tmp_path / "forged.bci", replace={member: buf.getvalue()}, header=edit
    )
    with pytest.raises(ModelFileError, match=re.escape(str(forged))):
        load_model(forged)
