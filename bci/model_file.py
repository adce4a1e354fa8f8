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

from acquisition import limits
from acquisition.source import SourceInfo
from bci import __version__
from bci.errors import BCIError, ModelFileError
from bci.features.scaler import StandardScaler
from bci.features.steps import step_from_state
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline, channel_index_map

SCHEMA_VERSION = 2
#: Schema 1 (files written before the header was sealed by its own hash) still loads: its
#: arrays are hashed and every size and weight is checked as for schema 2; only the header
#: seal is missing. A user's model from an earlier session keeps working.
UNSEALED_SCHEMA_VERSIONS = (1,)
FORMAT_NAME = "bci-model"
HEADER = "header.json"
_MAX_HEADER_BYTES = 16 * 1024 * 1024
_MAX_NPY_HEADER_BYTES = 64 * 1024  # numpy writes 128-byte .npy headers
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
    adaptation = None
    if pipeline.adapter is not None:
        # What the online path needs: the reference a new session starts from.
        ad_meta, ad_arrs = pipeline.adapter.to_state()
        adaptation = {"meta": ad_meta, "arrays": _add(arrays, "adaptation", ad_arrs)}
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
        **({"adaptation": adaptation} if adaptation is not None else {}),
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
        header = json.loads(json.dumps(header, default=_json_default))
        header_bytes = json.dumps(seal_header(header), indent=1).encode("utf-8")
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


def header_digest(header: dict) -> str:
    """sha256 of the header's canonical JSON, every field but ``header_sha256`` itself.

    The arrays are covered by their own sha256 in the header; this covers the header
    (paradigm, rate, channel names, the array table), so an edited header is detected too.
    """
    body = {k: v for k, v in header.items() if k != "header_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_header(header: dict) -> dict:
    """Return ``header`` with its ``header_sha256`` set (what :func:`save_model` writes)."""
    return {**header, "header_sha256": header_digest(header)}


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
    # NotImplementedError: a flipped byte in the central directory asks for a zip version or
    # feature the reader lacks (found by the long fuzz profile).
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
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
            f"{path}: {HEADER} is {info.file_size} bytes; refusing a header that large "
            f"(at most {_MAX_HEADER_BYTES})"
        )
    try:
        raw = _read_member(zf, info, _MAX_HEADER_BYTES)
        header = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ModelFileError(
            f"{path}: {HEADER} is nested too deeply to parse; the "
            f"{limits.NESTING_DEPTH.what} must be at most {limits.NESTING_DEPTH.high:g}"
        ) from None
    except (
        zipfile.BadZipFile,
        OSError,
        UnicodeDecodeError,
        ValueError,
        EOFError,
        zlib.error,  # a corrupt compressed member
        NotImplementedError,  # a flipped flag bit asks for an unsupported zip feature
        RuntimeError,  # a flipped flag bit marks the member encrypted ("password required")
    ) as exc:
        raise ModelFileError(f"{path}: {HEADER} is unreadable or not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{path}: not a .bci model file (header format is not {FORMAT_NAME!r})"
        )
    version = header.get("schema_version")
    if version != SCHEMA_VERSION and version not in UNSEALED_SCHEMA_VERSIONS:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        fix = "upgrade bci, or retrain the model" if newer else "retrain the model"
        raise ModelFileError(
            f"{path}: model schema version {version!r}; this software (bci {__version__}) reads "
            f"schema version {SCHEMA_VERSION} (and the unsealed schema 1); {fix} with this version"
        )
    limits.check_nesting(header, HEADER, where=str(path), error=ModelFileError)
    sealed = version == SCHEMA_VERSION or "header_sha256" in header
    if sealed and header.get("header_sha256") != header_digest(header):
        raise ModelFileError(
            f"{path}: {HEADER} does not match its header_sha256; the header was edited or "
            "corrupted; retrain the model or restore the file"
        )
    if not isinstance(header.get("arrays"), dict):
        raise ModelFileError(f"{path}: header has no array table")
    _check_header_sizes(header, path)
    return header


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read a member, never more than ``limit`` bytes whatever its directory entry says."""
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit or len(data) != info.file_size:
        raise ValueError(
            f"member {info.filename} holds {len(data)}{'+' if len(data) > limit else ''} bytes, "
            f"its directory entry says {info.file_size}"
        )
    return data


def _check_header_sizes(header: dict, path: Path) -> None:
    """Bound every size the header declares, before a pipeline or an array is built from it."""
    where = str(path)
    limits.SFREQ.check(header.get("sfreq"), "sfreq", where=where, error=ModelFileError)
    ch_names = header.get("ch_names")
    if not isinstance(ch_names, list) or not all(isinstance(c, str) for c in ch_names):
        raise ModelFileError(f"{path}: ch_names must be a list of channel names")
    limits.CHANNELS.check(len(ch_names), "len(ch_names)", where=where, error=ModelFileError)
    classes = header.get("classes")
    if (
        not isinstance(classes, list)
        or len(classes) < 2
        or not all(isinstance(c, str) and c.strip() for c in classes)
    ):
        raise ModelFileError(f"{path}: classes must be a list of 2 or more non-empty names")
    total = 0
    for key, spec in header["arrays"].items():
        if not isinstance(key, str) or not _KEY.match(key) or not isinstance(spec, dict):
            raise ModelFileError(f"{path}: bad array entry {key!r} in the header")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise ModelFileError(f"{path}: array {key}: shape {shape!r} is not a list of sizes")
        limits.ARRAY_NDIM.check(
            len(shape), f"arrays.{key}.shape (ndim)", where=where, error=ModelFileError
        )
        try:
            dtype = np.dtype(spec.get("dtype"))
        except (TypeError, ValueError, SyntaxError):
            raise ModelFileError(
                f"{path}: array {key}: dtype {spec.get('dtype')!r} is not a numpy dtype"
            ) from None
        if dtype.kind not in _ALLOWED_KINDS or dtype.hasobject:
            raise ModelFileError(f"{path}: array {key} has a refused dtype {dtype}")
        total += int(np.prod(shape, dtype=object)) * dtype.itemsize
    limits.MODEL_ARRAY_BYTES.check(
        total, "the arrays declared in the header (bytes)", where=where, error=ModelFileError
    )
    unused = sorted(set(header["arrays"]) - _referenced_arrays(header, path))
    if unused:
        raise ModelFileError(
            f"{path}: arrays listed in the header but used by no step: {', '.join(unused)}; "
            "refused (a model file carries only its own weights)"
        )


def _referenced_arrays(header: dict, path: Path) -> set[str]:
    """Keys of the arrays the filter, the steps, the scaler, the model and the adaptation
    refer to."""
    refs: set[str] = set()
    try:
        refs.add(header["filter"]["sos"])
        parts = [*header["steps"], header["scaler"], header["model"]]
        if "adaptation" in header:  # [adaptation]: the reference a session starts from
            parts.append(header["adaptation"])
        for part in parts:
            refs.update(part["arrays"].values())
    except (KeyError, TypeError, AttributeError):
        raise ModelFileError(
            f"{path}: the header's filter/steps/scaler/model entries are malformed"
        ) from None
    if not all(isinstance(r, str) for r in refs):
        raise ModelFileError(f"{path}: the header refers to arrays by non-string names")
    missing = sorted(refs - set(header["arrays"]))
    if missing:
        raise ModelFileError(
            f"{path}: the header refers to arrays it does not list: {', '.join(missing)}"
        )
    return refs


def _read_arrays(zf: zipfile.ZipFile, header: dict, path: Path) -> dict[str, np.ndarray]:
    listed = header["arrays"]
    members = {n for n in zf.namelist() if n != HEADER}
    expected = {f"arrays/{k}.npy" for k in listed}
    unlisted = sorted(members - expected)
    if unlisted:
        raise ModelFileError(f"{path}: members not listed in the header: {', '.join(unlisted)}")
    out = {}
    for key, spec in listed.items():
        name = f"arrays/{key}.npy"
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise ModelFileError(
                f"{path}: array {key} is listed but missing from the file"
            ) from None
        dtype = np.dtype(spec["dtype"])
        expected_bytes = int(np.prod(spec["shape"], dtype=object)) * dtype.itemsize
        try:
            raw = _read_member(zf, info, expected_bytes + _MAX_NPY_HEADER_BYTES)
            arr = _parse_npy(raw)
        except _PickledArrayError:
            raise ModelFileError(
                f"{path}: array {key} holds pickled Python objects; refused (never unpickled)"
            ) from None
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            zlib.error,
            NotImplementedError,
            RuntimeError,  # the encrypted flag bit flipped on
            ValueError,
        ) as exc:
            raise ModelFileError(
                f"{path}: array {key} is corrupt or truncated ({_one_line(exc)})"
            ) from None
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
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ModelFileError(
                f"{path}: array {key} holds {int(np.sum(~np.isfinite(arr)))} NaN or infinite "
                "values; a trained model's weights are finite: retrain"
            )
        out[key] = arr
    return out


class _PickledArrayError(ValueError):
    """A ``.npy`` member whose dtype holds Python objects (it could only be unpickled)."""


def _parse_npy(raw: bytes) -> np.ndarray:
    """Parse one ``.npy`` member with its declared shape checked against its size first.

    numpy's own reader allocates whatever shape the member header declares; here the
    header is parsed (a Python literal, never code), the dtype must be plain, and the data
    must be exactly ``prod(shape) * itemsize`` bytes before any array exists.

    Raises
    ------
    ValueError
        For every malformed member (numpy's parser raises SyntaxError, TokenError,
        ValueError...: all become ValueError here).
    """
    fh = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                fh, max_header_size=_MAX_NPY_HEADER_BYTES
            )
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                fh, max_header_size=_MAX_NPY_HEADER_BYTES
            )
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError:
        raise
    except Exception as exc:  # the header parser raises many kinds on a mangled literal
        raise ValueError(f"malformed .npy header ({type(exc).__name__}: {exc})") from None
    if dtype.hasobject or dtype.kind not in _ALLOWED_KINDS:
        raise _PickledArrayError(f"dtype {dtype} is refused (it would need pickle)")
    if not isinstance(shape, tuple) or len(shape) > limits.ARRAY_NDIM.high:
        raise ValueError(f"shape {shape!r} has too many dimensions")
    count = int(np.prod(shape, dtype=object))
    data = raw[fh.tell() :]
    if len(data) != count * dtype.itemsize:
        raise ValueError(
            f"declared shape {shape} needs {count * dtype.itemsize} bytes, the member holds "
            f"{len(data)}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="C")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:200] + "...") if len(text) > 200 else (text or type(exc).__name__)


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
    ad = header.get("adaptation")
    if pipe.adapter is not None:
        # Files written before [adaptation] existed have neither the table nor this entry.
        if not isinstance(ad, dict):
            if pipe.adapter.recentres:
                raise ModelFileError(
                    f"{path}: the paradigm asks for [adaptation] recentre but the file holds "
                    "no training reference; retrain the model"
                )
        else:
            pipe.adapter.load_state(ad.get("meta", {}), _pick(arrays, ad.get("arrays", {})))
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
    pipe.start_session()
    # A dry run proves every step's shapes fit together before the model is used live.
    probe = np.zeros((1, pipe.n_channels, max(pipe.window_samples, pipe.epoch_samples)))
    proba = pipe.predict_proba_windows(probe, update=False)
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
