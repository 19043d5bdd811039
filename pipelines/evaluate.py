"""``nce evaluate``: every protocol, every model and baseline, on the same rows and folds.

The table says what each part buys: the plain reference (xgboost on atomic fractions, the
DESIGN.md baseline), simple baselines, NCE's two model families, and NCE without the
physics features (the ablation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nce.data.noise_floor import composition_key
from nce.models.conformal import ConformalGBMRegressor
from nce.pipelines.metrics import regression_metrics
from nce.pipelines.protocols import PROTOCOLS, groups_for, splits

TARGETS = ("log10_sigma25", "Ea_eV")


@dataclass(frozen=True)
class ModelSpec:
    """A named model: which feature set it reads and how to build a fresh estimator."""

    name: str
    features: str  # "atoms", "nce", "nce_no_physics"
    make: Callable[[], object]
    conformal: bool = False


def _imputed(estimator):
    from sklearn.impute import SimpleImputer

    return make_pipeline(SimpleImputer(strategy="median"), estimator)


def default_specs(nce_params: dict | None = None, seed: int = 0) -> list[ModelSpec]:
    params = dict(nce_params or {})
    params.setdefault("random_state", seed)
    return [
        ModelSpec("mean", "atoms", lambda: DummyRegressor()),
        ModelSpec("knn", "atoms", lambda: KNeighborsRegressor(n_neighbors=5, weights="distance")),
        ModelSpec("ridge", "nce", lambda: _imputed(make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13))))),
        ModelSpec("random_forest", "atoms", lambda: RandomForestRegressor(n_estimators=200, max_features=0.33, min_samples_leaf=2, n_jobs=2, random_state=seed)),
        ModelSpec("reference_xgb_atoms", "atoms", lambda: __import__("xgboost").XGBRegressor(tree_method="hist", n_jobs=2, random_state=seed)),
        ModelSpec("nce_xgb", "nce", lambda: ConformalGBMRegressor(backend="xgboost", **params), conformal=True),
        ModelSpec("nce_xgb_no_physics", "nce_no_physics", lambda: ConformalGBMRegressor(backend="xgboost", **params), conformal=True),
        ModelSpec("nce_sklearn_hgb", "nce", lambda: ConformalGBMRegressor(backend="sklearn", **{k: v for k, v in params.items() if k != "n_jobs"}), conformal=True),
    ]


def fit_spec(spec: ModelSpec, X, y, groups):
    model = spec.make()
    if spec.conformal:
        return model.fit(X, y, groups=groups)
    return model.fit(X, y)


def cross_validate(
    frame: pd.DataFrame,
    feature_sets: dict[str, pd.DataFrame],
    specs: list[ModelSpec],
    protocols=PROTOCOLS,
    targets=TARGETS,
    on_step: Callable[[str], None] = lambda _: None,
) -> pd.DataFrame:
    """Out-of-fold predictions, one row per (protocol, target, model, glass)."""
    records = []
    for protocol in protocols:
        groups = groups_for(frame, protocol)
        folds = list(splits(frame, protocol))
        for target in targets:
            y = frame[target].to_numpy(dtype=float)
            for spec in specs:
                X = feature_sets[spec.features].to_numpy(dtype=np.float32)
                pred = np.full(len(y), np.nan)
                lo = np.full(len(y), np.nan)
                hi = np.full(len(y), np.nan)
                for k, (train, test) in enumerate(folds):
                    on_step(f"{protocol} {target} {spec.name} fold {k + 1}/{len(folds)}")
                    train = train[np.isfinite(y[train])]
                    test = test[np.isfinite(y[test])]
                    model = fit_spec(spec, X[train], y[train], groups[train])
                    pred[test] = model.predict(X[test])
                    if spec.conformal:
                        lo[test], hi[test] = model.predict_interval(X[test])
                tested = np.isfinite(pred)
                records.append(
                    pd.DataFrame(
                        {
                            "protocol": protocol,
                            "target": target,
                            "model": spec.name,
                            "row": np.flatnonzero(tested),
                            "y": y[tested],
                            "pred": pred[tested],
                            "lo": lo[tested],
                            "hi": hi[tested],
                        }
                    )
                )
    return pd.concat(records, ignore_index=True)


def summarize(oof: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Metrics per protocol, target, model and slice (all, by mobile ion, by source, Li-S)."""
    li = frame["Li"].to_numpy() if "Li" in frame else np.zeros(len(frame))
    s = frame["S"].to_numpy() if "S" in frame else np.zeros(len(frame))
    slices = {
        "all": np.ones(len(frame), dtype=bool),
        "Li-S glasses": (li > 0) & (s > 0),
    }
    for ion in ("Li", "Na", "K", "Ag", "Cu"):
        slices[f"mobile {ion}"] = frame["mobile_ion"].to_numpy() == ion
    for source in ("interpolated", "extrapolated", "from_20C"):
        slices[f"source {source}"] = frame["sigma25_source"].to_numpy() == source
    rows = []
    for (protocol, target, model), part in oof.groupby(["protocol", "target", "model"], sort=False):
        r = part["row"].to_numpy()
        for name, mask in slices.items():
            sel = mask[r]
            if not sel.any():
                continue
            lo = part["lo"].to_numpy()[sel]
            has_interval = np.isfinite(lo).all()
            m = regression_metrics(
                part["y"].to_numpy()[sel],
                part["pred"].to_numpy()[sel],
                lo if has_interval else None,
                part["hi"].to_numpy()[sel] if has_interval else None,
                within=1.0 if target == "log10_sigma25" else 0.1,
            )
            rows.append({"protocol": protocol, "target": target, "model": model, "slice": name, **m})
    return pd.DataFrame(rows)


def multi_publication_comparison(oof: pd.DataFrame, frame: pd.DataFrame, target: str, model: str) -> dict[str, float]:
    """The model's error on compositions measured by >= 2 publications, next to the noise floor.

    Both are scored per (composition, publication) pair: the floor as |value - mean of the
    other publications|, the model as |out-of-fold prediction - value| (publication protocol).
    """
    part = oof[(oof["protocol"] == "publication") & (oof["target"] == target) & (oof["model"] == model)]
    sub = frame.iloc[part["row"].to_numpy()].assign(pred=part["pred"].to_numpy(), y=part["y"].to_numpy())
    sub = sub.assign(composition_key=composition_key(sub))
    per_pub = sub.groupby(["composition_key", "KOD"]).agg(y=("y", "mean"), pred=("pred", "mean")).reset_index()
    stats = per_pub.groupby("composition_key")["y"].agg(["sum", "count"])
    per_pub = per_pub.join(stats, on="composition_key")
    per_pub = per_pub[per_pub["count"] >= 2]
    others = (per_pub["sum"] - per_pub["y"]) / (per_pub["count"] - 1)
    return {
        "n_pairs": int(len(per_pub)),
        "noise_floor_mae": float((per_pub["y"] - others).abs().mean()),
        "model_mae": float((per_pub["pred"] - per_pub["y"]).abs().mean()),
    }


def feature_sets(frame: pd.DataFrame, featurizer) -> dict[str, pd.DataFrame]:
    """The three inputs models read: atomic fractions, NCE's features, NCE without physics."""
    from nce.data.schema import element_columns
    from nce.featurize.glass_chemistry import GlassChemistry
    from nce.featurize.physics import PHYSICS_FEATURES
    from nce.models.nce_model import measurement_features

    nce = pd.concat([featurizer.fit_transform(frame, groups=frame["KOD"].to_numpy()).set_axis(frame.index), measurement_features(frame)], axis=1)
    physics = set(GlassChemistry().feature_labels()) | set(PHYSICS_FEATURES)
    return {
        "atoms": frame[element_columns(frame)],
        "nce": nce,
        "nce_no_physics": nce[[c for c in nce.columns if c not in physics]],
    }


def markdown_table(summary: pd.DataFrame, slice_name: str = "all") -> str:
    part = summary[summary["slice"] == slice_name]
    cols = ["protocol", "target", "model", "n", "mae", "median_ae", "rmse", "r2", "spearman", "within", "coverage", "width"]
    part = part[[c for c in cols if c in part.columns]]
    lines = ["| " + " | ".join(part.columns) + " |", "|" + "---|" * len(part.columns)]
    for _, row in part.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) and np.isfinite(v) else ("" if isinstance(v, float) else str(v)) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_evaluation(
    protocols=PROTOCOLS,
    models: list[str] | None = None,
    seed: int = 0,
    max_rows: int | None = None,
    model_params: dict | None = None,
    featurizer_params: dict | None = None,
    on_step: Callable[[str], None] = lambda _: None,
) -> dict:
    """Cross-validate every model under every protocol and log one MLflow run."""
    import tempfile
    from pathlib import Path

    import mlflow

    from nce.pipelines import tracking
    from nce.pipelines.train import DEFAULT_MODEL_PARAMS, data_hash, make_featurizer, training_frame

    # the served model's settings unless told otherwise, so the figures are the served model's
    model_params = {**DEFAULT_MODEL_PARAMS, **(model_params or {})}
    frame, _ = training_frame()
    if max_rows is not None and max_rows < len(frame):
        frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    specs = [s for s in default_specs(model_params, seed) if models is None or s.name in models]
    experiment_id = tracking.setup()
    with mlflow.start_run(experiment_id=experiment_id, run_name="evaluate") as run:
        mlflow.log_params({"seed": seed, "protocols": ",".join(protocols), "models": ",".join(s.name for s in specs),
                           "n_rows": len(frame), **{f"model_{k}": v for k, v in (model_params or {}).items()}})
        mlflow.set_tag("data_hash", data_hash(frame))
        on_step("featurizing (sub-models cross-fitted by publication)")
        sets = feature_sets(frame, make_featurizer(seed, featurizer_params, on_step))
        oof = cross_validate(frame, sets, specs, protocols=protocols, on_step=on_step)
        summary = summarize(oof, frame)
        multi = {}
        if "publication" in protocols and any(s.name == "nce_xgb" for s in specs):
            for target in TARGETS:
                multi[target] = multi_publication_comparison(oof, frame, target, "nce_xgb")
        for _, r in summary[summary["slice"].isin(["all", "Li-S glasses"])].iterrows():
            key = f"{r['protocol']}.{r['target']}.{r['model']}.{r['slice'].replace(' ', '_').replace('-', '')}"
            for metric in ("mae", "coverage", "width", "r2"):
                if metric in r and pd.notna(r[metric]):
                    mlflow.log_metric(f"{key}.{metric}", float(r[metric]))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            summary.to_csv(tmp / "summary.csv", index=False)
            oof.to_csv(tmp / "oof_predictions.csv.gz", index=False)
            (tmp / "summary.md").write_text(markdown_table(summary))
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        return {"run_id": run.info.run_id, "summary": summary, "multi_publication": multi, "n_rows": len(frame), "oof": oof}
