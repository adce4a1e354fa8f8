"""The perceptron's properties: Novikoff's mistake bound (1962), the update rules of
Rosenblatt (1958) and Collins (2002), averaging (Freund & Schapire 1999) and stopping."""

from __future__ import annotations

import numpy as np
import pytest

from models import ModelError, NoProbabilityError, Perceptron


def separable_with_margin(n: int, d: int, margin: float, seed: int):
    """Points in the unit ball with |w* . x| >= margin for a unit w*, labelled by sign."""
    rng = np.random.default_rng(seed)
    w_star = rng.normal(size=d)
    w_star /= np.linalg.norm(w_star)
    X = rng.uniform(-1, 1, size=(4 * n, d))
    X /= np.maximum(1.0, np.linalg.norm(X, axis=1, keepdims=True))
    X = X[np.abs(X @ w_star) >= margin][:n]
    return X, np.where(X @ w_star > 0, 1, -1)


@pytest.mark.parametrize("seed", range(3))
def test_zero_mistakes_within_the_mistake_bound(seed: int) -> None:
    margin = 0.1
    X, y = separable_with_margin(400, 5, margin, seed)
    clf = Perceptron(max_iter=1000, random_state=seed).fit(X, y)
    # The bias is a constant feature 1, so f(x) = [x, 1] and R = max ||f(x)||; the separator
    # [w*, 0] keeps unit norm and the same margin on f(x).
    R = np.sqrt(np.max(np.sum(X**2, axis=1)) + 1.0)
    bound = (R / margin) ** 2
    assert clf.mistakes_[-1] == 0, "training stops after an epoch without mistakes"
    assert sum(clf.mistakes_) <= bound
    assert clf.score(X, y) == 1.0
    assert clf.n_iter_ == len(clf.mistakes_) < 1000


def test_binary_update_is_w_plus_y_f() -> None:
    # One epoch, no shuffling: w = 0 predicts +1 (w.f >= 0) on x1 (label +1): correct.
    # x2 = [1, 0] (label -1) is then a mistake: w = 0 + (-1) * [1, 0, 1] = [-1, 0, -1].
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    clf = Perceptron(max_iter=1, shuffle=False).fit(X, [1, -1])
    np.testing.assert_array_equal(clf.coef_, [[-1.0, 0.0]])
    np.testing.assert_array_equal(clf.intercept_, [-1.0])
    assert clf.mistakes_ == [1]


def test_multiclass_update_lowers_wrong_raises_right() -> None:
    # All weights 0: argmax picks class 0 ("a"); the sample is "c", so w_a -= f, w_c += f.
    clf = Perceptron(max_iter=1, shuffle=False).partial_fit(
        np.array([[2.0, 3.0]]), ["c"], classes=["a", "b", "c"]
    )
    np.testing.assert_array_equal(clf.coef_, [[-2.0, -3.0], [0.0, 0.0], [2.0, 3.0]])
    np.testing.assert_array_equal(clf.intercept_, [-1.0, 0.0, 1.0])
    assert clf.predict(np.array([[2.0, 3.0]]))[0] == "c"


def test_multiclass_separable_learns_perfectly() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0], [0.0, -4.0]])
    y = rng.integers(0, 4, 300)
    X = centers[y] + rng.uniform(-1, 1, size=(300, 2))
    clf = Perceptron(max_iter=200).fit(X, y)
    assert clf.mistakes_[-1] == 0
    assert clf.score(X, y) == 1.0
    assert clf.decision_function(X).shape == (300, 4)


def test_averaged_is_at_least_as_good_as_plain_on_noisy_data() -> None:
    plain, averaged = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        w = rng.normal(size=10)
        X = rng.normal(size=(1400, 10))
        y = np.where(X @ w + rng.normal(scale=2.0, size=1400) > 0, 1, 0)  # 20-30% label noise
        Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
        plain.append(Perceptron(max_iter=20, random_state=seed).fit(Xtr, ytr).score(Xte, yte))
        averaged.append(
            Perceptron(max_iter=20, average=True, random_state=seed).fit(Xtr, ytr).score(Xte, yte)
        )
    assert np.mean(averaged) >= np.mean(plain)
    assert np.mean(averaged) > 0.7


def test_noisy_data_runs_max_iter_and_records_mistakes() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = rng.integers(0, 2, 100)
    clf = Perceptron(max_iter=7, tol=None).fit(X, y)
    assert clf.n_iter_ == 7 and len(clf.mistakes_) == 7 and all(m > 0 for m in clf.mistakes_)
    np.testing.assert_allclose(clf.loss_curve_, np.array(clf.mistakes_) / 100)


def test_predict_proba_is_not_defined() -> None:
    X = np.array([[0.0], [1.0]])
    clf = Perceptron().fit(X, [0, 1])
    with pytest.raises(NoProbabilityError, match="decision_function"):
        clf.predict_proba(X)
    assert issubclass(NoProbabilityError, ModelError)


def test_invalid_parameters_are_named() -> None:
    for params, name in [
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ]:
        with pytest.raises(ModelError, match=name):
            Perceptron(**params).fit(np.eye(2), [0, 1])


def plain_perceptron(X, y_idx, n_classes, orders, average):
    """The textbook loop, one sample at a time, with the average taken literally: the
    mean of the weight vectors w_0 = 0, w_1, ..., w_T left by the T steps (Daume III's
    algorithm 7 computes the same mean lazily)."""
    F = np.hstack([X, np.ones((X.shape[0], 1))])
    W = np.zeros((1 if n_classes == 2 else n_classes, F.shape[1]))
    total, steps, mistakes, losses = np.zeros_like(W), 0, [], []
    for order in orders:
        wrong, loss = 0, 0.0
        for i in order:
            f, y = F[i], int(y_idx[i])
            if n_classes == 2:
                s = float(W[0] @ f)
                if (s >= 0.0) != (y == 1):
                    W[0] += f if y == 1 else -f
                    wrong, loss = wrong + 1, loss + abs(s)
            else:
                scores = W @ f
                guess = int(np.argmax(scores))
                if guess != y:
                    loss += float(scores[guess] - scores[y])
                    W[guess] -= f
                    W[y] += f
                    wrong += 1
            total += W
            steps += 1
        mistakes.append(wrong)
        losses.append(loss / len(order))
    return (total / (steps + 1) if average else W), mistakes, losses


#: Module settings that force each exact scan (see models/perceptron.py). The Gram scan
#: gets its blocks' Gram matrices either as products of the epoch's rows or gathered
#: from the samples' Gram matrix, by the number of features.
SCANS = {
    "sequential": {"_BLOCK_BELOW_ERROR_RATE": -1.0, "_GRAM_MAX_SIZE": -1},
    "gram products": {
        "_BLOCK_BELOW_ERROR_RATE": -1.0,
        "_GRAM_MAX_SIZE": 10**9,
        "_GRAM_PRODUCTS_MAX_FEATURES": 10**9,
    },
    "gram gathered": {
        "_BLOCK_BELOW_ERROR_RATE": -1.0,
        "_GRAM_MAX_SIZE": 10**9,
        "_GRAM_PRODUCTS_MAX_FEATURES": 0,
    },
    "blocks": {"_BLOCK_BELOW_ERROR_RATE": 1.0, "_GRAM_MAX_SIZE": -1},  # from epoch 2
}


def force_scan(monkeypatch, scan: str) -> list:
    """Apply SCANS[scan]; return a list that records how each GramScan got its Gram
    matrices ("gathered" or "products"), so a test can check the path it meant to take."""
    from models import mistake_scan
    from models import perceptron as module

    for name, value in SCANS[scan].items():
        monkeypatch.setattr(module, name, value)
    made = []

    class Recorded(mistake_scan.GramScan):
        def __init__(self, F, y_idx, gram, n_rows, block):
            made.append("products" if gram is None else "gathered")
            super().__init__(F, y_idx, gram, n_rows, block)

    monkeypatch.setattr(module, "GramScan", Recorded)
    return made


@pytest.mark.parametrize("scan", sorted(SCANS))
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("average", [False, True])
def test_every_scan_makes_exactly_the_plain_loops_updates(monkeypatch, scan, n_classes, average):
    # The scans are optimisations of the same visit: every mistake, every loss and so
    # every weight must be those of the one-sample-at-a-time perceptron, shuffled.
    from models import perceptron as module

    made = force_scan(monkeypatch, scan)
    monkeypatch.setattr(module, "_GRAM_BLOCK", 64)  # 203 samples: 4 blocks, a padded last
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 0.3, (n_classes, 12))
    y = rng.integers(0, n_classes, 203)
    X = centres[y] + rng.normal(0, 1.0, (203, 12))  # overlapping: mistakes in every epoch
    clf = Perceptron(max_iter=10, tol=None, average=average, random_state=0).fit(X, y)
    order_rng = np.random.default_rng(0)
    orders = [order_rng.permutation(203) for _ in range(10)]
    W, mistakes, losses = plain_perceptron(X, y, n_classes, orders, average)
    assert clf.mistakes_ == mistakes
    assert min(mistakes) > 20  # the noisy case the Gram scan is for
    np.testing.assert_allclose(clf.losses_, losses, rtol=1e-12)
    np.testing.assert_allclose(clf.coef_, W[:, :-1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(clf.intercept_, W[:, -1], rtol=0, atol=1e-9)
    assert made == ([scan.split()[1]] if scan.startswith("gram") else [])


@pytest.mark.parametrize("scan", ["gram products", "gram gathered"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_gram_scan_breaks_ties_as_the_plain_loop(monkeypatch, scan, n_classes):
    # Small integer features: scores are exact, so many are tied (all zero at the start,
    # and often later); argmax takes the first class, and a binary score of 0 is +1.
    # 120 samples in blocks of 10 (12 blocks, none padded); 125 pads the last block.
    from models import perceptron as module

    made = force_scan(monkeypatch, scan)
    monkeypatch.setattr(module, "_GRAM_BLOCK", 10)
    rng = np.random.default_rng(5)
    for n in (120, 125):
        X = rng.integers(-2, 3, (n, 3)).astype(float)
        y = rng.integers(0, n_classes, n)
        clf = Perceptron(max_iter=6, tol=None, shuffle=False).fit(X, y)
        W, mistakes, losses = plain_perceptron(X, y, n_classes, [np.arange(n)] * 6, False)
        assert clf.mistakes_ == mistakes
        assert min(mistakes) > 10
        np.testing.assert_array_equal(clf.coef_, W[:, :-1])
        np.testing.assert_array_equal(clf.intercept_, W[:, -1])
        np.testing.assert_array_equal(clf.losses_, losses)
    assert made == [scan.split()[1]] * 2


@pytest.mark.parametrize("scan", ["gram products", "gram gathered"])
def test_gram_scan_averages_and_partial_fits_as_the_plain_loop(monkeypatch, scan):
    # Integer data (exact arithmetic), averaging on, three partial_fit epochs: the lazy
    # average from the Gram scan's update matrix is the literal mean of the weights.
    made = force_scan(monkeypatch, scan)
    rng = np.random.default_rng(8)
    X = rng.integers(-3, 4, (90, 5)).astype(float)
    y = rng.integers(0, 3, 90)
    clf = Perceptron(average=True, shuffle=False)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    W, mistakes, _ = plain_perceptron(X, y, 3, [np.arange(90)] * 3, True)
    assert clf.mistakes_ == mistakes and min(mistakes) > 10
    np.testing.assert_allclose(clf.coef_, W[:, :-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, W[:, -1], rtol=0, atol=1e-12)
    assert made == [scan.split()[1]] * 3


@pytest.mark.parametrize("n_classes", [2, 3])
def test_tol_stops_like_scikit_learn(n_classes: int) -> None:
    # The rule of sklearn's SGD loop: count epochs whose mean loss is not below the best
    # so far minus tol, reset on an improvement, stop at n_iter_no_change.
    rng = np.random.default_rng(4)
    centres = rng.normal(0, 0.7, (n_classes, 6))
    y = rng.integers(0, n_classes, 300)
    X = centres[y] + rng.normal(size=(300, 6))  # overlapping: never error-free
    clf = Perceptron(max_iter=200, tol=1e-2, n_iter_no_change=3).fit(X, y)
    full = Perceptron(max_iter=clf.n_iter_, tol=None).fit(X, y)
    assert full.losses_ == pytest.approx(clf.losses_)  # the same epochs up to the stop
    best, since, stop_at = np.inf, 0, None
    for epoch, loss in enumerate(clf.losses_):
        since = since + 1 if loss > best - 1e-2 else 0
        best = min(best, loss)
        if since >= 3:
            stop_at = epoch + 1
            break
    assert stop_at == clf.n_iter_ < 200
    # Losses are mean perceptron losses: positive on noisy data, zero only without mistakes.
    assert all(v > 0 for v in clf.losses_)
    assert Perceptron(max_iter=30, tol=None).fit(X, y).n_iter_ == 30


def test_loss_is_the_perceptron_loss_at_the_visited_weights() -> None:
    # One epoch, no shuffle, from w = 0: x1 = [0, 1] (+1) is correct (w.f = 0 >= 0, loss 0);
    # x2 = [1, 0] (-1): w.f = 0 >= 0, a mistake with loss max(0, -(-1) * 0) = 0, w becomes
    # [-1, 0, -1]; x3 = [2, 0] (+1): w.f = -2 - 1 = -3, loss 3. Mean: 3 / 3 = 1.
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]])
    clf = Perceptron(max_iter=1, shuffle=False).fit(X, [1, -1, 1])
    assert clf.mistakes_ == [2]
    assert clf.losses_ == [pytest.approx(1.0)]
