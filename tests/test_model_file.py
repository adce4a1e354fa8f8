"""Tests of bci.model_file: round trip, refusal of tampered/pickled/other-schema files, streams."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from bci_synthetic import CH, SFREQ, make_recording, paradigm

from acquisition.source import SourceInfo
from bci.errors import ModelFileError
from bci.model_file import (
    SCHEMA_VERSION,
    check_stream_compatible,
    load_model,
    read_header,
    save_model,
    seal_header,
)
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline


@pytest.fixture(scope="module")
def fitted():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm("csp+bandpower", csp_components=2), rec).fit(rec)
    return pipe, rec


def rewrite(src, dst, *, header=None, members=None):
    """Copy a .bci zip, replacing the header dict and/or member bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "header.json" and header is not None:
                # Resealed, as an attacker who knows the format would: the other checks act.
                data = json.dumps(seal_header(header(json.loads(data)))).encode()
            if members and name in members:
                data = members[name](data)
                if data is None:
                    continue
            zout.writestr(name, data)
    return dst


def test_round_trip_predicts_identically(fitted, tmp_path):
    pipe, rec = fitted
    path = save_model(tmp_path / "m.bci", pipe, metrics={"train_accuracy": np.float64(0.9)})
    loaded = load_model(path)
    E, _, _ = pipe.epochs_from_recording(rec)
    assert np.array_equal(loaded.predict_proba_epochs(E), pipe.predict_proba_epochs(E))
    assert loaded.classes_ == pipe.classes_ and loaded.ch_names == pipe.ch_names
    assert loaded.metrics_ == {"train_accuracy": 0.9}
    assert loaded.training_hash_ == pipe.training_hash_
    header = read_header(path)
    assert header["schema_version"] == SCHEMA_VERSION
    assert header["paradigm"] == pipe.paradigm.to_dict()
    assert {"filter/sos", "steps/0/filters", "scaler/mean"} <= set(header["arrays"])
    assert all(len(spec["sha256"]) == 64 for spec in header["arrays"].values())


def test_other_schema_version_is_refused_saying_which(fitted, tmp_path):
    path = save_model(tmp_path / "m.bci", fitted[0])
    bad = rewrite(path, tmp_path / "v9.bci", header=lambda h: {**h, "schema_version": 9})
    with pytest.raises(
        ModelFileError, match=r"v9\.bci: model schema version 9.*reads schema version 2"
    ):
        load_model(bad)


def _unsealed_schema_1(src, dst):
    """Rewrite a file as an earlier bci wrote it: schema 1, no header seal."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "header.json":
                h = json.loads(data)
                h.pop("header_sha256")
                data = json.dumps({**h, "schema_version": 1}).encode()
            zout.writestr(name, data)
    return dst


def test_a_model_from_an_earlier_version_still_loads_and_predicts_the_same(fitted, tmp_path):
    pipe, rec = fitted
    old = _unsealed_schema_1(save_model(tmp_path / "m.bci", pipe), tmp_path / "old.bci")
    E, _, _ = pipe.epochs_from_recording(rec)
    assert np.array_equal(load_model(old).predict_proba_epochs(E), pipe.predict_proba_epochs(E))


def test_an_unsealed_file_keeps_every_other_check(fitted, tmp_path):
    old = _unsealed_schema_1(save_model(tmp_path / "m.bci", fitted[0]), tmp_path / "old.bci")
    with zipfile.ZipFile(old) as z:
        h = json.loads(z.read("header.json"))
    h["sfreq"] = 1e9
    bad = tmp_path / "bad.bci"
    with zipfile.ZipFile(old) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = json.dumps(h).encode() if name == "header.json" else zin.read(name)
            zout.writestr(name, data)
    with pytest.raises(ModelFileError, match="sfreq"):
        load_model(bad)


def test_edited_weights_are_detected(fitted, tmp_path):
    path = save_model(tmp_path / "m.bci", fitted[0])

    def edit(data):
        arr = np.load(io.BytesIO(data))
        buf = io.BytesIO()
        np.save(buf, arr * 1.01)
        return buf.getvalue()

    bad = rewrite(path, tmp_path / "edited.bci", members={"arrays/scaler/mean.npy": edit})
    with pytest.raises(
        ModelFileError, match=r"edited\.bci: array scaler/mean does not match its sha256"
    ):
        load_model(bad)


def test_truncated_array_and_truncated_file_are_detected(fitted, tmp_path):
    path = save_model(tmp_path / "m.bci", fitted[0])
    bad = rewrite(
        path, tmp_path / "trunc.bci", members={"arrays/steps/0/filters.npy": lambda d: d[:-16]}
    )
    with pytest.raises(ModelFileError, match=r"trunc\.bci: array steps/0/filters"):
        load_model(bad)
    raw = path.read_bytes()
    cut = tmp_path / "cut.bci"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match=r"cut\.bci"):
        load_model(cut)
    gone = rewrite(path, tmp_path / "gone.bci", members={"arrays/scaler/scale.npy": lambda d: None})
    with pytest.raises(ModelFileError, match="listed but missing"):
        load_model(gone)


def test_pickle_payloads_are_refused(fitted, tmp_path):
    path = save_model(tmp_path / "m.bci", fitted[0])

    def objects(_):
        buf = io.BytesIO()
        np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        return buf.getvalue()

    bad = rewrite(path, tmp_path / "obj.bci", members={"arrays/scaler/mean.npy": objects})
    with pytest.raises(ModelFileError, match="pickled Python objects; refused"):
        load_model(bad)
    raw_pickle = tmp_path / "pickle.bci"
    raw_pickle.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError, match=r"not a \.bci model file"):
        load_model(raw_pickle)


def test_missing_and_unlisted(fitted, tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "none.bci")
    path = save_model(tmp_path / "m.bci", fitted[0])
    extra = tmp_path / "extra.bci"
    rewrite(path, extra)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("arrays/evil.npy", b"x")
    with pytest.raises(ModelFileError, match=r"not listed in the header: arrays/evil\.npy"):
        load_model(extra)


def test_stream_compatibility(fitted):
    pipe = fitted[0]
    same = SourceInfo("eeg", CH, ("eeg",) * 4, SFREQ)
    assert check_stream_compatible(pipe, same).tolist() == [0, 1, 2, 3]
    shuffled = SourceInfo("eeg", tuple(reversed(CH)), ("eeg",) * 4, SFREQ)
    index = check_stream_compatible(pipe, shuffled)
    assert [shuffled.ch_names[i] for i in index] == list(CH)
    with pytest.raises(ModelFileError, match=r"rate 500 Hz vs the model's 250 Hz"):
        check_stream_compatible(pipe, SourceInfo("eeg", CH, ("eeg",) * 4, 500.0))
    other = SourceInfo("eeg", ("C3", "Cz", "Pz"), ("eeg",) * 3, SFREQ)
    with pytest.raises(
        ModelFileError, match=r"missing channels C4, Oz; 3 channels vs the model's 4"
    ):
        check_stream_compatible(pipe, other)


def test_bound_input_reorders_pushed_rows(fitted):
    pipe, rec = fitted
    shuffled = SourceInfo("eeg", tuple(reversed(CH)), ("eeg",) * 4, SFREQ)
    pipe.reset_online()
    ref = pipe.push_windows(rec.data[:, :1000], rec.times[:1000])
    pipe.reset_online()
    pipe.bind_input(check_stream_compatible(pipe, shuffled))
    got = pipe.push_windows(rec.data[::-1, :1000], rec.times[:1000])
    pipe.bind_input(None)
    assert len(got) == len(ref) > 0
    assert np.array_equal(np.stack([w for _, w in got]), np.stack([w for _, w in ref]))


def test_adaptation_reference_round_trips_and_old_files_load(fitted, tmp_path):
    d = paradigm("tangent_space").to_dict()
    d["adaptation"] = {"method": "recentre", "memory": 10.0, "supervised": True}
    recs = [make_recording(0), make_recording(1)]
    pipe = Pipeline.for_recording(Paradigm.from_dict(d), recs[0])
    E, y, info = pipe.epochs_from_recordings(recs)
    pipe.fit_epochs(E, y, info["groups"])
    path = save_model(tmp_path / "adapt.bci", pipe)
    header = read_header(path)
    assert "adaptation/reference" in header["arrays"]
    loaded = load_model(path)
    assert loaded.adapter is not None and loaded.adapter.supervised
    W, _ = pipe.windows_from_recording(recs[1])
    W = np.ascontiguousarray(W[:40])
    pipe.start_session()
    # The online path starts at the stored training reference: the same probabilities.
    np.testing.assert_allclose(
        loaded.predict_proba_windows(W), pipe.predict_proba_windows(W), rtol=1e-10, atol=1e-12
    )

    # The reference is required when the paradigm asks for re-centring.
    def drop(h):
        h.pop("adaptation")
        h["arrays"].pop("adaptation/reference")
        return h

    members = {"arrays/adaptation/reference.npy": lambda data: None}
    with pytest.raises(ModelFileError, match="no training reference"):
        load_model(rewrite(path, tmp_path / "noref.bci", header=drop, members=members))
    # A file written before [adaptation] existed: no table, no entry; it loads as before.
    old, _ = fitted
    plain = save_model(tmp_path / "old.bci", old)
    assert "adaptation" not in read_header(plain)
    assert "adaptation" not in read_header(plain)["paradigm"]
    assert load_model(plain).adapter is None
