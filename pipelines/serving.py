"""Log the model as an MLflow pyfunc from code, register it, and move the champion alias."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nce.pipelines.tracking import CHAMPION_ALIAS, REGISTERED_MODEL

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
SELECTION_METRIC = "cv_log10_sigma25_mae"  # lower is better


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ["numpy", "pandas", "scikit-learn", "xgboost", "pymatgen", "matminer", "mlflow", "scipy"]
    return [f"{n}=={version(n)}" for n in names]


def log_pyfunc(model, model_dir: Path, frame: pd.DataFrame):
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


def register_if_better(model_uri: str, run_id: str, metrics: dict) -> dict:
    """Register a new version; move ``champion`` to it only if it beats the current one."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    version = mlflow.register_model(model_uri, REGISTERED_MODEL)
    new_score = metrics.get(SELECTION_METRIC)
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException:
        champion = None
    old_score = None
    if champion is not None:
        old_score = client.get_run(champion.run_id).data.metrics.get(SELECTION_METRIC)
    promote = champion is None or (new_score is not None and (old_score is None or new_score < old_score))
    if promote:
        client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, version.version)
    return {
        "registered_version": int(version.version),
        "champion": bool(promote),
        "champion_score": old_score,
        "score": new_score,
    }
