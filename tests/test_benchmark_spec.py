"""The benchmark file parser and the paradigm's TOML writer: files on disk, real errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bci.benchmark_spec import apply_overrides, load_benchmark_spec
from bci.errors import ParadigmError
from bci.paradigm import Paradigm, builtin_paradigm, builtin_paradigms
from bci.paradigm_toml import paradigm_from_toml, paradigm_to_toml

GOOD = """
[dataset]
name = "toy"
subjects = "data/sub*"
[evaluation]
cv = 3
seed = 11
group_by = "recording"
[[pipelines]]
name = "fb"
paradigm = "ssvep_exo"
[[pipelines]]
name = "bp-mlp"
paradigm = "ssvep_exo"
overrides = { features.method = "bandpower", model.kind = "mlp", epochs.tmax = 4.5 }
"""


@pytest.fixture
def folders(tmp_path):
    for name in ("sub-b", "sub-a", "sub-[x]"):
        d = tmp_path / "data" / name
        d.mkdir(parents=True)
        (d / "run1_raw.fif").write_bytes(b"x")
        (d / "run1-eve.fif").write_bytes(b"x")  # an events file: not a recording
        (d / "notes.txt").write_text("not a recording")
    (tmp_path / "data" / "sub-file").write_text("a file, not a subject folder")
    return tmp_path


def _spec(folders, text):
    path = folders / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return load_benchmark_spec(path)


def test_a_full_spec_resolves_subjects_pipelines_and_overrides(folders):
    spec = _spec(folders, GOOD)
    assert spec.dataset == "toy"
    assert [s.name for s in spec.subjects] == ["sub-[x]", "sub-a", "sub-b"]
    for s in spec.subjects:
        assert [p.rsplit("/", 1)[1] for p in s.recordings] == ["run1_raw.fif"]
    assert (spec.cv, spec.seed, spec.group_by, spec.pseudo_online) == (3, 11, "recording", False)
    fb, bp = spec.pipelines
    assert fb.paradigm == builtin_paradigm("ssvep_exo")
    assert bp.paradigm.features.method == "bandpower"
    assert bp.paradigm.model.kind == "mlp"
    assert bp.paradigm.epochs.tmax == 4.5
    # everything not overridden stays as in the base paradigm
    assert bp.paradigm.classes == fb.paradigm.classes
    assert bp.paradigm.features.bands == fb.paradigm.features.bands


def test_pattern_and_recordings_with_a_subject_regex(folders):
    spec = _spec(
        folders,
        GOOD.replace('subjects = "data/sub*"', 'subjects = "data/sub-a"\npattern = "*.txt"'),
    )
    assert [p.rsplit("/", 1)[1] for p in spec.subjects[0].recordings] == ["notes.txt"]
    text = GOOD.replace(
        'subjects = "data/sub*"',
        'recordings = ["data/sub-a/*.fif", "data/sub-b/run1_raw.fif"]\nsubject = "sub-(\\\\w)"',
    )
    spec = _spec(folders, text)
    assert [(s.name, len(s.recordings)) for s in spec.subjects] == [("a", 2), ("b", 1)]


@pytest.mark.parametrize(
    "edit, message",
    [
        (("cv = 3", "folds = 3"), "unknown key evaluation.folds"),
        (('name = "toy"', 'nme = "toy"'), "unknown key dataset.nme"),
        (("cv = 3", 'cv = "3"'), "evaluation.cv: expected an integer, got '3' (string)"),
        (("cv = 3", "cv = 1"), "evaluation.cv: expected an integer >= 2"),
        (("seed = 11", "seed = 1.5"), "evaluation.seed: expected an integer"),
        (('group_by = "recording"', 'group_by = "subject"'), "evaluation.group_by: expected one"),
        (("[evaluation]", "[evaluation]\npseudo_online = 1"), "evaluation.pseudo_online"),
        (('name = "fb"', 'name = "fb"\noverride = {}'), "unknown key pipelines[0].override"),
        (('name = "fb"', 'name = "bp-mlp"'), "name 'bp-mlp' is used twice"),
        (('paradigm = "ssvep_exo"\n[[', 'paradigm = "nope"\n[['), "pipelines[0].paradigm = 'nope'"),
        (("features.method =", "features.methd ="), "unknown key features.methd"),
        (('model.kind = "mlp"', 'model.kind = "svm"'), "model.kind: expected one of"),
        (("epochs.tmax = 4.5", "epochs = 4.5"), "epochs: expected a table, got 4.5"),
        (('subjects = "data/sub*"', 'subjects = "data/none*"'), "dataset.subjects = 'data/none*'"),
        (('subjects = "data/sub*"', "subjects = 3"), "dataset.subjects: expected a string"),
        (("[evaluation]", "[extra]\n[evaluation]"), "unknown key extra"),
    ],
)
def test_unknown_keys_and_wrong_types_name_the_key(folders, edit, message):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ParadigmError) as err:
        _spec(folders, GOOD.replace(old, new, 1))
    assert message in str(err.value)
    assert "bench.toml" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_tables_and_both_subject_forms_are_explained(folders):
    with pytest.raises(ParadigmError, match=r"missing \[dataset\]"):
        _spec(folders, "[[pipelines]]\nname='a'\nparadigm='demo'\n")
    with pytest.raises(ParadigmError, match=r"missing \[\[pipelines\]\]"):
        _spec(folders, '[dataset]\nsubjects = "data/sub*"\n')
    with pytest.raises(ParadigmError, match="not both"):
        _spec(folders, GOOD.replace('name = "toy"', 'recordings = ["x.edf"]'))
    with pytest.raises(ParadigmError, match="not valid TOML"):
        _spec(folders, "[dataset\n")
    with pytest.raises(ParadigmError, match="benchmark file not found"):
        load_benchmark_spec(folders / "absent.toml")


def test_a_paradigm_file_path_is_relative_to_the_spec(folders):
    (folders / "mine.toml").write_text(
        paradigm_to_toml(builtin_paradigm("demo")).replace('kind = "softmax"', 'kind = "mlp"')
    )
    spec = _spec(folders, GOOD.replace('paradigm = "ssvep_exo"', 'paradigm = "mine.toml"', 1))
    assert spec.pipelines[0].paradigm.model.kind == "mlp"
    assert spec.pipelines[0].paradigm.classes == builtin_paradigm("demo").classes


@pytest.mark.parametrize("name", builtin_paradigms())
def test_every_builtin_paradigm_survives_toml_text(name):
    p = builtin_paradigm(name)
    assert paradigm_from_toml(paradigm_to_toml(p)) == p
    q = apply_overrides(p, {"filter": {"l_freq": None, "notch": 50.0}, "model": {"lr": 1e-5}}, "x")
    back = paradigm_from_toml(paradigm_to_toml(q))
    assert back == q
    assert back.filter.l_freq is None and back.model.params["lr"] == 1e-5


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    text=st.text(max_size=40),
    marker=st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and s.strip() != "x"),
    tmax=st.floats(2.6, 300.0, allow_nan=False),  # the epoch bound of acquisition.limits
)
def test_any_text_and_number_survives_toml_text(text, marker, tmax):
    p = Paradigm.from_dict(
        {
            "name": text,
            "description": text[::-1],
            "classes": {text or "a": "x", "b": marker},
            "epochs": {"tmax": tmax},
        }
    )
    assert paradigm_from_toml(paradigm_to_toml(p)) == p
