"""Tests of bci.paradigm: parsing, validation messages, round trips, built-in files."""

from __future__ import annotations

import re

import pytest

from bci.errors import ParadigmError
from bci.paradigm import (
    Paradigm,
    builtin_paradigm,
    builtin_paradigms,
    load_paradigm,
    normalize_marker,
)

GOOD = """
[classes]
left = "T1"
right = "T2"
[epochs]
tmin = 0.5
tmax = 2.5
[filter]
l_freq = 7.0
h_freq = 30.0
[features]
bands = [[8, 13], [13, 30]]
[model]
kind = "mlp"
hidden = [16]
[online]
window = 2.0
step = 0.1
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_issue_example_parses_with_defaults(tmp_path):
    p = load_paradigm(write(tmp_path, GOOD))
    assert p.classes == {"left": "T1", "right": "T2"}
    assert p.class_names == ("left", "right")
    assert (p.epochs.tmin, p.epochs.tmax) == (0.5, 2.5)
    assert p.features.bands == ((8.0, 13.0), (13.0, 30.0))
    assert p.model.kind == "mlp" and p.model.params == {"hidden": [16]}
    assert p.session.fixation == 2.0 and p.session.cue == 1.25 and p.session.imagery == 4.0
    assert (p.session.rest_min, p.session.rest_max, p.session.trials_per_class) == (1.5, 2.5, 20)
    assert p.filter.notch is None and p.filter.order == 4


def test_integer_markers_compare_as_strings(tmp_path):
    p = load_paradigm(write(tmp_path, '[classes]\na = 2\nb = "3"\n'))
    assert p.classes == {"a": "2", "b": "3"}
    assert normalize_marker("2.000000000000000") == "2"
    assert normalize_marker(2) == "2"
    assert normalize_marker("T1") == "T1"
    assert normalize_marker("2.5") == "2.5"


@pytest.mark.parametrize(
    ("snippet", "key", "expected"),
    [
        ('[epochs]\ntmax = "long"\n', "epochs.tmax", "a number"),
        ("[epochs]\ntmin = true\n", "epochs.tmin", "a number"),
        ("[filter]\norder = 2.5\n", "filter.order", "an integer"),
        ("[features]\nbands = [[8]]\n", "features.bands[0]", "pair"),
        ("[features]\nbands = 3\n", "features.bands", "array"),
        ('[model]\nkind = "svm"\n', "model.kind", "one of"),
        ("[online]\nwindow = -1\n", "online.window", "> 0"),
        ("[online]\nsmoothing = -0.5\n", "online.smoothing", "from 0 (off) to 60 seconds"),
        ("[online]\nsmoothing = 600\n", "online.smoothing", "from 0 (off) to 60 seconds"),
        ('[online]\nsmoothing = "fast"\n', "online.smoothing", "a number"),
        ('[session]\nkind = "p300"\n', "session.kind", "one of"),
        ("[features]\nlog = 3\n", "features.log", "a string"),
    ],
)
def test_wrong_types_name_file_key_and_expected_type(tmp_path, snippet, key, expected):
    path = write(tmp_path, '[classes]\nleft = "T1"\nright = "T2"\n' + snippet)
    with pytest.raises(ParadigmError) as err:
        load_paradigm(path)
    msg = str(err.value)
    assert str(path) in msg and key in msg and expected in msg


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ("[epochs]\ntmx = 2.0\n", "epochs.tmx"),
        ("[bogus]\nx = 1\n", "bogus"),
        ("[filter]\nlfreq = 1\n", "filter.lfreq"),
        ("[online]\nwindows = 2\n", "online.windows"),
    ],
)
def test_unknown_keys_are_named(tmp_path, snippet, key):
    path = write(tmp_path, '[classes]\nleft = "T1"\nright = "T2"\n' + snippet)
    with pytest.raises(ParadigmError, match=r"unknown key .*" + key.replace(".", r"\.")):
        load_paradigm(path)


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        ("[epochs]\ntmin = 2.0\ntmax = 1.0\n", "epochs.tmax"),
        ("[filter]\nl_freq = 30\nh_freq = 8\n", "filter.h_freq"),
        ("[features]\nwelch_segment = 3.0\n", "features.welch_segment"),
        ("[session]\nrest_min = 3\nrest_max = 1\n", "session.rest_max"),
        ("[session.frequencies]\nup = 12.0\n", "session.frequencies.up"),
        ('[features]\nmethod = "magic"\n', "features.method"),
    ],
)
def test_impossible_values_are_named(tmp_path, snippet, needle):
    path = write(tmp_path, '[classes]\nleft = "T1"\nright = "T2"\n' + snippet)
    with pytest.raises(ParadigmError, match=needle.replace(".", r"\.")):
        load_paradigm(path)


def test_classes_must_be_two_distinct_markers(tmp_path):
    with pytest.raises(ParadigmError, match="at least 2 classes"):
        load_paradigm(write(tmp_path, '[classes]\nleft = "T1"\n'))
    with pytest.raises(ParadigmError, match="share one marker"):
        load_paradigm(write(tmp_path, '[classes]\nleft = "1"\nright = 1\n'))
    with pytest.raises(ParadigmError, match=r"missing \[classes\]"):
        load_paradigm(write(tmp_path, "[epochs]\ntmin = 0\n"))


def test_nyquist_checked_when_rate_known(tmp_path):
    p = load_paradigm(write(tmp_path, GOOD.replace("[13, 30]", "[13, 70]")))
    p.check_sfreq(160.0)  # 70 < 80
    with pytest.raises(ParadigmError, match=r"features\.bands\[1\].*Nyquist"):
        p.check_sfreq(125.0)
    with pytest.raises(ParadigmError, match=r"filter\.h_freq"):
        load_paradigm(write(tmp_path, GOOD)).check_sfreq(50.0)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ParadigmError, match="not found"):
        load_paradigm(tmp_path / "nope.toml")
    with pytest.raises(ParadigmError, match="not valid TOML"):
        load_paradigm(write(tmp_path, "[classes\n"))


def test_to_dict_round_trips_and_filter_edges_can_be_off(tmp_path):
    text = GOOD.replace("l_freq = 7.0", "l_freq = 0").replace("h_freq = 30.0", "h_freq = false")
    p = load_paradigm(write(tmp_path, text))
    assert p.filter.l_freq is None and p.filter.h_freq is None
    assert Paradigm.from_dict(p.to_dict()) == p
    q = p.with_model("perceptron")
    assert q.model.kind == "perceptron" and q.model.params == {}


@pytest.mark.parametrize("name", builtin_paradigms())
def test_builtin_paradigms_load_and_round_trip(name):
    p = builtin_paradigm(name)
    assert Paradigm.from_dict(p.to_dict()) == p
    assert len(p.classes) >= 2


def test_builtin_set_and_unknown_name():
    assert {"motor_imagery_eegbci", "feet_fists_eegbci", "ssvep_exo", "bci4als", "demo"} <= set(
        builtin_paradigms()
    )
    assert builtin_paradigm("ssvep_exo").classes["f13"] == "2"
    with pytest.raises(ParadigmError, match="no built-in paradigm"):
        builtin_paradigm("nope")


def test_online_smoothing_defaults_to_off_and_round_trips(tmp_path) -> None:
    base = '[classes]\nleft = "T1"\nright = "T2"\n'
    assert load_paradigm(write(tmp_path, base)).online.smoothing == 0.0
    p = load_paradigm(write(tmp_path, base + "[online]\nsmoothing = 0.5\n"))
    assert p.online.smoothing == 0.5
    assert Paradigm.from_dict(p.to_dict()) == p
    assert "smoothing" not in load_paradigm(write(tmp_path, base)).to_dict()["online"]


def test_adaptation_defaults_to_none_and_round_trips(tmp_path):
    p = load_paradigm(write(tmp_path, GOOD))
    assert p.adaptation.method == "none" and not p.adaptation.supervised
    assert "adaptation" not in p.to_dict()  # older readers see the file they know
    text = GOOD + '[adaptation]\nmethod = "recentre"\nmemory = 60\nsupervised = true\n'
    q = load_paradigm(write(tmp_path, text))
    assert (q.adaptation.method, q.adaptation.memory, q.adaptation.supervised) == (
        "recentre",
        60.0,
        True,
    )
    assert q.adaptation.alpha(q.online.step) == pytest.approx(0.1 / 60.0)
    assert Paradigm.from_dict(q.to_dict()) == q
    assert p.with_adaptation("recentre").adaptation.method == "recentre"


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        ('method = "zanini"', "adaptation.method: expected one of 'none', 'recentre'"),
        ("method = 1", "adaptation.method: expected a string"),
        ('supervised = "yes"', "adaptation.supervised: expected true or false"),
        ("memory = 0.5", "adaptation.memory: expected seconds from 1 to 86400"),
        ("memory = 1e9", "adaptation.memory: expected seconds from 1 to 86400"),
        ('memory = "long"', "adaptation.memory: expected a number"),
        ("step = 0.1", "unknown key adaptation.step"),
    ],
)
def test_adaptation_is_validated(tmp_path, snippet, needle):
    with pytest.raises(ParadigmError, match=re.escape(needle)):
        load_paradigm(write(tmp_path, GOOD + "[adaptation]\n" + snippet + "\n"))
