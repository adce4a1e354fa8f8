"""The simulated headset: determinism, continuity, pacing, and that the effects are real."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import signal

from acquisition.errors import AcquisitionError
from acquisition.simulator import (
    DEFAULT_CH_NAMES,
    CueFollower,
    SimulatedHeadset,
    graz_cues,
    simulate_recording,
)
from acquisition.source import Source


def _pull_all(head: SimulatedHeadset, total: int, chunk: int) -> np.ndarray:
    parts = []
    got = 0
    while got < total:
        data, _ = head.pull(min(chunk, total - got))
        parts.append(data)
        got += data.shape[1]
    return np.concatenate(parts, axis=1)


def test_default_montage_and_info():
    head = SimulatedHeadset(seed=0)
    assert isinstance(head, Source)
    names = head.info.ch_names
    assert 16 <= len(names) <= 32
    assert {"C3", "Cz", "C4", "O1", "Oz", "O2", "Pz", "FC3", "CP4"} <= set(names)
    assert set(head.info.ch_types) == {"eeg"}
    assert set(head.info.units) == {"V"}
    assert head.ended is False


def test_amplitudes_are_realistic_volts():
    rec = simulate_recording([], duration=20.0, seed=1)
    rms = rec.data.std(axis=1)
    assert np.all(rms > 5e-6) and np.all(rms < 60e-6)  # tens of microvolts


def test_same_seed_same_signal_different_seed_different():
    a = simulate_recording([(1.0, "left")], duration=4.0, seed=7)
    b = simulate_recording([(1.0, "left")], duration=4.0, seed=7)
    c = simulate_recording([(1.0, "left")], duration=4.0, seed=8)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, c.data)


@pytest.mark.parametrize("ssvep", [None, {"flicker": 15.0}])
def test_chunk_sizes_do_not_change_the_signal(ssvep):
    heads = [SimulatedHeadset(seed=5, ssvep_freqs=ssvep, line_noise=2e-6) for _ in range(3)]
    label = "flicker" if ssvep else "right"
    outs = []
    for head, chunk in zip(heads, (7, 100, 1), strict=True):
        first = _pull_all(head, 333, chunk)
        head.set_state(label)  # at sample 333 for all of them
        outs.append(np.concatenate([first, _pull_all(head, 500, chunk)], axis=1))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_offline_pull_sizes_timestamps_and_markers():
    head = SimulatedHeadset(seed=0, sfreq=200.0, chunk_size=20)
    data, ts = head.pull()
    assert data.shape == (head.info.n_channels, 20)
    np.testing.assert_allclose(ts, np.arange(20) / 200.0)
    assert head.pull(5)[0].shape[1] == 5
    head.set_state("left")
    assert head.pull_markers()[1] == []  # not pulled yet
    head.pull(1)
    stamps, labels = head.pull_markers()
    assert labels == ["left"]
    assert stamps[0] == pytest.approx(25 / 200.0)
    head.set_state(None)  # back to rest: no marker
    head.pull(3)
    assert head.pull_markers()[1] == []
    head.close()
    with pytest.raises(RuntimeError):
        head.pull()


def test_realtime_never_returns_more_than_elapsed():
    sfreq = 500.0
    with SimulatedHeadset(seed=0, sfreq=sfreq, realtime=True) as head:
        t_start = time.monotonic()
        total = 0
        deadline = t_start + 0.3
        while time.monotonic() < deadline:
            data, ts = head.pull()
            total += data.shape[1]
            elapsed = time.monotonic() - t_start
            assert total <= elapsed * sfreq + 1
            if data.shape[1]:
                assert ts[-1] <= time.monotonic() + 1e-9
        assert total > 0
        # chunked delivery: whole packets only
    with SimulatedHeadset(seed=0, sfreq=sfreq, realtime=True, chunk_size=10) as head:
        sizes = []
        deadline = time.monotonic() + 5
        while sum(sizes) < 50:
            assert time.monotonic() < deadline
            n = head.pull()[0].shape[1]
            if n:
                sizes.append(n)
        assert all(n % 10 == 0 for n in sizes)


def test_realtime_set_state_marks_the_current_wall_clock_sample():
    with SimulatedHeadset(seed=0, sfreq=1000.0, realtime=True) as head:
        head.pull()
        deadline = time.monotonic() + 5
        while head.position < 50:  # let some samples elapse and pull them
            assert time.monotonic() < deadline
            head.pull()
        head.set_state("feet")
        t_set = time.monotonic()
        got: list[str] = []
        while not got:
            assert time.monotonic() < deadline
            head.pull()
            stamps, got = head.pull_markers()
        assert got == ["feet"]
        assert abs(stamps[0] - t_set) < 0.05


def test_a_timed_cue_read_late_switches_at_its_own_sample_when_not_yet_generated():
    sfreq = 250.0
    # Reference: the whole recording generated offline, the cue exactly at sample 120.
    ref = simulate_recording([(120 / sfreq, "left")], duration=1.0, seed=4, sfreq=sfreq)
    head = SimulatedHeadset(seed=4, sfreq=sfreq)
    first, _ = head.pull(100)  # the player has already asked for samples up to 100...
    # ... when a cue stamped at sample 120 is read: it must switch there, not at 100.
    head.set_state("left", at=120 / sfreq)
    rest, times = head.pull(150)
    assert list(head.lateness) == [0]
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), ref.data[:, :250])
    stamps, labels = head.pull_markers()
    assert labels == ["left"] and stamps[0] == times[20]
    # Read after its sample was generated: the next sample, the lateness recorded.
    head.set_state("rest", at=200 / sfreq)
    assert list(head.lateness) == [0, 50]
    head.pull(10)
    stamps, labels = head.pull_markers()
    assert labels == ["rest"] and round(stamps[0] * sfreq) == 250
    # Untimed changes (set_state(label)) keep meaning "from the next sample".
    head.set_state("right")
    head.pull(1)
    assert round(head.pull_markers()[0][0] * sfreq) == 260
    assert len(head.lateness) == 2


def test_cue_follower_with_times_switches_at_each_cue():
    sfreq = 250.0
    ref = simulate_recording([(0.6, "right"), (1.4, "rest")], duration=2.0, seed=6, sfreq=sfreq)
    head = SimulatedHeadset(seed=6, sfreq=sfreq)
    follower = CueFollower(head, {"T2": "right"})
    first, _ = head.pull(100)
    # Markers read in one batch, long after the fixation, all before their samples.
    follower.follow(["fixation", "T2", "imagery", "rest"], times=[0.2, 0.6, 0.8, 1.4])
    data = np.concatenate([first, head.pull(400)[0]], axis=1)
    np.testing.assert_array_equal(data, ref.data)
    assert list(head.lateness) == [0, 0]
    with pytest.raises(AcquisitionError, match="2 markers but 1 times"):
        follower.follow(["T2", "rest"], times=[2.0])


def test_realtime_timed_cue_lands_on_its_sample_if_not_yet_pulled():
    sfreq = 1000.0
    with SimulatedHeadset(seed=0, sfreq=sfreq, realtime=True) as head:
        head.pull()
        deadline = time.monotonic() + 5
        while head.position < 50:
            assert time.monotonic() < deadline
            head.pull()
        # A cue stamped (headset clock) just after the last pulled sample: some samples
        # may have elapsed since, but none was generated, so it lands exactly there.
        at = head.start_time + (head.position + 3) / sfreq
        head.set_state("feet", at=at)
        got: list[str] = []
        while not got:
            assert time.monotonic() < deadline
            head.pull()
            stamps, got = head.pull_markers()
        assert got == ["feet"]
        assert abs(stamps[0] - at) < 0.5 / sfreq
        assert list(head.lateness) == [0]


def _epochs_logpower(rec, tmin=0.5, tmax=3.5, band=(8.0, 30.0)):
    fs = rec.sfreq
    feats, labels = [], []
    for s, lab in zip(rec.marker_samples, rec.marker_labels, strict=True):
        seg = rec.data[:, s + int(tmin * fs) : s + int(tmax * fs)]
        f, p = signal.welch(seg, fs, nperseg=int(fs))
        keep = (f >= band[0]) & (f <= band[1])
        feats.append(np.log(p[:, keep].mean(axis=1)))
        labels.append(lab)
    return np.array(feats), np.array(labels)


def _nearest_mean_cv_accuracy(X, y, folds=5, seed=0):
    idx = np.random.default_rng(seed).permutation(len(y))
    correct = 0
    for k in range(folds):
        test = idx[k::folds]
        train = np.setdiff1d(idx, test)
        classes = np.unique(y[train])
        means = np.array([X[train][y[train] == c].mean(axis=0) for c in classes])
        d = ((X[test][:, None, :] - means[None]) ** 2).sum(-1)
        correct += int((classes[d.argmin(axis=1)] == y[test]).sum())
    return correct / len(y)


@pytest.fixture(scope="module")
def left_right():
    cues, duration = graz_cues(["left", "right"], 20, seed=1)
    return {
        d: simulate_recording(cues, duration=duration, seed=3, difficulty=d, sfreq=160.0)
        for d in (0.3, 1.0)
    }


def test_class_effect_direction(left_right):
    X, y = _epochs_logpower(left_right[0.3])
    names = list(left_right[0.3].info.ch_names)
    c3, c4 = names.index("C3"), names.index("C4")
    # right-hand imagery desynchronises C3; left-hand imagery C4
    assert X[y == "right", c3].mean() < X[y == "left", c3].mean() - 0.3
    assert X[y == "left", c4].mean() < X[y == "right", c4].mean() - 0.3


def test_band_power_separates_left_right_at_default_difficulty(left_right):
    X, y = _epochs_logpower(left_right[0.3])
    assert _nearest_mean_cv_accuracy(X, y) >= 0.9


def test_difficulty_one_removes_the_effect(left_right):
    X, y = _epochs_logpower(left_right[1.0])
    names = list(left_right[1.0].info.ch_names)
    c3 = names.index("C3")
    assert abs(X[y == "right", c3].mean() - X[y == "left", c3].mean()) < 0.2
    assert _nearest_mean_cv_accuracy(X, y) < 0.8


def test_feet_desynchronises_cz():
    cues, duration = graz_cues(["feet", "rest"], 8, seed=2)
    X, y = _epochs_logpower(simulate_recording(cues, duration=duration, seed=4, difficulty=0.0))
    cz = list(DEFAULT_CH_NAMES).index("Cz")
    assert X[y == "feet", cz].mean() < X[y == "rest", cz].mean() - 0.3


def test_ssvep_peak_at_the_attended_frequency():
    rec = simulate_recording(
        [(1.0, "f13")], duration=11.0, seed=2, ssvep_freqs={"f13": 13.0, "f21": 21.0}
    )
    oz = list(rec.info.ch_names).index("Oz")
    seg = rec.data[oz, int(2 * rec.sfreq) :]
    f, p = signal.welch(seg, rec.sfreq, nperseg=int(4 * rec.sfreq))
    at = lambda hz: p[np.argmin(np.abs(f - hz))]  # noqa: E731
    neighbours = np.median(p[(f > 11) & (f < 16) & (np.abs(f - 13) > 0.6)])
    assert at(13.0) > 5 * neighbours
    assert at(26.0) > 2 * np.median(p[(f > 24) & (f < 29) & (np.abs(f - 26) > 0.6)])
    assert at(21.0) < 2 * np.median(p[(f > 19) & (f < 24) & (np.abs(f - 21) > 0.6)])


def test_posterior_alpha_is_stronger_at_the_back():
    rec = simulate_recording([], duration=20.0, seed=3)
    names = list(rec.info.ch_names)
    f, p = signal.welch(rec.data, rec.sfreq, nperseg=int(2 * rec.sfreq))
    alpha = p[:, (f >= 8.5) & (f <= 11.5)].mean(axis=1)
    assert alpha[names.index("Oz")] > 2 * alpha[names.index("Fz")]


def test_neighbours_correlate_more_than_distant_channels():
    rec = simulate_recording([], duration=20.0, seed=3)
    names = list(rec.info.ch_names)
    r = np.corrcoef(rec.data)
    assert r[names.index("C3"), names.index("C1")] > r[names.index("C3"), names.index("O2")] + 0.1


def test_sixty_four_channels_at_1000_hz():
    from acquisition.montage import standard_1020_positions

    names = list(standard_1020_positions())[:64]
    head = SimulatedHeadset(ch_names=names, sfreq=1000.0, seed=0)
    data, _ = head.pull(1000)
    assert data.shape == (64, 1000)
    assert np.all(np.isfinite(data))


def test_graz_cues_are_balanced_shuffled_and_timed():
    cues, duration = graz_cues(["left", "right", "feet"], 5, seed=0)
    labels = [lab for _, lab in cues if lab is not None]
    assert sorted(labels) == sorted(["left", "right", "feet"] * 5)
    assert labels != sorted(labels)
    onsets = [t for t, _ in cues]
    assert onsets == sorted(onsets)
    assert cues[0] == (2.0, cues[0][1])
    for (t_on, lab), (t_off, off) in zip(cues[::2], cues[1::2], strict=True):
        assert lab is not None and off is None
        assert t_off - t_on == pytest.approx(1.25 + 4.0)
    gaps = [b[0] - a[0] for a, b in zip(cues[1::2], cues[2::2], strict=False)]
    assert all(1.5 + 2.0 - 1e-9 <= g <= 2.5 + 2.0 + 1e-9 for g in gaps)
    assert duration > onsets[-1]
    assert graz_cues(["left", "right", "feet"], 5, seed=0) == (cues, duration)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"difficulty": 1.5}, "difficulty"),
        ({"ch_names": ["C3", "XX9"]}, "XX9"),
        ({"sfreq": 0}, "sfreq"),
        ({"ssvep_freqs": {"a": 200.0}, "sfreq": 250.0}, "Nyquist"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(AcquisitionError, match=match):
        SimulatedHeadset(**kwargs)


def test_bad_cues_are_clear_errors():
    with pytest.raises(AcquisitionError, match="outside"):
        simulate_recording([(50.0, "left")], duration=10.0)
    with pytest.raises(AcquisitionError, match="cue 0"):
        simulate_recording(["left"], duration=10.0)  # type: ignore[list-item]
    with pytest.raises(AcquisitionError, match="trials_per_class"):
        graz_cues(["left"], 0)
