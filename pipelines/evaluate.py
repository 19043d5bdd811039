"""``nce evaluate``: every protocol, every model and baseline, on the same rows and folds.

The model list is a list of estimators: NCE with its regressor families (xgboost and
scikit-learn's histogram boosting), NCE without the physics features (the ablation) and the
plain models on atomic fractions (mean, kNN, ridge, random forest, xgboost: the reference of
docs/design.md). Every one is scored by :func:`nce.pipelines.validation.out_of_fold`.

The baseline of every comparison is the best plain model of each protocol, target and slice
(:func:`with_best_plain`), not one fixed reference. Rows flagged by curation are scored out of
fold (never trained on) in their own slice and in no other (docs/design.md, "Evaluation
protocols and slices").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone

from nce.data.curation import FAST_ION_LOG10_SIGMA25, OTHER_LABS_MAX_DEVIATION_DECADES
from nce.data.datasets import curation_flags
from nce.data.noise_floor import composition_key
from nce.models.baselines import plain_models
from nce.models.conformal import ConformalGBMRegressor
from nce.models.nce_model import FROM_REGRESSOR, TARGETS, NCEModel
from nce.pipelines.errors import UserError
from nce.pipelines.metrics import regression_metrics
from nce.pipelines.protocols import N_SPLITS, PROTOCOLS, groups_for, splits
from nce.pipelines.validation import featurizer_of, frozen_features, out_of_fold, quantile_column


def default_models(nce: NCEModel, seed: int = 0) -> dict:
    """Every model ``nce evaluate`` compares, by name: the plain references, then NCE
    (``nce``, the served settings), the same point model with the constant-margin interval it
    served before its intervals learned novelty (``nce_xgb_cqr``, the interval baseline), and
    NCE's ablation and second model family (with that cheaper interval: they are there for
    their point accuracy)."""

    def cqr(**regressor_params):
        params = {**nce.regressor.get_params(), **regressor_params}
        return {"regressor": ConformalGBMRegressor(**params), "uncertainty": FROM_REGRESSOR}

    return {
        **plain_models(seed),
        "nce_xgb": nce,
        "nce_xgb_cqr": _variant(nce, **cqr()),
        "nce_xgb_no_physics": _variant(nce, featurizer__physics=False, **cqr()),
        "nce_sklearn_hgb": _variant(nce, **cqr(backend="sklearn")),
    }


def _variant(model: NCEModel, **params) -> NCEModel:
    return clone(model).set_params(**params)


def cross_validate(
    frame: pd.DataFrame,
    models: dict,
    protocols=PROTOCOLS,
    targets=TARGETS,
    on_step: Callable[[str], None] = lambda _: None,
    levels: tuple[float, ...] = (),
) -> pd.DataFrame:
    """Out-of-fold predictions, one row per (protocol, target, model, tested glass), with the
    predictive distribution's quantiles at ``levels`` (columns ``q<level>``) where a model has one.

    NCE models share one cross-fitted feature table per featurizer setting. Rows flagged by
    curation (:func:`nce.data.datasets.curation_flags`) are never trained on; each is predicted
    in the fold of its group (:func:`nce.pipelines.protocols.splits`)."""
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
    flagged = curation_flags(frame)
    for protocol in protocols:
        groups = groups_for(frame, protocol)
        folds = list(splits(frame, protocol, scored_only=flagged))
        for name, (model, features) in prepared.items():
            oof = out_of_fold(
                model,
                frame,
                folds,
                targets,
                groups=groups,
                features=features,
                on_fold=lambda k, label=f"{protocol} {name}", n=len(folds): on_step(f"{label} fold {k + 1}/{n}"),
                levels=levels,
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
                for q in levels:
                    record[f"q{q:g}"] = oof[quantile_column(target, q)].to_numpy()[tested]
                records.append(pd.DataFrame(record))
    return pd.concat(records, ignore_index=True)


#: The NCE model whose applicability domain and novelty define the conditional slices for every model.
DOMAIN_REFERENCE = "nce_xgb"
N_NOVELTY_BINS = 10
#: The plain models on atomic fractions; the best of them per slice is every comparison's baseline.
PLAIN_MODELS = tuple(plain_models())
#: Rows curation flagged: scored out of fold, never trained on, in no other slice.
FLAGGED_SLICE = "flagged by curation"
#: The slices logged to MLflow (slice -> metric key) and shown first by the accuracy benchmark.
HEADLINE_SLICES = {
    "all": "all",
    "Li and S (any anion)": "Li_and_S",
    "sulfide glasses (no O)": "sulfide_no_O",
    "Li and S, no O": "Li_and_S_no_O",
    "Li sulfide glasses (no O)": "Li_sulfide_no_O",
    FLAGGED_SLICE: "flagged",
}


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float) if name in frame else np.zeros(len(frame))


def _fixed_slices(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Slices defined by the glass: all, the sulfide slices, mobile ion, anion family, sigma25
    source (curated rows only), and the rows flagged by curation.

    "Li and S (any anion)": Li > 0 and S > 0, sulfates such as Li2SO4-Li2O-P2O5 included;
    "sulfide glasses (no O)": anion family sulfide (S the only anion above 5 % of the anions,
    :func:`nce.data.curation.anion_family`) and no oxygen at all; "Li and S, no O": Li > 0,
    S > 0, O = 0 (Li2S-based glasses, LiI-, LiBr- and LiCl-doped ones included);
    "Li sulfide glasses (no O)": Li > 0 in a sulfide glass without oxygen.
    """
    li, s, o = (_column(frame, e) for e in ("Li", "S", "O"))
    anion = frame["anion_family"].astype(str).to_numpy() if "anion_family" in frame else np.full(len(frame), "")
    sulfide = (anion == "sulfide") & (o == 0)
    slices = {
        "all": np.ones(len(frame), dtype=bool),
        "Li and S (any anion)": (li > 0) & (s > 0),
        "sulfide glasses (no O)": sulfide,
        "Li and S, no O": (li > 0) & (s > 0) & (o == 0),
        "Li sulfide glasses (no O)": sulfide & (li > 0),
    }
    for ion in ("Li", "Na", "K", "Ag", "Cu"):
        slices[f"mobile {ion}"] = frame["mobile_ion"].to_numpy() == ion
    if "anion_family" in frame:
        for family_name in sorted(frame["anion_family"].dropna().astype(str).unique()):
            slices[f"anion {family_name}"] = anion == family_name
    for source in ("interpolated", "extrapolated", "from_20C"):
        slices[f"source {source}"] = frame["sigma25_source"].to_numpy() == source
    flagged = curation_flags(frame)
    slices = {name: mask & ~flagged for name, mask in slices.items()}
    slices[FLAGGED_SLICE] = flagged
    for column, name in (
        ("suspect_fast_ion", f"flagged: sigma25 above 10^{FAST_ION_LOG10_SIGMA25:g} S/cm"),
        ("disagrees_with_other_labs", f"flagged: > {OTHER_LABS_MAX_DEVIATION_DECADES:g} decades from other labs"),
    ):
        if column in frame:
            slices[name] = frame[column].eq(True).to_numpy()
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
    """Metrics per protocol, target, model and slice: all, the sulfide slices, mobile ion,
    anion family, sigma25 source and, where ``domain_reference`` was evaluated, inside/outside
    its out-of-fold domain and by decile of its novelty (the same rows for every model); rows
    flagged by curation only in :data:`FLAGGED_SLICE` (and its two sub-slices). Each row also
    names the best plain model of its slice (:func:`with_best_plain`)."""
    fixed = _fixed_slices(frame)
    flagged = curation_flags(frame)
    has_domain = "in_domain" in oof and (oof["model"] == domain_reference).any()
    rows = []
    for (protocol, target), group in oof.groupby(["protocol", "target"], sort=False):
        slices = dict(fixed)
        if has_domain:
            reference = group[group["model"] == domain_reference]
            reference = reference[~flagged[reference["row"].to_numpy()]]
            slices.update(_domain_slices(reference, len(frame)))
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
    return with_best_plain(pd.DataFrame(rows))


def with_best_plain(summary: pd.DataFrame, plain=PLAIN_MODELS) -> pd.DataFrame:
    """``summary`` with, per protocol, target and slice, the plain model of lowest MAE
    (``best_plain``, ``best_plain_mae``) and each model's MAE over it (``vs_best_plain``;
    NaN where no plain model was scored)."""
    if summary.empty:
        return summary
    key = ["protocol", "target", "slice"]
    out = summary.drop(columns=["best_plain", "best_plain_mae", "vs_best_plain"], errors="ignore")
    candidates = out[out["model"].isin(plain) & out["mae"].notna()]
    best = candidates.loc[candidates.groupby(key, sort=False)["mae"].idxmin(), [*key, "model", "mae"]]
    best = best.rename(columns={"model": "best_plain", "mae": "best_plain_mae"})
    out = out.merge(best, on=key, how="left")
    return out.assign(vs_best_plain=out["mae"] / out["best_plain_mae"])


def best_plain_table(summary: pd.DataFrame, model: str = DOMAIN_REFERENCE, slices=tuple(HEADLINE_SLICES)) -> str:
    """Markdown: per protocol, target and slice, ``model``'s MAE, the best plain model and the ratio."""
    part = summary[(summary["model"] == model) & summary["slice"].isin(slices)]
    order = {name: k for k, name in enumerate(slices)}
    first = {column: {v: k for k, v in enumerate(pd.unique(part[column]))} for column in ("protocol", "target")}
    part = part.assign(
        _protocol=part["protocol"].map(first["protocol"]),
        _target=part["target"].map(first["target"]),
        _slice=part["slice"].map(order),
    ).sort_values(["_protocol", "_target", "_slice"], kind="stable")
    lines = [
        f"| protocol | target | slice | n | {model} MAE | best plain model | its MAE | ratio |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    for r in part.itertuples():
        best = r.best_plain if isinstance(r.best_plain, str) else ""
        lines.append(
            f"| {r.protocol} | {r.target} | {r.slice} | {r.n} | {r.mae:.3f} | {best} | {r.best_plain_mae:.3f} "
            f"| {r.vs_best_plain:.3f} |"
        )
    return "\n".join(lines)


def ablation_table(
    summary: pd.DataFrame, model: str = "nce_xgb_cqr", ablation: str = "nce_xgb_no_physics", slice_name: str = "all"
) -> str:
    """Markdown: per protocol and target, ``model``'s MAE and ``ablation``'s (the same model
    without the physics features: same regressor, same interval, same folds) and what the
    features buy (ablation minus model, decades or eV; positive: they help)."""
    part = summary[summary["slice"] == slice_name].set_index(["protocol", "target", "model"])["mae"]
    header = f"| protocol | target | {model} MAE | {ablation} MAE | the physics features buy |"
    lines = [header, "|---|---|---:|---:|---:|"]
    for protocol, target in dict.fromkeys((p, t) for p, t, _ in part.index):
        if (protocol, target, model) in part and (protocol, target, ablation) in part:
            with_, without = part[protocol, target, model], part[protocol, target, ablation]
            lines.append(f"| {protocol} | {target} | {with_:.3f} | {without:.3f} | {without - with_:+.3f} |")
    return "\n".join(lines)


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


def multi_publication_comparison(oof: pd.DataFrame, frame: pd.DataFrame, target: str) -> dict:
    """Every model's error on compositions measured by >= 2 publications, next to the noise floor.

    Scored per (composition, publication) pair: the floor as |value - mean of the other
    publications|, each model as |out-of-fold prediction - value| (publication protocol), on
    the curated rows (the floor's rows: rows flagged by curation left out). Returns
    ``n_pairs``, ``noise_floor_mae`` and ``model_mae`` (model name -> MAE on the same pairs).
    """
    part = oof[(oof["protocol"] == "publication") & (oof["target"] == target)]
    part = part[~curation_flags(frame)[part["row"].to_numpy()]]
    keys = frame[["KOD"]].assign(composition_key=composition_key(frame))
    out: dict = {"model_mae": {}}
    for model, rows in part.groupby("model", sort=False):
        sub = keys.iloc[rows["row"].to_numpy()].assign(pred=rows["pred"].to_numpy(), y=rows["y"].to_numpy())
        per_pub = sub.groupby(["composition_key", "KOD"]).agg(y=("y", "mean"), pred=("pred", "mean")).reset_index()
        stats = per_pub.groupby("composition_key")["y"].agg(["sum", "count"])
        per_pub = per_pub.join(stats, on="composition_key")
        per_pub = per_pub[per_pub["count"] >= 2]
        others = (per_pub["sum"] - per_pub["y"]) / (per_pub["count"] - 1)
        out["n_pairs"] = int(len(per_pub))
        out["noise_floor_mae"] = float((per_pub["y"] - others).abs().mean())
        out["model_mae"][str(model)] = float((per_pub["pred"] - per_pub["y"]).abs().mean())
    return out


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
        "vs_best_plain",
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


def evaluation_frame(seed: int = 0, max_rows: int | None = None) -> tuple[pd.DataFrame, int]:
    """The training rows, then the rows curation flagged (scored, never trained on), and the
    number of training rows. ``max_rows`` samples the training rows as ``nce train`` would see
    them and the flagged rows at the same rate."""
    from nce.data.datasets import flagged_conductivity
    from nce.data.schema import element_columns
    from nce.pipelines.train import training_frame

    frame, _ = training_frame()
    flagged = flagged_conductivity()
    if max_rows is not None and max_rows < len(frame):
        n_flagged = round(len(flagged) * max_rows / len(frame))
        frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
        flagged = flagged.sample(n=n_flagged, random_state=seed)
    n_training = len(frame)
    frame = pd.concat([frame, flagged], ignore_index=True, sort=False)
    frame[element_columns(frame)] = frame[element_columns(frame)].fillna(0.0)
    frame["KOD"] = frame["KOD"].astype(str)
    return frame, n_training


def run_evaluation(
    protocols=PROTOCOLS,
    models: list[str] | None = None,
    seed: int = 0,
    max_rows: int | None = None,
    model_params: dict | None = None,
    featurizer_params: dict | None = None,
    on_step: Callable[[str], None] = lambda _: None,
    levels: tuple[float, ...] = (),
) -> dict:
    """Cross-validate every model under every protocol and log one MLflow run (``levels``:
    quantiles of the predictive distributions to keep, see :func:`cross_validate`).

    The rows flagged by curation are predicted out of fold and reported as their own slice;
    ``n_rows`` counts the training rows, ``n_flagged`` the flagged ones, and
    ``near_duplicates_dropped`` the chemical-system protocol's dropped training rows (count,
    share of its training rows)."""
    import tempfile
    from pathlib import Path

    import mlflow

    from nce.pipelines import tracking
    from nce.pipelines.train import data_hash, make_model

    frame, n_training = evaluation_frame(seed, max_rows)
    flagged = curation_flags(frame)
    # the served model's settings unless told otherwise, so the figures are the served model's
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
                "n_rows": n_training,
                "n_flagged_rows": int(flagged.sum()),
                **{f"model_{k}": v for k, v in nce.regressor.get_params().items()},
            }
        )
        mlflow.set_tag("data_hash", data_hash(frame.iloc[:n_training]))
        near = None
        if "chemical_system" in protocols:
            kept = sum(len(train) for train, _ in splits(frame, "chemical_system", scored_only=flagged))
            before = (N_SPLITS - 1) * int((~flagged).sum())
            near = (before - kept, (before - kept) / before)
            mlflow.log_metric("chemical_system.near_duplicates_dropped_share", near[1])
        oof = cross_validate(frame, chosen, protocols=protocols, on_step=on_step, levels=levels)
        summary = summarize(oof, frame)
        multi = {}
        if "publication" in protocols:
            for target in TARGETS:
                multi[target] = multi_publication_comparison(oof, frame, target)
        for _, r in summary[summary["slice"].isin(list(HEADLINE_SLICES))].iterrows():
            key = f"{r['protocol']}.{r['target']}.{r['model']}.{HEADLINE_SLICES[r['slice']]}"
            for metric in ("mae", "coverage", "width", "r2", "vs_best_plain"):
                if metric in r and pd.notna(r[metric]):
                    mlflow.log_metric(f"{key}.{metric}", float(r[metric]))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            summary.to_csv(tmp / "summary.csv", index=False)
            oof.to_csv(tmp / "oof_predictions.csv.gz", index=False)
            (tmp / "summary.md").write_text(markdown_table(summary))
            if DOMAIN_REFERENCE in chosen:
                (tmp / "best_plain.md").write_text(best_plain_table(summary))
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        return {
            "run_id": run.info.run_id,
            "summary": summary,
            "multi_publication": multi,
            "n_rows": n_training,
            "n_flagged": int(flagged.sum()),
            "near_duplicates_dropped": near,
            "oof": oof,
        }
