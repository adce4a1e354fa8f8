"""The ``.bci`` model file: one zip archive, a JSON header and ``.npy`` arrays, no pickle.

Layout::

    header.json          schema version, software version, creation time, paradigm,
                         channel names, sampling rate, class names, every fitted step's
                         metadata (filter, feature steps, scaler, model), metrics,
                         training-data hash, and for every array its dtype, shape, sha256
    arrays/<key>.npy     numpy arrays written with allow_pickle=False

Loading never executes code: arrays are read with ``allow_pickle=False`` and only plain
numeric or string dtypes are accepted; each array must be listed in the header with the
same dtype, shape and sha256 (edited weights or a truncated array are detected); the
schema version must be the one this software writes. Every problem raises
:class:`~bci.errors.ModelFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.source import SourceInfo
from bci import __version__
from bci.errors import BCIError, ModelFileError
from bci.features.scaler import StandardScaler
from bci.features.steps import step_from_state
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline, channel_index_map

SCHEMA_VERSION = 1
FORMAT_NAME = "bci-model"
HEADER = "header.json"
_MAX_HEADER_BYTES = 16 * 1024 * 1024
_MAX_ARRAY_BYTES = 1 << 30
_ALLOWED_KINDS = "fiubU"  # float, int, uint, bool, unicode: nothing that needs pickle
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")


def array_sha256(arr: np.ndarray) -> str:
    """sha256 over an array's dtype, shape and C-order bytes."""
    a = np.ascontiguousarray(arr)
    h = hashlib.sha256()
    h.update(a.dtype.str.encode())
    h.update(repr(tuple(a.shape)).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ----------------------------------------------------------------------------- save


def save_model(
    path: str | Path,
    pipeline: Pipeline,
    *,
    metrics: dict | None = None,
    training_hash: str | None = None,
) -> Path:
    """Write a fitted pipeline to ``path`` (a ``.bci`` file), atomically.

    Parameters
    ----------
    path : str or Path
    pipeline : Pipeline
        Fitted.
    metrics : dict, optional
        JSON-safe numbers to keep with the model (training accuracy, CV results).
    training_hash : str, optional
        Defaults to ``pipeline.training_hash_`` (sha256 of training epochs and labels).

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if not pipeline.is_fitted:
        raise ModelFileError(f"{path}: the pipeline is not trained; fit it before saving")
    arrays: dict[str, np.ndarray] = {"filter/sos": np.asarray(pipeline.sos, dtype=np.float64)}
    steps_meta = []
    for i, step in enumerate(pipeline.steps):
        meta, arrs = step.to_state()
        steps_meta.append({"meta": meta, "arrays": _add(arrays, f"steps/{i}", arrs)})
    scaler_meta, scaler_arrs = pipeline.scaler.to_state()
    model_meta, model_arrs = pipeline.model.to_state()
    header = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "software_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "paradigm": pipeline.paradigm.to_dict(),
        "ch_names": list(pipeline.ch_names),
        "sfreq": pipeline.sfreq,
        "classes": list(pipeline.classes_),
        "filter": {"design": "butterworth-sos", "sos": "filter/sos"},
        "steps": steps_meta,
        "scaler": {"meta": scaler_meta, "arrays": _add(arrays, "scaler", scaler_arrs)},
        "model": {"meta": model_meta, "arrays": _add(arrays, "model", model_arrs)},
        "metrics": metrics or {},
        "training_hash": training_hash or pipeline.training_hash_,
        "arrays": {},
    }
    for key, arr in arrays.items():
        if arr.dtype.kind not in _ALLOWED_KINDS:
            raise ModelFileError(f"{path}: array {key} has dtype {arr.dtype}, which needs pickle")
        header["arrays"][key] = {
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "sha256": array_sha256(arr),
        }
    try:
        header_bytes = json.dumps(header, indent=1, default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: metrics or model state are not JSON-safe ({exc})") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(HEADER, header_bytes)
            for key, arr in arrays.items():
                buf = io.BytesIO()
                np.save(buf, arr, allow_pickle=False)
                zf.writestr(f"arrays/{key}.npy", buf.getvalue())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _add(arrays: dict[str, np.ndarray], prefix: str, new: dict[str, np.ndarray]) -> dict[str, str]:
    """Store ``new`` under ``prefix/name`` and return name -> key."""
    refs = {}
    for name, arr in new.items():
        key = f"{prefix}/{name}"
        if not _KEY.match(key):
            raise ModelFileError(
                f"array name {name!r} cannot be stored; use letters, digits, _ . -"
            )
        arrays[key] = np.asarray(arr)
        refs[name] = key
    return refs


# ----------------------------------------------------------------------------- load


def read_header(path: str | Path) -> dict:
    """Return the JSON header of a ``.bci`` file without loading the arrays."""
    path = Path(path)
    with _open_zip(path) as zf:
        return _read_header(zf, path)


def load_model(path: str | Path) -> Pipeline:
    """Load a ``.bci`` file into a fitted :class:`~bci.pipeline.Pipeline`.

    The pipeline gets ``metrics_``, ``header_`` and ``source_path`` attributes.

    Raises
    ------
    ModelFileError
        Missing file, not a model file, another schema version, unlisted/missing/tampered
        arrays, pickled content, or inconsistent state; the message names the file.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        header = _read_header(zf, path)
        arrays = _read_arrays(zf, header, path)
    try:
        return _build(header, arrays, path)
    except ModelFileError:
        raise
    except (BCIError, KeyError, TypeError, ValueError, IndexError) as exc:
        # Includes ModelError (a ValueError) from the models layer.
        raise ModelFileError(
            f"{path}: inconsistent model state ({type(exc).__name__}: {exc})"
        ) from None


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found; check the path")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a .bci model file")
    try:
        return zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ModelFileError(
            f"{path}: not a .bci model file (not a readable zip archive: {exc})"
        ) from None


def _read_header(zf: zipfile.ZipFile, path: Path) -> dict:
    try:
        info = zf.getinfo(HEADER)
    except KeyError:
        raise ModelFileError(f"{path}: not a .bci model file (no {HEADER})") from None
    if info.file_size > _MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{path}: {HEADER} is {info.file_size} bytes; refusing a header that large"
        )
    try:
        header = json.loads(zf.read(info).decode("utf-8"))
    except (
        zipfile.BadZipFile,
        OSError,
        UnicodeDecodeError,
        ValueError,
        EOFError,
        zlib.error,  # a corrupt compressed member
        NotImplementedError,  # a flipped flag bit asks for an unsupported zip feature
    ) as exc:
        raise ModelFileError(f"{path}: {HEADER} is unreadable or not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{path}: not a .bci model file (header format is not {FORMAT_NAME!r})"
        )
    version = header.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelFileError(
            f"{path}: model schema version {version!r}; this software (bci {__version__}) reads "
            f"schema version {SCHEMA_VERSION}; retrain the model with this version"
        )
    if not isinstance(header.get("arrays"), dict):
        raise ModelFileError(f"{path}: header has no array table")
    return header


def _read_arrays(zf: zipfile.ZipFile, header: dict, path: Path) -> dict[str, np.ndarray]:
    listed = header["arrays"]
    members = {n for n in zf.namelist() if n != HEADER}
    expected = {f"arrays/{k}.npy" for k in listed}
    unlisted = sorted(members - expected)
    if unlisted:
        raise ModelFileError(f"{path}: members not listed in the header: {', '.join(unlisted)}")
    out = {}
    for key, spec in listed.items():
        if not isinstance(key, str) or not _KEY.match(key) or not isinstance(spec, dict):
            raise ModelFileError(f"{path}: bad array entry {key!r} in the header")
        name = f"arrays/{key}.npy"
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise ModelFileError(
                f"{path}: array {key} is listed but missing from the file"
            ) from None
        if info.file_size > _MAX_ARRAY_BYTES:
            raise ModelFileError(f"{path}: array {key} is {info.file_size} bytes; refusing")
        try:
            raw = zf.read(info)
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc):
                raise ModelFileError(
                    f"{path}: array {key} holds pickled Python objects; refused (never unpickled)"
                ) from None
            raise ModelFileError(f"{path}: array {key} is corrupt or truncated ({exc})") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
            raise ModelFileError(f"{path}: array {key} is corrupt or truncated ({exc})") from None
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in _ALLOWED_KINDS:
            raise ModelFileError(
                f"{path}: array {key} has a refused dtype {getattr(arr, 'dtype', '?')}"
            )
        if arr.dtype.str != spec.get("dtype") or list(arr.shape) != spec.get("shape"):
            raise ModelFileError(
                f"{path}: array {key} is {arr.dtype.str} {list(arr.shape)}, the header says "
                f"{spec.get('dtype')} {spec.get('shape')}; the file was altered or truncated"
            )
        if array_sha256(arr) != spec.get("sha256"):
            raise ModelFileError(
                f"{path}: array {key} does not match its sha256 in the header; the file was "
                "altered (edited weights?) or corrupted"
            )
        out[key] = arr
    return out


def _pick(arrays: dict[str, np.ndarray], refs: dict) -> dict[str, np.ndarray]:
    return {name: arrays[key] for name, key in refs.items()}


def _build(header: dict, arrays: dict[str, np.ndarray], path: Path) -> Pipeline:
    from models import estimator_from_state

    paradigm = Paradigm.from_dict(header["paradigm"], source=f"{path} (paradigm)")
    pipe = Pipeline(paradigm, header["ch_names"], float(header["sfreq"]))
    sos = arrays[header["filter"]["sos"]]
    if sos.ndim != 2 or sos.shape[1] != 6 or not np.all(np.isfinite(sos)):
        raise ModelFileError(f"{path}: filter sections have shape {sos.shape}, expected (n, 6)")
    pipe.sos = sos.astype(np.float64)
    pipe.steps = [step_from_state(s["meta"], _pick(arrays, s["arrays"])) for s in header["steps"]]
    sc = header["scaler"]
    pipe.scaler = StandardScaler.from_state(sc["meta"], _pick(arrays, sc["arrays"]))
    mo = header["model"]
    pipe.model = estimator_from_state(mo["meta"], _pick(arrays, mo["arrays"]))
    classes = tuple(str(c) for c in header["classes"])
    model_classes = [int(c) for c in np.asarray(pipe.model.classes_).tolist()]
    names = paradigm.class_names
    if (
        any(not 0 <= c < len(names) for c in model_classes)
        or tuple(names[c] for c in model_classes) != classes
    ):
        raise ModelFileError(f"{path}: class list {classes} does not match the model's classes")
    pipe.classes_ = classes
    pipe.training_hash_ = header.get("training_hash")
    pipe.metrics_ = header.get("metrics", {})
    pipe.header_ = header
    pipe.source_path = str(path)
    pipe.reset_online()
    # A dry run proves every step's shapes fit together before the model is used live.
    probe = np.zeros((1, pipe.n_channels, max(pipe.window_samples, pipe.epoch_samples)))
    proba = pipe.predict_proba_epochs(probe)
    if proba.shape != (1, len(classes)):
        raise ModelFileError(
            f"{path}: the model gives {proba.shape[1]} probabilities for {len(classes)} classes"
        )
    return pipe


# ----------------------------------------------------------------------------- streams


def check_stream_compatible(pipeline: Pipeline, info: SourceInfo) -> np.ndarray:
    """Refuse a stream the model cannot classify; return the row index map otherwise.

    Channel names are matched ignoring case and trailing dots; a stream with the same
    channels in another order is accepted and ``data[index_map]`` puts its rows in the
    model's order (``pipeline.bind_input(index_map)`` does it inside ``push``).

    Raises
    ------
    ModelFileError
        The rate differs, or channels are missing or extra; the message says which.
    """
    model = getattr(pipeline, "source_path", None) or "model"
    stream = info.name or info.source_id or "stream"
    problems = []
    if abs(info.sfreq - pipeline.sfreq) > 1e-6 * pipeline.sfreq:
        problems.append(f"rate {info.sfreq:g} Hz vs the model's {pipeline.sfreq:g} Hz")
    index, missing = channel_index_map(pipeline.ch_names, info.ch_names)
    if missing:
        problems.append(f"missing channels {', '.join(missing)}")
    if info.n_channels != pipeline.n_channels:
        _, extra = channel_index_map(info.ch_names, pipeline.ch_names)
        what = f" (extra: {', '.join(extra)})" if extra else ""
        problems.append(f"{info.n_channels} channels vs the model's {pipeline.n_channels}{what}")
    if problems:
        raise ModelFileError(
            f"{model}: stream {stream!r} does not match the model: {'; '.join(problems)}; "
            "use the montage and rate the model was trained on, or retrain"
        )
    return index
