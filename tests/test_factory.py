"""make_estimator: estimators by name, with errors that list the valid choices."""

from __future__ import annotations

import pytest

from models import MLP, ModelError, Perceptron, SoftmaxRegression, make_estimator


def test_kinds_map_to_classes_and_params_pass_through() -> None:
    assert isinstance(make_estimator("perceptron", average=True), Perceptron)
    assert make_estimator("softmax", l2=0.5).l2 == 0.5
    mlp = make_estimator("mlp", hidden_sizes=(32, 16), activation="tanh")
    assert isinstance(mlp, MLP) and mlp.hidden_sizes == (32, 16)
    assert isinstance(make_estimator("softmax"), SoftmaxRegression)


def test_unknown_kind_lists_valid_kinds() -> None:
    with pytest.raises(ModelError, match=r"'svm'.*\['mlp', 'perceptron', 'softmax'\]"):
        make_estimator("svm")


def test_unknown_parameter_is_named_with_valid_ones() -> None:
    with pytest.raises(ModelError, match=r"\['hidden'\].*'mlp'.*hidden_sizes"):
        make_estimator("mlp", hidden=(3,))


def test_invalid_value_is_caught_at_construction() -> None:
    with pytest.raises(ModelError, match="activation"):
        make_estimator("mlp", activation="gelu")
