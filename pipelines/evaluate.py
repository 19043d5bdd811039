"""``nce evaluate``: every protocol, every model and baseline, on the same rows and folds.

The model list is a list of estimators: NCE with its regressor families (xgboost and
scikit-learn's histogram boosting), NCE without the physics features (the ablation) and the
plain models on atomic fractions (mean, kNN, ridge, random forest, xgboost: the reference of
docs/design.md). Every one is scored by :func:`nce.pipelines.validation.out_of_fold`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone

from nce.data.noise_floor import composition_key
from nce.models.baselines import plain_models
from nce.models.nce_model import TARGETS, NCEModel
from nce.pipelines.errors import UserError
from nce.pipelines.metrics import regression_metrics
from nce.pipelines.protocols import PROTOCOLS, groups_for, splits
from nce.pipelines.validation import featurizer_of, frozen_features, out_of_fold


def default_models(nce: NCEModel, seed: int = 0) -> dict:
    """Every model ``nce evaluate`` compares, by name: the plain references, then NCE
    (``nce``, the served settings), its ablation and its second model family."""
    return {
        **plain_models(seed),
        "nce_xgb": nce,
        "nce_xgb_no_physics": _variant(nce, featurizer__physics=False),
        "nce_sklearn_hgb": _variant(nce, regressor__backend="sklearn"),
    }


def _variant(model: NCEModel, **params) -> NCEModel:
    return clone(model).set_params(**params)


def cross_validate(
    frame: pd.DataFrame,
    models: dict,
    protocols=PROTOCOLS,
    targets=TARGETS,
    on_step: Callable[[str], None] = lambda _: None,
) -> pd.DataFrame:
    """Out-of-fold predictions, one row per (protocol, target, model, tested glass).

    NCE models share one cross-fitted feature table per featurizer setting."""
    tables: dict[str, tuple] = {}
    prepared = {}
    for name, model in models.items():
        if isinstance(model, NCEModel):
            key = repr(sorted(featurizer_of(model).get_params().items()))
            if key not in tables:
                on_step(f"featurizing for {name} (sub-models cross-fitted by publication)")
                tables[key] = frozen_features(model, frame)
            frozen, features = tables[key]
            prepared[name] = (_variant(model, featurizer=frozen.get_params()["featurizer"]), features)
        else:
            prepared[name] = (model, None)
    records = []
    for protocol in protocols:
        groups = groups_for(frame, protocol)
        folds = list(splits(frame, protocol))
        for name, (model, features) in prepared.items():
            oof = out_of_fold(
                model,
                frame,
                folds,
                targets,
                groups=groups,
                features=features,
                on_fold=lambda k, label=f"{protocol} {name}", n=len(folds): on_step(f"{label} fold {k + 1}/{n}"),
            )
            for target in targets:
                y = frame[target].to_numpy(dtype=float)
                pred = oof[target].to_numpy()
                tested = np.flatnonzero(np.isfinite(y) & np.isfinite(pred))
                record = {
                    "protocol": protocol,
                    "target": target,
                    "model": name,
                    "row": tested,
                    "y": y[tested],
                    "pred": pred[tested],
                    "lo": oof[f"{target}_lo"].to_numpy()[tested],
                    "hi": oof[f"{target}_hi"].to_numpy()[tested],
                }
                if "novelty" in oof:
                    record.update(
                        novelty=oof["novelty"].to_numpy()[tested], in_domain=oof["in_domain"].to_numpy()[tested]
                    )
                records.append(pd.DataFrame(record))
    return pd.concat(records, ignore_index=True)


#: The NCE model whose applicability domain and novelty define the conditional slices for every model.
DOMAIN_REFERENCE = "nce_xgb"
N_NOVELTY_BINS = 10


def _fixed_slices(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Slices defined by the glass: all, Li-S, mobile ion, anion family, sigma25 source."""
    li = frame["Li"].to_numpy() if "Li" in frame else np.zeros(len(frame))
    s = frame["S"].to_numpy() if "S" in frame else np.zeros(len(frame))
    slices = {"all": np.ones(len(frame), dtype=bool), "Li-S glasses": (li > 0) & (s > 0)}
    for ion in ("Li", "Na", "K", "Ag", "Cu"):
        slices[f"mobile {ion}"] = frame["mobile_ion"].to_numpy() == ion
    if "anion_family" in frame:
        for anion in sorted(frame["anion_family"].dropna().astype(str).unique()):
            slices[f"anion {anion}"] = frame["anion_family"].astype(str).to_numpy() == anion
    for source in ("interpolated", "extrapolated", "from_20C"):
        slices[f"source {source}"] = frame["sigma25_source"].to_numpy() == source
    return slices


def _domain_slices(reference: pd.DataFrame, n_rows: int) -> dict[str, np.ndarray]:
    """Inside / outside the reference model's out-of-fold domain and its novelty deciles
    (rows of one protocol and target)."""
    rows = reference["row"].to_numpy()
    inside = np.zeros(n_rows, dtype=bool)
    inside[rows] = reference["in_domain"].to_numpy() == 1
    outside = np.zeros(n_rows, dtype=bool)
    outside[rows] = reference["in_domain"].to_numpy() == 0
    slices = {"in NCE's domain": inside, "outside NCE's domain": outside}
    novelty = reference["novelty"].to_numpy(dtype=float)
    edges = np.quantile(novelty, np.linspace(0, 1, N_NOVELTY_BINS + 1))
    decile = np.clip(np.searchsorted(edges, novelty, side="right") - 1, 0, N_NOVELTY_BINS - 1)
    for k in range(N_NOVELTY_BINS):
        mask = np.zeros(n_rows, dtype=bool)
        mask[rows[decile == k]] = True
        slices[f"novelty decile {k + 1}"] = mask
    return slices


def summarize(oof: pd.DataFrame, frame: pd.DataFrame, domain_reference: str = DOMAIN_REFERENCE) -> pd.DataFrame:
    """Metrics per protocol, target, model and slice: all, Li-S, mobile ion, anion family,
    sigma25 source and, where ``domain_reference`` was evaluated, inside/outside its
    out-of-fold domain and by decile of its novelty (the same rows for every model)."""
    fixed = _fixed_slices(frame)
    has_domain = "in_domain" in oof and (oof["model"] == domain_reference).any()
    rows = []
    for (protocol, target), group in oof.groupby(["protocol", "target"], sort=False):
        slices = dict(fixed)
        if has_domain:
            slices.update(_domain_slices(group[group["model"] == domain_reference], len(frame)))
        for model, part in group.groupby("model", sort=False):
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


def conditional_table(summary: pd.DataFrame, model: str = DOMAIN_REFERENCE) -> str:
    """Markdown: ``model``'s interval coverage, median width and interval score by slice."""
    part = summary[(summary["model"] == model) & summary["coverage"].notna()] if "coverage" in summary else summary[:0]
    lines = [
        "| protocol | target | slice | n | coverage | median width | interval score | MAE |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in part.itertuples():
        lines.append(
            f"| {r.protocol} | {r.target} | {r.slice} | {r.n} | {r.coverage:.3f} | {r.median_width:.3f} "
            f"| {r.interval_score:.3f} | {r.mae:.3f} |"
        )
    return "\n".join(lines)


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


def markdown_table(summary: pd.DataFrame, slice_name: str = "all") -> str:
    part = summary[summary["slice"] == slice_name]
    cols = [
        "protocol",
        "target",
        "model",
        "n",
        "mae",
        "median_ae",
        "rmse",
        "r2",
        "spearman",
        "within",
        "coverage",
        "width",
    ]
    part = part[[c for c in cols if c in part.columns]]
    lines = ["| " + " | ".join(part.columns) + " |", "|" + "---|" * len(part.columns)]
    for _, row in part.iterrows():
        cells = [
            f"{v:.3f}" if isinstance(v, float) and np.isfinite(v) else ("" if isinstance(v, float) else str(v))
            for v in row
        ]
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
    from nce.pipelines.train import data_hash, make_model, training_frame

    # the served model's settings unless told otherwise, so the figures are the served model's
    frame, _ = training_frame()
    if max_rows is not None and max_rows < len(frame):
        frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    nce = make_model(model_params, seed, featurizer_params, on_step)
    candidates = default_models(nce, seed)
    unknown = [m for m in (models or []) if m not in candidates]
    if unknown:
        raise UserError(f"unknown model {unknown[0]!r}; choose from {', '.join(candidates)}")
    chosen = {name: m for name, m in candidates.items() if models is None or name in models}
    experiment_id = tracking.setup()
    with mlflow.start_run(experiment_id=experiment_id, run_name="evaluate") as run:
        mlflow.log_params(
            {
                "seed": seed,
                "protocols": ",".join(protocols),
                "models": ",".join(chosen),
                "n_rows": len(frame),
                **{f"model_{k}": v for k, v in nce.regressor.get_params().items()},
            }
        )
        mlflow.set_tag("data_hash", data_hash(frame))
        oof = cross_validate(frame, chosen, protocols=protocols, on_step=on_step)
        summary = summarize(oof, frame)
        multi = {}
        if "publication" in protocols and "nce_xgb" in chosen:
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
        return {
            "run_id": run.info.run_id,
            "summary": summary,
            "multi_publication": multi,
            "n_rows": len(frame),
            "oof": oof,
        }
