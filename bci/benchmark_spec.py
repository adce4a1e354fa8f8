"""The benchmark file: which subjects, which pipelines, how to cross-validate them.

::

    [dataset]
    name = "ssvep-exo"
    subjects = "data/ssvep-exo/subject*"   # one folder per subject, recordings inside
    pattern = "*_raw.fif"                  # optional: which files of a folder to read
    # or: recordings = ["a.edf", "b/*.edf"] with subject = "regex" naming each one's subject
    [evaluation]
    cv = 5
    seed = 42
    group_by = "none"                      # or recording / session / run
    pseudo_online = false                  # also score sliding windows (slower)
    [[pipelines]]
    name = "fb-riemann-softmax"
    paradigm = "ssvep_exo"                 # built-in name or path
    [[pipelines]]
    name = "bandpower-mlp"
    paradigm = "ssvep_exo"
    overrides = { features.method = "bandpower", model.kind = "mlp" }

Paths and globs are relative to the benchmark file's folder. The same parser rules as
paradigm files apply (the same reader): unknown keys, wrong types and impossible values
raise :class:`~bci.errors.ParadigmError` naming the file and the key; an override is
merged into the paradigm and the result validated as a paradigm, so
``overrides.features.methd`` is reported as an unknown key of ``features``.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from bci.errors import ParadigmError
from bci.evaluation import GROUP_BY
from bci.paradigm import (
    Paradigm,
    _Reader,
    _tname,
    builtin_paradigm,
    builtin_paradigms,
    read_toml_file,
)

#: Bounds on what a benchmark file may ask for, checked before anything is built.
MAX_SUBJECTS = 10_000
MAX_PIPELINES = 200
MAX_RECORDINGS_PER_SUBJECT = 1_000
MAX_FOLDS = 1_000

#: Endings of MNE events files, which sit beside FIF recordings and are not recordings.
EVENTS_FILE_ENDINGS = ("-eve.fif", "_eve.fif", "-eve.fif.gz", "_eve.fif.gz", ".eve")


@dataclass(frozen=True)
class Subject:
    """One subject: its name (the folder name, or the regex match) and its recordings."""

    name: str
    recordings: tuple[str, ...]
    folder: str = ""


@dataclass(frozen=True)
class PipelineSpec:
    """One pipeline: its name and the paradigm with its overrides applied."""

    name: str
    paradigm: Paradigm


@dataclass(frozen=True)
class BenchmarkSpec:
    """A parsed benchmark file; build it with :func:`load_benchmark_spec`."""

    dataset: str
    subjects: tuple[Subject, ...]
    pipelines: tuple[PipelineSpec, ...]
    cv: int = 5
    seed: int = 42
    group_by: str | None = None
    pseudo_online: bool = False
    source: str = "<spec>"


def load_benchmark_spec(path: str | Path) -> BenchmarkSpec:
    """Read, validate and resolve a benchmark file (subjects found, paradigms loaded).

    Raises
    ------
    ParadigmError
        The file is missing or not TOML; a key is unknown or of the wrong type; no subject
        folder matches; a pipeline's paradigm or override is invalid. The message names
        the file and the key.
    """
    p = Path(path)
    d = read_toml_file(p, "benchmark file")
    return parse_benchmark_spec(d, source=str(p), base=p.resolve().parent)


def parse_benchmark_spec(d: object, *, source: str, base: str | Path) -> BenchmarkSpec:
    """Validate a benchmark dict (shaped like the file); relative paths start at ``base``."""
    base = Path(base)
    top = _Reader(d, "", source)
    if "dataset" not in top.table:
        raise ParadigmError(f'{source}: missing [dataset] table; add subjects = "FOLDER/*"')
    if "pipelines" not in top.table:
        raise ParadigmError(
            f'{source}: missing [[pipelines]]; add one with name = "..." and paradigm = "..."'
        )
    ds = _Reader(top.table_of("dataset"), "dataset", source)
    name = ds.string("name", "")
    subjects = _subjects(ds, base)
    ds.finish()

    ev = _Reader(top.table_of("evaluation"), "evaluation", source)
    cv = ev.integer("cv", 5, minimum=2)
    if cv > MAX_FOLDS:
        raise ev.fail("cv", f"an integer from 2 to {MAX_FOLDS}", cv)
    seed = ev.integer("seed", 42, minimum=0)
    # One task is one subject, so folds by subject cannot exist inside a task.
    within_subject = tuple(g for g in GROUP_BY if g != "subject")
    group_by = ev.string("group_by", "none", choices=("none", *within_subject))
    pseudo = _boolean(ev, "pseudo_online", False)
    ev.finish()

    raw = top.get("pipelines", [])
    if not isinstance(raw, list) or not raw:
        raise top.fail("pipelines", "an array of tables ([[pipelines]] sections)", raw)
    if len(raw) > MAX_PIPELINES:
        raise ParadigmError(
            f"{source}: {len(raw)} pipelines; at most {MAX_PIPELINES} in one benchmark"
        )
    pipelines = [_pipeline(item, i, source, base) for i, item in enumerate(raw)]
    names = [pl.name for pl in pipelines]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParadigmError(f"{source}: pipelines: name {dup[0]!r} is used twice; rename one")
    top.finish()
    return BenchmarkSpec(
        dataset=name,
        subjects=tuple(subjects),
        pipelines=tuple(pipelines),
        cv=cv,
        seed=seed,
        group_by=None if group_by == "none" else group_by,
        pseudo_online=pseudo,
        source=source,
    )


def apply_overrides(paradigm: Paradigm, overrides: dict, source: str) -> Paradigm:
    """Merge ``overrides`` (nested tables, like the paradigm file) into ``paradigm``.

    A table merges key by key; any other value replaces the paradigm's. The merged dict
    is validated as a paradigm whose source is ``source``, so an unknown key or a wrong
    type is reported against the override.
    """
    merged = _merge(paradigm.to_dict(), overrides, source, "")
    return Paradigm.from_dict(merged, source=source)


# --------------------------------------------------------------------------- helpers


def _boolean(reader: _Reader, name: str, default: bool) -> bool:
    value = reader.get(name, default)
    if not isinstance(value, bool):
        raise reader.fail(name, "true or false", value)
    return value


def _merge(base: dict, over: dict, source: str, prefix: str) -> dict:
    out = dict(base)
    for key, value in over.items():
        where = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(out.get(key), dict):
            if not isinstance(value, dict):
                raise ParadigmError(
                    f"{source}: {where}: expected a table, got {value!r} ({_tname(value)})"
                )
            out[key] = _merge(out[key], value, source, where)
        else:
            out[key] = value
    return out


def _pipeline(item: object, i: int, source: str, base: Path) -> PipelineSpec:
    r = _Reader(item, f"pipelines[{i}]", source)
    name = r.string("name", "")
    if not name.strip():
        raise r.fail("name", 'a non-empty name, e.g. "fb-riemann-softmax"', name)
    ref = r.string("paradigm", "")
    if not ref:
        raise r.fail("paradigm", f"a paradigm file or one of {', '.join(builtin_paradigms())}", ref)
    overrides = r.table_of("overrides")
    r.finish()
    paradigm = _resolve_paradigm(ref, base, source, r.key("paradigm"))
    if overrides:
        paradigm = apply_overrides(paradigm, overrides, f"{source}: {r.key('overrides')}")
    return PipelineSpec(name=name, paradigm=paradigm)


def _resolve_paradigm(ref: str, base: Path, source: str, key: str) -> Paradigm:
    from bci.paradigm import load_paradigm

    path = Path(ref) if Path(ref).is_absolute() else base / ref
    if path.is_file():
        return load_paradigm(path)
    stem = ref[:-5] if ref.endswith(".toml") else ref
    if stem in builtin_paradigms():
        return builtin_paradigm(stem)
    raise ParadigmError(
        f"{source}: {key} = {ref!r}: no such file (looked for {path}) and no built-in paradigm "
        f"of that name; built-ins: {', '.join(builtin_paradigms())}"
    )


def _under(folder: Path, pattern: str) -> str:
    """A glob of ``pattern`` inside ``folder``, whose own name may hold ``[`` or ``*``."""
    if Path(pattern).is_absolute():
        return pattern
    return str(Path(glob.escape(str(folder))) / pattern)


def _is_recording(path: Path) -> bool:
    from acquisition.file_source import SUPPORTED_FORMATS

    name = path.name.lower()
    if any(name.endswith(e) for e in EVENTS_FILE_ENDINGS):
        return False
    return path.is_file() and any(name.endswith(e) for e in SUPPORTED_FORMATS)


def _subjects(ds: _Reader, base: Path) -> list[Subject]:
    has_folders = "subjects" in ds.table
    has_files = "recordings" in ds.table
    if has_folders == has_files:
        raise ParadigmError(
            f'{ds.source}: dataset: give either subjects = "FOLDER/*" (one folder per '
            'subject) or recordings = [...] with subject = "REGEX", not '
            + ("both" if has_folders else "neither")
        )
    if has_folders:
        pattern = ds.string("subjects", "")
        inner = ds.string("pattern", "")
        found = sorted(glob.glob(_under(base, pattern)))
        folders = [Path(f) for f in found if Path(f).is_dir()]
        if not folders:
            raise ParadigmError(
                f"{ds.source}: dataset.subjects = {pattern!r}: no folder matches "
                f"{base / pattern}; check the path (it is relative to the benchmark file)"
            )
        if len(folders) > MAX_SUBJECTS:
            raise ds.fail("subjects", f"at most {MAX_SUBJECTS} subject folders", pattern)
        subjects = []
        for folder in folders:
            if inner:
                files = sorted(Path(f) for f in glob.glob(_under(folder, inner)))
                files = [f for f in files if f.is_file()]
            else:
                files = sorted(f for f in folder.iterdir() if _is_recording(f))
            if len(files) > MAX_RECORDINGS_PER_SUBJECT:
                raise ParadigmError(
                    f"{ds.source}: dataset.subjects: {folder} holds {len(files)} recordings; "
                    f"at most {MAX_RECORDINGS_PER_SUBJECT} a subject (set dataset.pattern)"
                )
            subjects.append(Subject(folder.name, tuple(str(f) for f in files), str(folder)))
        return subjects

    raw = ds.get("recordings", [])
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise ds.fail("recordings", "a non-empty array of paths or globs", raw)
    regex_text = ds.string("subject", "")
    if not regex_text:
        raise ParadigmError(
            f'{ds.source}: dataset.recordings needs dataset.subject = "REGEX" to name each '
            r'recording\'s subject, e.g. subject = "S(\\d+)"'
        )
    try:
        regex = re.compile(regex_text)
    except re.error as exc:
        raise ds.fail("subject", f"a regular expression ({exc})", regex_text) from None
    files: list[Path] = []
    for entry in raw:
        matched = sorted(glob.glob(_under(base, entry)))
        if not matched:
            raise ParadigmError(
                f"{ds.source}: dataset.recordings: {entry!r} matches no file under {base}"
            )
        files.extend(Path(m) for m in matched if Path(m).is_file())
    groups: dict[str, list[str]] = {}
    for f in dict.fromkeys(files):
        m = regex.search(str(f))
        if m is None:
            raise ParadigmError(
                f"{ds.source}: dataset.subject = {regex_text!r} does not match the recording "
                f"{f}; every recording needs a subject"
            )
        groups.setdefault(m.group(1) if m.groups() else m.group(0), []).append(str(f))
    if len(groups) > MAX_SUBJECTS:
        raise ds.fail("subject", f"a regex giving at most {MAX_SUBJECTS} subjects", regex_text)
    return [Subject(name, tuple(groups[name])) for name in sorted(groups)]
