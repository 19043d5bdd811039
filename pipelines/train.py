"""``nce train``: fit the conductivity model on all data, log it to MLflow, register it.

The run records parameters, seed, the dataset hash and ``mlflow.log_input``, the
publication-grouped cross-validated metrics (which decide the ``champion`` alias), parity
and residual-by-family plots, feature importances, and the model itself as a pyfunc logged
from code (``nce.pipelines.serving``) with signature and input example.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.datasets import load_conductivity
from nce.data.extra import load_extra
from nce.data.files import atomic_directory
from nce.data.literature import load_literature
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, PROCESSED_DIR, element_columns, read_manifest
from nce.models import io
from nce.models.conformal import BoostedRegressor
from nce.models.domain import ApplicabilityDomain
from nce.models.featurizer import GlassFeaturizer
from nce.models.nce_model import TARGETS, NCEModel
from nce.models.property_models import CompositionPropertyRegressor
from nce.models.uncertainty import NormalizedConformal
from nce.pipelines.errors import UserError
from nce.pipelines.metrics import regression_metrics
from nce.pipelines.submodels_cache import DEFAULT_FOLDS, cached_submodels
from nce.pipelines.validation import frozen_clone, out_of_fold

DEFAULT_SEED = 0
#: BoostedRegressor's own defaults (nce.models.conformal.TUNED, the settings
#: benchmarks/RESULTS.md records); `nce tune` can replace them (`nce train --params best.json`).
DEFAULT_MODEL_PARAMS: dict = {}
#: What ``--featurizer-params`` may set: the sub-models' size (cached per setting) and the
#: featurizer's own options.
FEATURIZER_SETTINGS = (
    "max_rows_per_table",
    "submodel_params",
    "n_folds",
    "n_jobs",
    "batch_size",
    "physics",
    "progress",
)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the training rows (pandas' stable row hashes, in order)."""
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(row_hashes.tobytes()).hexdigest()


def _default_processing(rows: pd.DataFrame) -> np.ndarray:
    return (
        (rows["route"] == DEFAULT_ROUTE) & (rows["state"] == DEFAULT_STATE) & rows["heat_treatment_C"].isna()
    ).to_numpy()


def training_frame(extra_data: Path | None = None, only_extra: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Rows of the glass model: SciGlass, joined with (or replaced by) a user's melt-quenched
    glasses that have a 25 degC value or an Ea. A user's other rows train the processing
    model (:func:`processing_rows`)."""
    frames, notes = [], []
    if not only_extra:
        frames.append(load_conductivity(training=True))
    if extra_data is not None:
        extra = load_extra(extra_data)
        notes.extend(extra.skipped)
        rows = extra.rows
        if not rows.empty:
            glass = _default_processing(rows) & (rows["log10_sigma25"].notna() | rows["Ea_eV"].notna()).to_numpy()
            if (~glass).any():
                notes.append(
                    f"{int((~glass).sum())} row(s) made other than as a melt-quenched glass, "
                    "or with sigma away from 25 degC only, train the processing model"
                )
            frames.append(rows[glass].drop(columns=["temperature_C", "log10_sigma_T"]))
    elif only_extra:
        raise UserError("--only-extra needs --extra-data FILE")
    frame = pd.concat(frames, ignore_index=True, sort=False)
    if frame.empty:
        raise UserError("no training rows for the glass model (melt-quenched glasses with sigma at 25 degC or Ea)")
    frame[element_columns(frame)] = frame[element_columns(frame)].fillna(0.0)
    frame["KOD"] = frame["KOD"].astype(str)
    return frame, notes


def processing_rows(extra_data: Path | None = None) -> pd.DataFrame:
    """Observations the processing model learns from: the embedded literature rows and a
    user's rows with a measured sigma, treated alike."""
    frames = [load_literature().rows]
    if extra_data is not None:
        frames.append(load_extra(extra_data).rows)
    rows = pd.concat(frames, ignore_index=True, sort=False)
    rows = rows[rows["log10_sigma_T"].notna()].reset_index(drop=True)
    rows[element_columns(rows)] = rows[element_columns(rows)].fillna(0.0)  # elements only one source has
    return rows


def make_featurizer(seed: int = DEFAULT_SEED, featurizer_params: dict | None = None, on_step=lambda _: None):
    """The default featurizer on cached property sub-models (trained once per settings);
    ``featurizer_params`` change its settings, e.g. smaller sub-models for a quick look.
    Every setting is checked before anything is trained."""
    params = dict(featurizer_params or {})
    unknown = sorted(set(params) - set(FEATURIZER_SETTINGS))
    if unknown:
        raise UserError(
            f"--featurizer-params: unknown setting {unknown[0]!r} (one of {', '.join(FEATURIZER_SETTINGS)})"
        )
    featurizer = _checked(GlassFeaturizer(n_folds=DEFAULT_FOLDS, random_state=seed), "--featurizer-params", params)
    known = CompositionPropertyRegressor().get_params()
    bad = sorted(set(featurizer.submodel_params or {}) - set(known))
    if bad:
        raise UserError(f"--featurizer-params: unknown sub-model setting {bad[0]!r} (one of {', '.join(known)})")
    path = cached_submodels(
        n_folds=featurizer.n_folds,
        params=featurizer.submodel_params,
        max_rows_per_table=featurizer.max_rows_per_table,
        random_state=seed,
        n_jobs=featurizer.n_jobs,
        on_step=on_step,
    )
    return featurizer.set_params(submodels=str(path))


def make_model(
    params: dict | None = None, seed: int = DEFAULT_SEED, featurizer_params: dict | None = None, on_step=lambda _: None
) -> NCEModel:
    """The default NCE model: cached sub-models, the point regressor's settings from
    ``params`` (its constructor arguments; ``backend`` picks the model family), the
    novelty-aware predictive distribution, all seeded."""
    unknown = sorted(set(params or {}) - set(BoostedRegressor().get_params()))
    if unknown:
        raise UserError(
            f"--params: unknown setting {unknown[0]!r} (one of {', '.join(BoostedRegressor().get_params())})"
        )
    regressor = _checked(BoostedRegressor(**{**DEFAULT_MODEL_PARAMS, "random_state": seed}), "--params", params)
    return NCEModel(
        featurizer=make_featurizer(seed, featurizer_params, on_step),
        regressor=regressor,
        domain=ApplicabilityDomain(random_state=seed),
        uncertainty=NormalizedConformal(random_state=seed),
    )


def _checked(estimator, option: str, params: dict | None = None):
    """``estimator`` with ``params`` set, its settings checked by its own parameter
    constraints before any work starts; a bad one is a one-line error naming ``option``."""
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        estimator.set_params(**(params or {}))
        estimator._validate_params()
    except (InvalidParameterError, ValueError) as exc:
        raise UserError(f"{option}: {exc}") from None
    return estimator


def grouped_cv_metrics(
    model: NCEModel, frame: pd.DataFrame, on_step: Callable[[str], None]
) -> tuple[dict, pd.DataFrame]:
    """Publication-grouped 5-fold CV of a clone of the fitted model, on its own (cross-fitted)
    training features."""
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(5).split(frame, groups=frame["KOD"].to_numpy()))
    oof = out_of_fold(
        frozen_clone(model),
        frame,
        folds,
        features=model.train_features_,
        on_fold=lambda k: on_step(f"cross-validating: fold {k + 1}/5"),
    )
    metrics = {}
    for target in TARGETS:
        y = frame[target].to_numpy(dtype=float)
        for key, value in regression_metrics(y, oof[target], oof[f"{target}_lo"], oof[f"{target}_hi"]).items():
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
        mlflow.log_params(
            {
                "seed": seed,
                "n_rows": len(frame),
                "extra_data": str(extra_data or ""),
                "only_extra": only_extra,
                **{f"model_{k}": v for k, v in model.regressor.get_params().items()},
            }
        )
        mlflow.set_tags(
            {
                "data_hash": digest,
                "embedded_data_sha256": read_manifest(PROCESSED_DIR)["tables"]["conductivity"]["sha256"],
            }
        )
        mlflow.log_input(
            mlflow.data.from_pandas(
                frame[["KOD", "composition", "log10_sigma25", "Ea_eV"]], name="conductivity", digest=digest[:16]
            ),
            context="training",
        )
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
                metrics, oof = grouped_cv_metrics(model, frame, on_step)
                mlflow.log_metrics(metrics)
                result["metrics"] = metrics
                fam = family(frame)
                for target in ("log10_sigma25", "Ea_eV"):
                    ok = oof[target].notna()
                    plots.parity_plot(
                        frame.loc[ok, target],
                        oof.loc[ok, target],
                        oof.loc[ok, f"{target}_lo"],
                        oof.loc[ok, f"{target}_hi"],
                        target,
                        tmp / f"parity_{target}.png",
                    )
                    plots.residuals_by_family(
                        oof.loc[ok, target] - frame.loc[ok, target],
                        fam[ok.to_numpy()],
                        target,
                        tmp / f"residuals_by_family_{target}.png",
                    )
            for target in TARGETS:
                imp = model.feature_importances(target)
                if imp is None:  # the sklearn family records no gain
                    continue
                plots.importance_plot(
                    model.feature_names_,
                    imp,
                    tmp / f"importance_{target}.png",
                    title=f"{target}: feature importance (gain)",
                )
                pd.DataFrame({"feature": model.feature_names_, "gain": imp}).sort_values(
                    "gain", ascending=False
                ).to_csv(tmp / f"importance_{target}.csv", index=False)
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
            model_dir = io.save(model, tmp / "nce_model")  # the pyfunc's artifact keeps this folder name
            if output:
                io.save(model, output)
            on_step("logging the model")
            from nce.pipelines import serving

            info = serving.log_pyfunc(model, model_dir, frame)
        result["model_uri"] = info.model_uri
        if register:
            result.update(serving.register_if_better(info.model_uri, run.info.run_id, result.get("metrics", {})))
    return result


# --- the default model shipped with the package ------------------------------------------------

#: Compositions and processing on which ``nce train --default-model --check`` compares a
#: rebuilt default model with the shipped one.
CHECK_PANEL = pd.DataFrame(
    {
        "composition": [
            "70Li2S-30P2S5",
            "80(0.7Li2S-0.3P2S5)-20LiI",
            "Li2.9PO3.3N0.46",
            "75Li2S-25P2S5",
            "50Li2O-50SiO2",
            "33Na2O-67SiO2",
            "50AgI-50AgPO3",
            "40Li2O-60P2O5",
            "(LiI)0.3 ((Li2S)0.3 ((Ga2S3)0.1 (GeS2)0.9)0.7)0.7",
            "70Li2S-30P2S5",
        ],
        "state": ["glass"] * 9 + ["glass_ceramic"],
        "heat_treatment_C": [None] * 9 + [300.0],
        "temperature_C": [25.0, 100.0, 25.0, -20.0, 300.0, 200.0, 25.0, 150.0, 60.0, 25.0],
    }
)
#: Largest difference (decades, eV, K, or the columns' units) a rebuilt default model may
#: show against the shipped one: training is seeded and single-machine deterministic, so
#: this only allows for floating-point differences between machines and library builds.
CHECK_TOLERANCE = 1e-3


def build_default_model(output: Path | None = None, on_step: Callable[[str], None] = lambda _: None) -> Path:
    """Train the default model (``make_model()``: default seed and settings, cached property
    sub-models) on the embedded SciGlass rows plus the literature's processing rows, without
    cross-validation or MLflow, and write it to ``output`` (default: the folder shipped with
    the package, ``nce.models.DEFAULT_MODEL_DIR``), replacing the old folder only once the
    new one is complete."""
    import nce.models

    output = Path(output) if output is not None else nce.models.DEFAULT_MODEL_DIR
    frame, _ = training_frame()
    model = make_model(on_step=on_step)
    on_step("featurizing and fitting the default model")
    model.fit(frame, data_hash=data_hash(frame))
    on_step("fitting the processing offsets")
    model.fit_processing(processing_rows())
    with atomic_directory(output, replace=True) as folder:
        io.save(model, folder)
    return output


#: Output columns compared row by row (a count of differing rows) rather than as numbers.
TEXT_COLUMNS = ("in_domain", "warning", "error")


def compare_models(a: NCEModel, b: NCEModel, panel: pd.DataFrame | None = None) -> dict:
    """Largest absolute difference per output column of ``nce predict`` between two models
    on :data:`CHECK_PANEL` (``in_domain``, ``warning`` and ``error``: the number of rows that differ)."""
    from nce.pipelines.predict import predict_frame

    panel = CHECK_PANEL if panel is None else panel
    pa, pb = predict_frame(a, panel), predict_frame(b, panel)
    diffs = {}
    for col in pa.columns:
        if col in panel.columns or col == "normalized_composition":
            continue
        if col in TEXT_COLUMNS:
            diffs[col] = float((pa[col].to_numpy() != pb[col].to_numpy()).sum())
            continue
        va, vb = pa[col].to_numpy(dtype=float), pb[col].to_numpy(dtype=float)
        both = np.isnan(va) & np.isnan(vb)
        diffs[col] = float(np.max(np.where(both, 0.0, np.abs(va - vb)), initial=0.0))
    return diffs


def check_default_model(on_step: Callable[[str], None] = lambda _: None, tolerance: float = CHECK_TOLERANCE) -> dict:
    """Rebuild the default model in a temporary folder and compare it with the shipped one:
    ``{"differences": column -> largest difference, "ok": all within tolerance}``."""
    from nce.pipelines.predict import load_model_folder, load_packaged_model

    shipped = load_packaged_model()
    with tempfile.TemporaryDirectory() as tmp:
        rebuilt = load_model_folder(build_default_model(Path(tmp) / "default", on_step))
        on_step("comparing predictions")
        diffs = compare_models(shipped, rebuilt)
    ok = all(v == 0 if k in TEXT_COLUMNS else v <= tolerance for k, v in diffs.items())
    return {"differences": diffs, "ok": ok, "tolerance": tolerance}
