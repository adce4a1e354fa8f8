"""One contract, checked on every estimator (in the style of pyRiemann's suite)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models import (
    ESTIMATORS,
    ModelError,
    NoProbabilityError,
    NotFittedError,
    estimator_from_state,
    make_estimator,
)

FAST = {
    "perceptron": {"max_iter": 20},
    "softmax": {"max_iter": 50},
    "mlp": {"hidden_sizes": (8,), "max_iter": 30},
}
KINDS = sorted(ESTIMATORS)


def data(n: int = 90, d: int = 6, seed: int = 0, labels=("left", "right", "feet")):
    rng = np.random.default_rng(seed)
    y_idx = np.arange(n) % len(labels)
    centers = rng.normal(scale=2.0, size=(len(labels), d))
    X = centers[y_idx] + rng.normal(size=(n, d))
    return X, np.asarray(labels)[y_idx]


def make(kind: str, **extra):
    return make_estimator(kind, **{**FAST[kind], **extra})


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    return request.param


def test_init_only_stores_and_get_params_round_trips(kind: str) -> None:
    est = make(kind)
    assert not hasattr(est, "classes_")
    params = est.get_params()
    assert params["random_state"] == 0
    assert type(est)(**params).get_params() == params
    est.set_params(random_state=3)
    assert est.get_params()["random_state"] == 3
    with pytest.raises(ModelError, match="no parameter 'bogus'"):
        est.set_params(bogus=1)


@pytest.mark.parametrize("labels", [("left", "right", "feet"), (3, 1, 2), ("a", "b")])
def test_shapes_labels_and_probabilities(kind: str, labels) -> None:
    X, y = data(labels=labels)
    est = make(kind).fit(X, y)
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    pred = est.predict(X)
    assert pred.shape == (90,) and set(pred.tolist()) <= set(y.tolist())
    assert est.score(X, y) > 0.8
    scores = est.decision_function(X)
    k = len(labels)
    assert scores.shape == ((90,) if k == 2 and kind == "perceptron" else (90, k))
    if kind == "perceptron":
        with pytest.raises(NoProbabilityError):
            est.predict_proba(X)
    else:
        proba = est.predict_proba(X)
        assert proba.shape == (90, k)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)
    assert len(est.loss_curve_) >= 1
    one = est.predict(X[:1])
    assert one.shape == (1,) and one[0] == pred[0]


def test_partial_fit(kind: str) -> None:
    X, y = data(n=120)
    est = make(kind)
    est.partial_fit(X[:30], y[:30], classes=["feet", "left", "right"])
    for _ in range(15):
        for start in range(0, 120, 30):
            est.partial_fit(X[start : start + 30], y[start : start + 30])
    assert est.score(X, y) > 0.8
    with pytest.raises(ModelError, match=r"not among the classes"):
        est.partial_fit(X[:3], ["left", "up", "left"])
    with pytest.raises(ModelError, match="features"):
        est.partial_fit(X[:3, :4], y[:3])
    first = make(kind).partial_fit(X[:10], y[:10], classes=["feet", "left", "right", "rest"])
    assert first.classes_.tolist() == ["feet", "left", "rest", "right"]  # sorted


def test_state_and_save_load_predict_exactly(kind: str, tmp_path) -> None:
    from models import load

    X, y = data()
    est = make(kind).fit(X, y)
    meta, arrays = est.to_state()
    json.dumps(meta)  # JSON-safe
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    restored = estimator_from_state(json.loads(json.dumps(meta)), arrays)
    np.testing.assert_array_equal(restored.decision_function(X), est.decision_function(X))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    path = tmp_path / f"{kind}.npz"
    est.save(path)
    loaded = load(path)
    assert type(loaded) is type(est)
    np.testing.assert_array_equal(loaded.decision_function(X), est.decision_function(X))
    np.testing.assert_array_equal(loaded.classes_, est.classes_)
    assert loaded.loss_curve_ == pytest.approx(est.loss_curve_)
    loaded.partial_fit(X, y)  # a loaded model can keep learning


def test_refit_is_independent_of_previous_fit(kind: str) -> None:
    X1, y1 = data(seed=1)
    X2, y2 = data(seed=2, labels=("a", "b"))
    est = make(kind).fit(X1, y1).fit(X2, y2)
    fresh = make(kind).fit(X2, y2)
    assert est.classes_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(est.decision_function(X2), fresh.decision_function(X2))


def test_clone_via_get_params_is_unfitted_and_reproduces(kind: str) -> None:
    X, y = data()
    est = make(kind).fit(X, y)
    clone = type(est)(**est.get_params())
    assert not hasattr(clone, "classes_")
    np.testing.assert_array_equal(clone.fit(X, y).decision_function(X), est.decision_function(X))


def test_float32_on_request(kind: str) -> None:
    X, y = data()
    est = make(kind, dtype="float32").fit(X, y)
    assert est.decision_function(X).dtype == np.float32
    assert est.score(X, y) > 0.8


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(6), [0, 1] * 3, "2-D"),
        (np.zeros((2, 3, 2)), [0, 1], "2-D"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), [0, 1], "non-finite"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), [0, 1], "non-finite"),
        (np.zeros((4, 2)), [0, 1, 0], "same length"),
        (np.zeros((4, 2)), ["a"] * 4, "single class"),
        ([["a", "b"], ["c", "d"]], [0, 1], "numeric"),
        (np.zeros((0, 3)), [], "empty"),
    ],
)
def test_clear_errors_on_bad_training_data(kind: str, X, y, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        make(kind).fit(X, y)


def test_clear_errors_at_predict(kind: str) -> None:
    X, y = data()
    with pytest.raises(NotFittedError, match="fit"):
        make(kind).predict(X)
    with pytest.raises(NotFittedError):
        make(kind).to_state()
    est = make(kind).fit(X, y)
    with pytest.raises(ModelError, match="6"):
        est.predict(X[:, :5])
    with pytest.raises(ModelError, match=r"reshape\(1, -1\)"):
        est.predict(X[0])
    with pytest.raises(ModelError, match="non-finite"):
        est.predict(np.full((1, 6), np.nan))


def test_deterministic_with_default_random_state(kind: str) -> None:
    X, y = data()
    a, b = make(kind).fit(X, y), make(kind).fit(X, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
