"""Train the property sub-models once per data and settings, then reuse them.

The Tg, fragility, density and shear-modulus sub-models (with their publication-fold
copies for cross-fitting) depend only on the embedded property tables and their settings,
not on the conductivity data, so train, evaluate, tune and the benchmarks share one copy,
kept under ``~/.cache/nce/submodels/<key>`` (``NCE_CACHE_DIR`` moves it). The key hashes
the tables' content hashes, the settings and the package version; a folder is written to
a temporary name and renamed, so an interrupted run leaves no half-written cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from nce.data.files import atomic_directory
from nce.data.schema import PROCESSED_DIR, content_hash, read_manifest, to_csv_bytes
from nce.models import io
from nce.models.property_models import PROPERTY_TABLES, CompositionPropertyRegressor, PropertySubmodels

#: Cross-fitting folds for the default model (each fold model sees 2/3 of the publications).
DEFAULT_FOLDS = 3


def cache_dir() -> Path:
    return Path(os.environ.get("NCE_CACHE_DIR", Path.home() / ".cache" / "nce")) / "submodels"


def cache_key(settings: dict, tables: dict | None = None) -> str:
    """Hash of the property tables (the shipped ones, or ``tables``: target -> frame), the
    settings, the package version and the model-file format."""
    hyper = {t: CompositionPropertyRegressor.for_target(t, **settings["params"]).get_params() for t in PROPERTY_TABLES}
    if tables is None:
        shipped = read_manifest(PROCESSED_DIR)["tables"]
        hashes = {t: shipped[t]["sha256"] for t in ("tg", "viscosity", "density", "shear_modulus")}
    else:
        hashes = {target: content_hash(to_csv_bytes(frame)) for target, frame in sorted(tables.items())}
    payload = {
        "tables": hashes,
        "settings": settings,
        "hyperparameters": hyper,
        "nce": io.package_version(),
        "format": io.FORMAT_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cached_submodels(
    n_folds: int = DEFAULT_FOLDS,
    params: dict | None = None,
    max_rows_per_table: int | None = None,
    random_state: int = 0,
    on_step: Callable[[str], None] = lambda _: None,
    tables: dict | None = None,
    n_jobs: int = 2,
) -> Path:
    """Path of a saved :class:`PropertySubmodels` folder with fold models, trained if missing;
    ``tables`` (target -> frame) replaces the shipped property tables (benchmarks that hold
    glasses out); ``n_jobs`` (threads) does not change the models."""
    settings = {
        "n_folds": n_folds,
        "params": params or {},
        "max_rows_per_table": max_rows_per_table,
        "random_state": random_state,
    }
    target = cache_dir() / cache_key(settings, tables)
    if (target / io.META_FILE).is_file():
        return target
    on_step("training the Tg, fragility, density and shear-modulus sub-models (once; cached)")
    models = PropertySubmodels.train(
        with_folds=True,
        n_folds=n_folds,
        max_rows_per_table=max_rows_per_table,
        params=params,
        random_state=random_state,
        tables=tables,
        n_jobs=n_jobs,
    )
    with atomic_directory(target) as tmp:
        io.save(models, tmp)
    return target
