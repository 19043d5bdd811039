"""MLflow set-up: where runs go, the experiment, the registered model and its alias.

Tracking URI from ``MLFLOW_TRACKING_URI``; otherwise the local store in ``./mlruns``:
backend ``sqlite:///mlruns/mlflow.db``, artifacts under ``mlruns/artifacts`` (MLflow 3.13+
refuses the old plain-folder store unless told otherwise, so NCE does not use it).
"""

from __future__ import annotations

import os
from pathlib import Path

EXPERIMENT = "nce"
REGISTERED_MODEL = "nce-conductivity"
CHAMPION_ALIAS = "champion"
#: Tag of a registered version that is the model shipped with the package (its model.json checksum).
PACKAGED_TAG = "nce_packaged_default"


def local_store() -> Path:
    return Path(os.environ.get("NCE_MLRUNS_DIR", "mlruns")).resolve()


def local_uri() -> str:
    """The default backend: SQLite inside :func:`local_store`."""
    return f"sqlite:///{local_store() / 'mlflow.db'}"


def tracking_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    local_store().mkdir(parents=True, exist_ok=True)
    return local_uri()


def user_champion() -> str | None:
    """Where the champion of a model of the user's lives, found without importing MLflow.

    ``"server"`` when ``MLFLOW_TRACKING_URI`` names another store than the local one (only
    MLflow can ask it); ``"local"`` when the local store's registry gives the ``champion``
    alias to a version that is not the packaged default (read from its SQLite file, read
    only); None when there is no local store, no champion, or the champion is the packaged
    model. A store whose tables this query does not know counts as ``"local"`` (MLflow then
    answers).
    """
    import sqlite3
    from contextlib import closing

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri and uri != local_uri():
        return "server"
    db = local_store() / "mlflow.db"
    if not db.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=10)) as con:
            row = con.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (REGISTERED_MODEL, CHAMPION_ALIAS),
            ).fetchone()
            if row is None:
                return None
            packaged = con.execute(
                "SELECT 1 FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                (REGISTERED_MODEL, row[0], PACKAGED_TAG),
            ).fetchone()
    except sqlite3.Error:
        return "local"
    return None if packaged else "local"


def setup(experiment: str = EXPERIMENT):
    """Point MLflow at the store and return the experiment id (created on first use)."""
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    existing = mlflow.get_experiment_by_name(experiment)
    if existing is not None:
        return existing.experiment_id
    # MLflow's set_tracking_uri also sets MLFLOW_TRACKING_URI, so compare URIs instead of
    # asking whether the variable is set: the local store keeps its artifacts beside its database
    artifact_location = (local_store() / "artifacts").as_uri() if uri == local_uri() else None
    try:
        return mlflow.create_experiment(experiment, artifact_location=artifact_location)
    except mlflow.exceptions.MlflowException:
        # another process (a second worker, a predict beside a train) created it first
        existing = mlflow.get_experiment_by_name(experiment)
        if existing is None:
            raise
        return existing.experiment_id
