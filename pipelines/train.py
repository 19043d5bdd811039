"""``nce train``: fit the conductivity model on all data, log it to MLflow, register it.

The run records parameters, seed, the dataset hash and ``mlflow.log_input``, the
publication-grouped cross-validated metrics (which decide the ``champion`` alias), parity
and residual-by-family plots, feature importances, and the model itself as a pyfunc logged
from code (``nce.pipelines.serving``) with signature and input example.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.datasets import load_conductivity
from nce.data.extra import ExtraDataError, load_extra
from nce.data.schema import PROCESSED_DIR, read_manifest
from nce.pipelines.errors import UserError

DEFAULT_SEED = 0
#: ConformalGBMRegressor's own defaults (the settings benchmarks/RESULTS.md records); `nce tune`
#: can replace them (`nce train --params best.json`).
DEFAULT_MODEL_PARAMS: dict = {}


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the training rows (pandas' stable row hashes, in order)."""
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(row_hashes.tobytes()).hexdigest()


def _read_extra(extra_data: Path):
    try:
        return load_extra(extra_data)
    except ExtraDataError as exc:
        raise UserError(str(exc)) from None


def _default_processing(rows: pd.DataFrame) -> np.ndarray:
    from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE

    return ((rows["route"] == DEFAULT_ROUTE) & (rows["state"] == DEFAULT_STATE) & rows["heat_treatment_C"].isna()).to_numpy()


def training_frame(extra_data: Path | None = None, only_extra: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Rows of the glass model: SciGlass, joined with (or replaced by) a user's melt-quenched
    glasses that have a 25 degC value or an Ea. A user's other rows train the processing
    model (:func:`processing_rows`)."""
    frames, notes = [], []
    if not only_extra:
        frames.append(load_conductivity(training=True))
    if extra_data is not None:
        extra = _read_extra(extra_data)
        notes.extend(extra.skipped)
        rows = extra.rows
        if not rows.empty:
            glass = _default_processing(rows) & (rows["log10_sigma25"].notna() | rows["Ea_eV"].notna()).to_numpy()
            if (~glass).any():
                notes.append(f"{int((~glass).sum())} row(s) made other than as a melt-quenched glass, or with sigma away from 25 degC only, train the processing model")
            frames.append(rows[glass].drop(columns=["temperature_C", "log10_sigma_T"]))
    elif only_extra:
        raise UserError("--only-extra needs --extra-data FILE")
    frame = pd.concat(frames, ignore_index=True, sort=False)
    if frame.empty:
        raise UserError("no training rows for the glass model (melt-quenched glasses with sigma at 25 degC or Ea)")
    from nce.data.schema import element_columns

    frame[element_columns(frame)] = frame[element_columns(frame)].fillna(0.0)
    frame["KOD"] = frame["KOD"].astype(str)
    return frame, notes


def processing_rows(extra_data: Path | None = None) -> pd.DataFrame:
    """Observations the processing model learns from: the embedded literature rows and a
    user's rows with a measured sigma, treated alike."""
    from nce.data.literature import load_literature
    from nce.data.schema import element_columns

    frames = [load_literature().rows]
    if extra_data is not None:
        frames.append(_read_extra(extra_data).rows)
    rows = pd.concat(frames, ignore_index=True, sort=False)
    rows = rows[rows["log10_sigma_T"].notna()].reset_index(drop=True)
    rows[element_columns(rows)] = rows[element_columns(rows)].fillna(0.0)  # elements only one source has
    return rows


def make_featurizer(seed: int = DEFAULT_SEED, featurizer_params: dict | None = None, on_step=lambda _: None):
    """The default featurizer, on cached sub-models; ``featurizer_params`` shrink them (tests)."""
    from nce.featurize.transformer import GlassFeaturizer
    from nce.pipelines.submodels_cache import DEFAULT_FOLDS, cached_submodels

    if featurizer_params:
        return GlassFeaturizer(random_state=seed, **featurizer_params)
    path = cached_submodels(n_folds=DEFAULT_FOLDS, random_state=seed, on_step=on_step)
    return GlassFeaturizer(submodels=str(path), n_folds=DEFAULT_FOLDS, random_state=seed)


def make_model(params: dict | None = None, seed: int = DEFAULT_SEED, featurizer_params: dict | None = None, on_step=lambda _: None):
    """The default NCE model: cached sub-models, default boosting settings unless given."""
    from nce.models.nce_model import NCEModel

    featurizer = make_featurizer(seed, featurizer_params, on_step)
    return NCEModel(featurizer, model_params={**DEFAULT_MODEL_PARAMS, **(params or {})}, random_state=seed)


def grouped_cv_metrics(model, frame: pd.DataFrame, seed: int, on_step: Callable[[str], None]) -> tuple[dict, pd.DataFrame]:
    """Publication-grouped 5-fold CV of the point models on the fitted model's own features."""
    from sklearn.model_selection import GroupKFold

    from nce.models.conformal import ConformalGBMRegressor
    from nce.pipelines.metrics import regression_metrics

    X = model.train_features_.to_numpy(dtype=np.float32)
    groups = frame["KOD"].to_numpy()
    oof = pd.DataFrame(index=frame.index)
    metrics = {}
    for target in ("log10_sigma25", "Ea_eV"):
        y = frame[target].to_numpy(dtype=float)
        pred = np.full(len(y), np.nan)
        lo, hi = pred.copy(), pred.copy()
        for k, (train, test) in enumerate(GroupKFold(5).split(X, groups=groups)):
            on_step(f"cross-validating {target}: fold {k + 1}/5")
            train, test = train[np.isfinite(y[train])], test[np.isfinite(y[test])]
            m = ConformalGBMRegressor(**{**(model.model_params or {}), "random_state": seed}).fit(X[train], y[train], groups=groups[train])
            pred[test] = m.predict(X[test])
            lo[test], hi[test] = m.predict_interval(X[test])
        oof[target], oof[f"{target}_lo"], oof[f"{target}_hi"] = pred, lo, hi
        for key, value in regression_metrics(y, pred, lo, hi).items():
            metrics[f"cv_{target}_{key}"] = value
    return metrics, oof


def train(
    extra_data: Path | None = None,
    only_extra: bool = False,
    params: dict | None = None,
    seed: int = DEFAULT_SEED,
    cross_validate: bool = True,
    register: bool = True,
    output: Path | None = None,
    featurizer_params: dict | None = None,
    on_step: Callable[[str], None] = lambda _: None,
) -> dict:
    import mlflow

    from nce.pipelines import plots, tracking
    from nce.pipelines.protocols import family

    frame, notes = training_frame(extra_data, only_extra)
    digest = data_hash(frame)
    experiment_id = tracking.setup()
    model = make_model(params, seed, featurizer_params, on_step)
    with mlflow.start_run(experiment_id=experiment_id, run_name="train") as run:
        mlflow.log_params({"seed": seed, "n_rows": len(frame), "extra_data": str(extra_data or ""), "only_extra": only_extra,
                           **{f"model_{k}": v for k, v in (model.model_params or {}).items()}})
        mlflow.set_tags({"data_hash": digest, "embedded_data_sha256": read_manifest(PROCESSED_DIR)["tables"]["conductivity"]["sha256"]})
        mlflow.log_input(mlflow.data.from_pandas(frame[["KOD", "composition", "log10_sigma25", "Ea_eV"]], name="conductivity", digest=digest[:16]), context="training")
        on_step("featurizing and fitting")
        model.fit(frame, data_hash=digest)
        on_step("fitting the processing offsets (literature and your processed rows)")
        processed = processing_rows(extra_data)
        model.fit_processing(processed)
        mlflow.log_params({"processing_rows": len(processed), "processing_method": model.processing_.method})
        result = {"run_id": run.info.run_id, "n_rows": len(frame), "data_hash": digest, "skipped": notes}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if cross_validate:
                metrics, oof = grouped_cv_metrics(model, frame, seed, on_step)
                mlflow.log_metrics(metrics)
                result["metrics"] = metrics
                fam = family(frame)
                for target in ("log10_sigma25", "Ea_eV"):
                    ok = oof[target].notna()
                    plots.parity_plot(frame.loc[ok, target], oof.loc[ok, target], oof.loc[ok, f"{target}_lo"], oof.loc[ok, f"{target}_hi"], target, tmp / f"parity_{target}.png")
                    plots.residuals_by_family(oof.loc[ok, target] - frame.loc[ok, target], fam[ok.to_numpy()], target, tmp / f"residuals_by_family_{target}.png")
            for target, m in model.models_.items():
                gain = m.point_model_.get_booster().get_score(importance_type="gain")
                imp = np.array([gain.get(f"f{i}", 0.0) for i in range(len(model.feature_names_))])
                plots.importance_plot(model.feature_names_, imp, tmp / f"importance_{target}.png", title=f"{target}: feature importance (gain)")
                pd.DataFrame({"feature": model.feature_names_, "gain": imp}).sort_values("gain", ascending=False).to_csv(tmp / f"importance_{target}.csv", index=False)
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
            model_dir = Path(output) if output else tmp / "nce_model"
            model.save(model_dir)
            on_step("logging the model")
            from nce.pipelines import serving

            info = serving.log_pyfunc(model, model_dir, frame)
        result["model_uri"] = info.model_uri
        if register:
            result.update(serving.register_if_better(info.model_uri, run.info.run_id, result.get("metrics", {})))
    return result
