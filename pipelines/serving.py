"""Log the model as an MLflow pyfunc from code, register it, and move the champion alias."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nce.pipelines.tracking import CHAMPION_ALIAS, PACKAGED_TAG, REGISTERED_MODEL

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
SELECTION_METRIC = "cv_log10_sigma25_mae"  # lower is better


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ["numpy", "pandas", "scikit-learn", "xgboost", "pymatgen", "matminer", "mlflow", "scipy"]
    return [f"{n}=={version(n)}" for n in names]


def log_pyfunc(model, model_dir: Path, frame: pd.DataFrame | None = None):
    """Log ``model_dir`` as the artifact of a pyfunc defined in ``pyfunc_model.py``."""
    import mlflow
    from mlflow.models import infer_signature

    from nce.pipelines.predict import predict_frame

    example = pd.DataFrame({"composition": ["70Li2S-30P2S5", "Li2.9PO3.3N0.46"], "temperature_C": [25.0, 100.0]})
    signature = infer_signature(example, predict_frame(model, example))
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=str(PYFUNC_CODE),
        artifacts={"nce_model": str(model_dir)},
        signature=signature,
        input_example=example,
        pip_requirements=_requirements(),
    )


def register_packaged_default(on_step=lambda _: None) -> int | None:
    """Register the model shipped with the package as the champion of a registry that has
    none (a run named ``packaged-default`` logs its folder as is: no training). Its version
    carries the tag :data:`PACKAGED_TAG`, so ``nce predict`` keeps loading the packaged
    folder directly, and a user's first ``nce train`` takes the alias. Returns the new
    version, or None when the registry already has a champion."""
    import mlflow
    from mlflow import MlflowClient

    import nce.models
    from nce.models import io
    from nce.pipelines import tracking
    from nce.pipelines.predict import load_packaged_model

    if not (nce.models.DEFAULT_MODEL_DIR / io.META_FILE).is_file():
        return None
    experiment_id = tracking.setup()
    client = MlflowClient()
    try:
        client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
        return None
    except mlflow.exceptions.MlflowException:
        pass
    on_step("registering the packaged default model in the MLflow registry (once; no training)")
    model = load_packaged_model()
    digest = io.read_meta(nce.models.DEFAULT_MODEL_DIR)[io.SELF_CHECKSUM]
    with mlflow.start_run(experiment_id=experiment_id, run_name="packaged-default"):
        mlflow.set_tags({"data_hash": model.data_hash_, PACKAGED_TAG: digest})
        info = log_pyfunc(model, nce.models.DEFAULT_MODEL_DIR)
    version = mlflow.register_model(info.model_uri, REGISTERED_MODEL, tags={PACKAGED_TAG: digest})
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, version.version)
    return int(version.version)


def register_if_better(model_uri: str, run_id: str, metrics: dict) -> dict:
    """Register a new version; move ``champion`` to it if it beats the current one, or if
    the current one is the packaged default (a user's own model always replaces it)."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    version = mlflow.register_model(model_uri, REGISTERED_MODEL)
    new_score = metrics.get(SELECTION_METRIC)
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException:
        champion = None
    old_score, packaged = None, False
    if champion is not None:
        old_score = client.get_run(champion.run_id).data.metrics.get(SELECTION_METRIC)
        packaged = PACKAGED_TAG in (champion.tags or {})
    promote = champion is None or packaged or (new_score is not None and (old_score is None or new_score < old_score))
    if promote:
        client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, version.version)
    return {
        "registered_version": int(version.version),
        "champion": bool(promote),
        "champion_score": old_score,
        "score": new_score,
    }
