"""Saving without pickle: .npz files of JSON metadata and plain arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models import MLP, ModelError, SoftmaxRegression, estimator_from_state, load


def fitted_mlp():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    return MLP(hidden_sizes=(5, 3), max_iter=5).fit(X, np.where(X[:, 0] > 0, "up", "down")), X


def test_file_holds_only_plain_arrays_and_json(tmp_path) -> None:
    est, X = fitted_mlp()
    path = tmp_path / "m.npz"
    est.save(path)
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        assert all(data[k].dtype != object for k in data.files)
        assert data["classes_"].tolist() == ["down", "up"]
    assert meta["kind"] == "mlp" and meta["params"]["hidden_sizes"] == [5, 3]
    loaded = load(path)
    assert loaded.hidden_sizes == (5, 3)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_integer_labels_keep_their_type(tmp_path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    est = SoftmaxRegression().fit(X, (X[:, 0] > 0).astype(int) + 7)
    est.save(tmp_path / "s.npz")
    loaded = load(tmp_path / "s.npz")
    assert loaded.classes_.dtype.kind == "i" and loaded.predict(X[:2]).tolist()[0] in (7, 8)


def test_load_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(ModelError, match=r"bad\.npz"):
        load(bad)
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ModelError, match="metadata"):
        load(tmp_path / "plain.npz")


def test_state_errors() -> None:
    est, _ = fitted_mlp()
    meta, arrays = est.to_state()
    with pytest.raises(ModelError, match="malformed"):
        estimator_from_state({"kind": "mlp"}, arrays)
    with pytest.raises(ModelError, match="unknown model kind"):
        estimator_from_state({**meta, "kind": "svm"}, arrays)
    with pytest.raises(ModelError, match="format_version"):
        estimator_from_state({**meta, "format_version": 99}, arrays)
