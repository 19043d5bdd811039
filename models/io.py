"""The one model-file format: a folder per fitted object, nothing unpickled.

``save(obj, folder)`` writes the object's native weight files (xgboost UBJ, NumPy ``.npz``
without object arrays, skops for scikit-learn trees, CSV) through ``obj._save_state(folder)``,
then ``model.json``: the class, its module, the package and its version (from
``importlib.metadata``), the constructor arguments (nested estimators as class + arguments),
the fitted state the object returned, the SHA-256 of every file in the folder, and a SHA-256
of ``model.json`` itself. ``model.json`` is written last and atomically: it vouches for the
rest. ``load(folder)`` checks all of that, rebuilds ``cls(**arguments)`` and hands the state
back to ``obj._load_state(state, folder)``. Only classes of the ``nce`` package are rebuilt
from a file; nested constructor arguments may also be scikit-learn or xgboost estimators.

The format follows matgl/monty's ``save``/``load`` (readable constructor arguments beside
the weights in the library's own format, version checked on load).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from nce.data.errors import NCEError
from nce.data.files import atomic_path

__all__ = ["FORMAT", "FORMAT_VERSION", "META_FILE", "ModelFileError", "load", "package_version", "save"]

FORMAT = "nce.model"
FORMAT_VERSION = 2
META_FILE = "model.json"
SELF_CHECKSUM = "model_json_sha256"
#: Modules whose classes a model file may name as nested constructor arguments.
TRUSTED_MODULES = ("nce.", "sklearn.", "xgboost.")


class ModelFileError(NCEError, ValueError):
    """A saved model folder that cannot be loaded: missing, truncated, altered, from another
    package version, or not of this format."""


def package_version() -> str:
    """The installed ``nce`` version (the one model files record and check)."""
    try:
        return version("nce")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0.0.0"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _meta_digest(meta: dict) -> str:
    body = {k: v for k, v in meta.items() if k != SELF_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _class_path(obj_or_cls) -> str:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(path: str, trusted: tuple[str, ...]) -> type:
    module, _, name = str(path).rpartition(".")
    if not module.startswith(trusted):
        raise ModelFileError(f"refusing class {path!r}: a model file may only name classes of {', '.join(trusted)}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ModelFileError(f"class {path!r} of a model file does not exist in this installation ({exc})") from None


def encode_params(params: dict) -> dict:
    """Constructor arguments as JSON: estimators become ``{"class": ..., "params": ...}``."""

    def encode(value: Any) -> Any:
        if hasattr(value, "get_params") and not isinstance(value, type):
            return {"class": _class_path(value), "params": encode_params(_file_params(value))}
        if isinstance(value, dict):
            return {"dict": {str(k): encode(v) for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if hasattr(value, "item"):  # a NumPy scalar
            return value.item()
        raise TypeError(f"cannot write constructor argument {value!r} ({type(value).__name__}) to a model file")

    return {name: encode(v) for name, v in params.items()}


def decode_params(params: dict) -> dict:
    """Inverse of :func:`encode_params`."""

    def decode(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"class", "params"}:
            return _import_class(value["class"], TRUSTED_MODULES)(**decode_params(value["params"]))
        if isinstance(value, dict) and set(value) == {"dict"}:
            return {k: decode(v) for k, v in value["dict"].items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return {name: decode(v) for name, v in params.items()}


def _file_params(obj) -> dict:
    """The constructor arguments a file records (``obj._file_params()`` may leave out fitted
    parts it stores as files of its own)."""
    hook = getattr(obj, "_file_params", None)
    return hook() if hook is not None else obj.get_params(deep=False)


def save(obj, directory) -> Path:
    """Write ``obj`` (an ``nce`` object with ``_save_state``) to the folder ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META_FILE).unlink(missing_ok=True)  # a folder without model.json is never loadable
    state = obj._save_state(directory)
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p != directory / META_FILE)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": _class_path(obj),
        "package": "nce",
        "version": package_version(),
        "params": encode_params(_file_params(obj)),
        "state": state,
        "files": {p.relative_to(directory).as_posix(): sha256_file(p) for p in files},
    }
    meta[SELF_CHECKSUM] = _meta_digest(meta)
    with atomic_path(directory / META_FILE) as tmp:
        tmp.write_text(json.dumps(meta, indent=1, allow_nan=False) + "\n")
    return directory


def read_meta(directory) -> dict:
    """``model.json`` of a model folder, checked for format, self-checksum and version."""
    directory = Path(directory)
    path = directory / META_FILE
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"no {META_FILE} in {directory}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not valid JSON (truncated or altered?): {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{directory} does not hold an NCE model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{directory}: model-file format {meta.get('format_version')!r}, this nce reads "
            f"{FORMAT_VERSION}; retrain with `nce train`"
        )
    if meta.get(SELF_CHECKSUM) != _meta_digest(meta):
        raise ModelFileError(
            f"{path} is altered or incomplete (its checksum does not match); retrain or restore the model"
        )
    if meta.get("version") != package_version():
        raise ModelFileError(
            f"{directory} was saved by nce {meta.get('version')}, this is nce {package_version()}; "
            "retrain with `nce train`"
        )
    return meta


def load(directory, expect: type | None = None, verify_files: bool = True):
    """Rebuild the object saved in ``directory`` by :func:`save`.

    Args:
        directory: the model folder.
        expect: refuse a file of another class than this one (or a subclass).
        verify_files: check the SHA-256 of every file (a parent that checked them already
            passes False for its nested folders).

    Raises:
        ModelFileError: missing, truncated or altered files, another format or nce version,
            a class outside ``nce``, or state the class refuses.
    """
    directory = Path(directory)
    meta = read_meta(directory)
    try:
        if verify_files:
            for rel, digest in meta["files"].items():
                file = directory / rel
                if not file.is_file() or sha256_file(file) != digest:
                    raise ModelFileError(f"model file {rel} is missing or altered (checksum mismatch)")
        cls = _import_class(meta["class"], ("nce.",))
        if expect is not None and not issubclass(cls, expect):
            raise ModelFileError(f"{directory} holds a {cls.__name__}, not a {expect.__name__}")
        obj = cls(**decode_params(meta["params"]))
        obj._load_state(meta["state"], directory)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OSError) as exc:
        raise ModelFileError(f"{directory} cannot be loaded ({type(exc).__name__}: {str(exc)[:160]})") from None
    return obj


def load_child(directory):
    """A nested model folder whose files the parent's ``model.json`` already vouched for."""
    return load(directory, verify_files=False)
