"""``nce report``: one self-contained HTML page with the figures a paper would show.

Sections: the dataset (counts by family, target distributions), out-of-fold parity plots
with interval bars for both targets, the calibration curve, residuals by chemical family,
feature importance and a TreeSHAP summary, Ea against 1/(Tg m) with the Wilkinson et al.
(2020) relation, and the latest active-learning campaign (``nce suggest`` runs).

Speed: the out-of-fold estimate refits the model's own boosting settings in a
publication-grouped k-fold on a random sample of the training glasses (default 2,000),
featurized by the model's fitted featurizer; a full cross-validation is ``nce train``'s and
``nce evaluate``'s job. Images are embedded as base64 PNG; the same files, the page and
the tables are logged to one MLflow run named ``report``.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.files import write_text_atomic
from nce.models.nce_model import TARGETS, quantile_column
from nce.pipelines.errors import UserError
from nce.pipelines.figures import CALIBRATION_QUANTILES
from nce.pipelines.validation import frozen_clone, out_of_fold

DEFAULT_SAMPLE = 2000
DEFAULT_FOLDS = 5
SHAP_ROWS = 500
#: Steps of the report besides the 2 x folds cross-validation fits; ``on_step(message, advance)``
#: is called once per step (advance 1) and for sub-steps of loading the model (advance 0).
STEPS = (
    "loading the model",
    "featurizing the sample",
    "SHAP and importances",
    "drawing the figures",
    "reading the latest suggest campaign",
    "writing the page and the MLflow run",
)


def n_steps(n_folds: int = 5) -> int:
    """Progress total of :func:`run_report`."""
    return len(STEPS) + n_folds


def oof_predictions(
    model, frame: pd.DataFrame, X: pd.DataFrame, n_folds: int, seed: int, on_fold=lambda k: None
) -> pd.DataFrame:
    """Publication-grouped out-of-fold predictions, 90 % intervals and the predictive
    distribution's quantiles at :data:`~nce.pipelines.figures.CALIBRATION_QUANTILES` of both
    targets, refitting a clone of the model (same settings, seeded) on the other folds'
    features ``X`` (made by the model's fitted featurizer)."""
    from sklearn.model_selection import GroupKFold

    groups = frame["KOD"].astype(str).to_numpy()
    if len(np.unique(groups)) < n_folds:
        raise UserError(f"the sample holds {len(np.unique(groups))} publications, fewer than {n_folds} folds")
    template = frozen_clone(model)
    if template.regressor is not None and "random_state" in template.regressor.get_params():
        template.set_params(regressor__random_state=seed)
    folds = list(GroupKFold(n_folds).split(frame, groups=groups))
    return out_of_fold(
        template, frame, folds, TARGETS, groups=groups, features=X, on_fold=on_fold, levels=CALIBRATION_QUANTILES
    )


def latest_campaign(experiment_id: str) -> dict | None:
    """The newest ``suggest`` run, its suggestions and the rounds of the same space (or of
    the same candidate file, by name, for ``--candidates`` rounds)."""
    import mlflow

    runs = mlflow.search_runs(
        [experiment_id], filter_string="tags.mlflow.runName = 'suggest'", order_by=["attributes.start_time DESC"]
    )
    if runs.empty:
        return None
    latest = runs.iloc[0]
    kind = next((k for k in ("space", "candidates") if pd.notna(latest.get(f"params.{k}"))), None)
    searched = latest.get(f"params.{kind}") if kind else None
    same = runs[runs[f"params.{kind}"] == searched] if kind else runs.iloc[:1]
    same = same.sort_values("start_time")
    rounds, suggestions = [], None
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # the report has its own progress bar
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, run) in enumerate(same.iterrows(), start=1):
            try:
                folder = Path(
                    mlflow.artifacts.download_artifacts(
                        run_id=run["run_id"], artifact_path="suggest", dst_path=f"{tmp}/{i}"
                    )
                )
            except Exception:  # a run without the artifact (interrupted): skip it
                continue
            if not (folder / "suggestions.csv").is_file():
                continue
            table = pd.read_csv(folder / "suggestions.csv")
            value = "log10_sigma_T" if "log10_sigma_T" in table else "log10_sigma25"
            best_measured = np.nan
            if (folder / "measured.csv").is_file():
                measured = pd.read_csv(folder / "measured.csv")
                if "log10_sigma25" in measured and measured["log10_sigma25"].notna().any():
                    best_measured = float(measured["log10_sigma25"].max())
            rounds.append(
                {
                    "round": len(rounds) + 1,
                    "run_id": run["run_id"],
                    "start": str(run["start_time"])[:19],
                    "n_measured": run.get("params.n_measured"),
                    "best_predicted": float(table[value].max()),
                    "best_measured": best_measured,
                }
            )
            if run["run_id"] == latest["run_id"]:
                suggestions = table
    return {
        "run_id": latest["run_id"],
        "searched": f"{kind} {searched}" if kind else "",
        "rounds": pd.DataFrame(rounds),
        "suggestions": suggestions,
        "params": {k[7:]: v for k, v in latest.items() if str(k).startswith("params.")},
    }


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if not np.isfinite(v) else f"{v:.{digits}f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
figure{margin:1em 0;display:inline-block;vertical-align:top}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555;max-width:60em}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.note{background:#f7f7f0;border-left:4px solid #cc9;padding:.5em 1em;font-size:.9em}
"""


def _page(sections: list[tuple[str, str]], header: str) -> str:
    body = "".join(
        f'<section id="{html.escape(key)}"><h2>{html.escape(title)}</h2>{content}</section>'
        for key, (title, content) in sections
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>NCE report</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><h1>NCE report</h1>{header}{body}</body></html>"
    )


def run_report(
    output: Path | None = None,
    model_uri: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    n_folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    on_step=lambda _msg, _advance=1: None,
) -> dict:
    """Build the page, log the run; returns paths, the OOF metrics and the run id."""
    import mlflow

    from nce.pipelines import figures, plots, tracking
    from nce.pipelines.explain import shap_values
    from nce.pipelines.metrics import regression_metrics
    from nce.pipelines.predict import load_model
    from nce.pipelines.protocols import family
    from nce.pipelines.train import training_frame

    output = Path(output) if output is not None else Path("report.html")
    if not output.parent.exists():
        raise UserError(f"output folder does not exist: {output.parent}")
    if sample < 50:
        raise UserError("--sample must be at least 50 glasses")
    if n_folds < 2:
        raise UserError("--folds must be at least 2")
    on_step(STEPS[0])
    model = load_model(model_uri, on_step=lambda msg: on_step(f"{STEPS[0]}: {msg}", 0), register=True)
    data, _ = training_frame()
    fam_all = family(data)
    rows = data.sample(n=min(sample, len(data)), random_state=seed).sort_index()
    on_step(STEPS[1])
    X = model.features(rows)
    oof = oof_predictions(
        model, rows, X, n_folds, seed, on_fold=lambda k: on_step(f"cross-validating: fold {k + 1}/{n_folds}")
    )
    on_step(STEPS[2])
    fam = family(rows)
    metrics, y, pred, lo, hi, quantiles = {}, {}, {}, {}, {}, {}
    for target in TARGETS:
        ok = oof[target].notna().to_numpy() & rows[target].notna().to_numpy()
        y[target], pred[target] = rows.loc[ok, target].to_numpy(float), oof.loc[ok, target].to_numpy(float)
        quantiles[target] = {
            level: oof.loc[ok, quantile_column(target, level)].to_numpy(float) for level in CALIBRATION_QUANTILES
        }
        lo[target], hi[target] = (
            oof.loc[ok, f"{target}_lo"].to_numpy(float),
            oof.loc[ok, f"{target}_hi"].to_numpy(float),
        )
        for key, value in regression_metrics(y[target], pred[target], lo[target], hi[target]).items():
            metrics[f"oof_{target}_{key}"] = float(value)
    shap_rows = X.sample(n=min(SHAP_ROWS, len(X)), random_state=seed)
    shap = {t: shap_values(model, t, shap_rows)[0] for t in TARGETS}
    experiment_id = tracking.setup()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        on_step(STEPS[3])
        figs: dict[str, Path] = {}
        figs["dataset"] = figures.dataset_overview(data, fam_all, tmp / "dataset_overview.png")
        figs["families"] = figures.family_counts(fam_all, tmp / "family_counts.png")
        for target in TARGETS:
            ok = oof[target].notna().to_numpy() & rows[target].notna().to_numpy()
            figs[f"parity_{target}"] = plots.parity_plot(
                y[target],
                pred[target],
                lo[target],
                hi[target],
                target,
                tmp / f"parity_{target}.png",
                title=f"{target}: out-of-fold MAE {metrics[f'oof_{target}_mae']:.3f}\n90 % coverage {metrics[f'oof_{target}_coverage']:.3f} (n={ok.sum()})",
            )
            figs[f"residuals_{target}"] = plots.residuals_by_family(
                pred[target] - y[target], fam[ok], target, tmp / f"residuals_by_family_{target}.png"
            )
        figs["calibration"], calibration = figures.calibration_curve(y, quantiles, lo, hi, tmp / "calibration.png")
        importance = {}
        for target in TARGETS:
            importance[target] = model.feature_importances(target)
            figs[f"importance_{target}"] = plots.importance_plot(
                model.feature_names_,
                importance[target],
                tmp / f"importance_{target}.png",
                top=20,
                title=f"{target}: feature importance (gain)",
            )
            figs[f"shap_{target}"] = figures.shap_summary(
                shap[target],
                shap_rows.to_numpy(dtype=float),
                model.feature_names_,
                tmp / f"shap_{target}.png",
                title=f"{target}: TreeSHAP on {len(shap_rows)} training glasses (mean |SHAP| in brackets)",
            )
        inv = (
            X["inv_Tg_m_1_per_K"].to_numpy(dtype=float)
            if "inv_Tg_m_1_per_K" in X
            else 1.0 / (X["Tg_K"] * X["fragility_m"]).to_numpy(dtype=float)
        )
        figs["wilkinson"], wilkinson = figures.wilkinson_plot(
            inv, rows["Ea_eV"].to_numpy(dtype=float), rows["mobile_ion"].astype(str).to_numpy(), tmp / "wilkinson.png"
        )
        on_step(STEPS[4])
        campaign = latest_campaign(experiment_id)
        if campaign is not None and campaign["suggestions"] is not None and len(campaign["rounds"]):
            value = "log10_sigma_T" if "log10_sigma_T" in campaign["suggestions"] else "log10_sigma25"
            figs["campaign"] = figures.campaign_plot(
                campaign["rounds"], campaign["suggestions"], tmp / "campaign.png", value=value
            )
        on_step(STEPS[5])
        shap_table = pd.DataFrame(
            {
                "feature": model.feature_names_,
                **{f"mean |SHAP| {t}": np.abs(shap[t]).mean(axis=0) for t in TARGETS},
            }
        ).sort_values(f"mean |SHAP| {TARGETS[0]}", ascending=False)
        shap_table.to_csv(tmp / "shap_mean_abs.csv", index=False)
        calibration.to_csv(tmp / "calibration.csv", index=False)
        pd.concat([rows[["KOD", "composition", *TARGETS]], oof.add_prefix("oof_")], axis=1).to_csv(
            tmp / "oof_predictions.csv", index=False
        )
        with mlflow.start_run(experiment_id=experiment_id, run_name="report") as run:
            model_label = model_uri or "models:/nce-conductivity@champion"
            mlflow.log_params(
                {"model": model_label, "sample": len(rows), "folds": n_folds, "seed": seed, "shap_rows": len(shap_rows)}
            )
            mlflow.set_tags(
                {
                    "model_data_hash": getattr(model, "data_hash_", ""),
                    "suggest_run": campaign["run_id"] if campaign else "",
                }
            )
            mlflow.log_metrics(
                {**metrics, "wilkinson_spearman": wilkinson["spearman"], "wilkinson_k_eV_K": wilkinson["k_eV_K"]}
            )
            page = _build_page(
                model,
                model_label,
                data,
                fam_all,
                rows,
                n_folds,
                metrics,
                calibration,
                shap_table,
                wilkinson,
                campaign,
                figs,
                run.info.run_id,
            )
            write_text_atomic(tmp / "report.html", page)
            mlflow.log_artifacts(str(tmp), artifact_path="report")
        write_text_atomic(output, page)
    return {
        "output": output,
        "run_id": run.info.run_id,
        "metrics": metrics,
        "figures": sorted(figs),
        "n_images": len(figs),
        "campaign": None if campaign is None else campaign["run_id"],
        "wilkinson": wilkinson,
    }


def _build_page(
    model,
    model_label,
    data,
    fam_all,
    rows,
    n_folds,
    metrics,
    calibration,
    shap_table,
    wilkinson,
    campaign,
    figs,
    run_id,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"<p>Model <code>{html.escape(str(model_label))}</code> (trained on {getattr(model, 'n_train_', '?')} glasses, data hash "
        f"<code>{html.escape(str(getattr(model, 'data_hash_', ''))[:12])}</code>); generated {now}; MLflow run "
        f"<code>{html.escape(run_id)}</code> (run name <code>report</code>) holds the same figures.</p>"
    )
    metric_rows = pd.DataFrame(
        [
            {
                "target": t,
                "MAE": metrics[f"oof_{t}_mae"],
                "R2": metrics.get(f"oof_{t}_r2", np.nan),
                "90 % coverage": metrics[f"oof_{t}_coverage"],
                "mean interval width": metrics.get(f"oof_{t}_width", np.nan),
            }
            for t in TARGETS
        ]
    )
    sections = []
    counts = pd.DataFrame(
        {
            "family": pd.Series(fam_all).value_counts().index[:10],
            "glasses": pd.Series(fam_all).value_counts().to_numpy()[:10],
        }
    )
    sections.append(
        (
            "dataset",
            (
                "Dataset",
                f"<p>{len(data)} curated SciGlass glasses from {data['KOD'].nunique()} publications "
                f"({data['log10_sigma25'].notna().sum()} with log10 sigma25, {data['Ea_eV'].notna().sum()} with Ea).</p>"
                + _img(figs["dataset"], "Counts by mobile ion and anion family; distributions of log10 sigma25 and Ea")
                + _img(figs["families"], "Largest chemical families (dominant mobile ion | anion | other element)")
                + _table(counts),
            ),
        )
    )
    note = (
        f'<p class="note">Out of fold: {len(rows)} glasses drawn at random from the training rows, featurized by the model\'s fitted '
        f"featurizer, and predicted in a {n_folds}-fold cross-validation grouped by publication (no paper on both sides) with the model's "
        f"own boosting and conformal settings. Two biases pull in opposite directions: each fold trains on {1 - 1 / n_folds:.0%} of the "
        f"sample, far fewer glasses than the model's {getattr(model, 'n_train_', '?')} (errors come out larger), while the property "
        f"sub-models behind Tg, m and density saw these publications (slightly smaller). <code>nce train</code> (all rows) and "
        f"<code>nce evaluate</code> give the full cross-validations.</p>"
    )
    sections.append(
        (
            "parity",
            (
                "Parity (out of fold, 90 % interval bars)",
                note
                + _table(metric_rows)
                + _img(
                    figs["parity_log10_sigma25"],
                    "log10 sigma25: measured against out-of-fold prediction with its 90 % interval",
                )
                + _img(figs["parity_Ea_eV"], "Ea: measured against out-of-fold prediction with its 90 % interval"),
            ),
        )
    )
    sections.append(
        (
            "calibration",
            (
                "Calibration",
                "<p>Observed against nominal coverage of the central intervals of NCE's predictive distribution "
                "(the one <code>nce suggest</code> reads: its 5th and 95th percentiles are the printed interval), "
                "out of fold by publication; the stars are the printed 90 % intervals themselves.</p>"
                + _img(figs["calibration"], "Calibration curve: nominal against observed coverage")
                + _table(
                    calibration.pivot_table(
                        index=["interval", "nominal"], columns="target", values="observed"
                    ).reset_index()
                ),
            ),
        )
    )
    sections.append(
        (
            "residuals",
            (
                "Residuals by chemical family",
                _img(figs["residuals_log10_sigma25"], "log10 sigma25 residuals (predicted - measured) by family")
                + _img(figs["residuals_Ea_eV"], "Ea residuals (predicted - measured) by family"),
            ),
        )
    )
    top = shap_table.head(15)
    sections.append(
        (
            "importance",
            (
                "Feature importance and SHAP",
                "<p>Gain importance of the final point models and TreeSHAP values "
                "(xgboost's <code>pred_contribs</code>) on training glasses.</p>"
                + _img(figs["importance_log10_sigma25"], "log10 sigma25: gain importance")
                + _img(figs["importance_Ea_eV"], "Ea: gain importance")
                + _img(figs["shap_log10_sigma25"], "log10 sigma25: SHAP summary")
                + _img(figs["shap_Ea_eV"], "Ea: SHAP summary")
                + _table(top),
            ),
        )
    )
    sections.append(
        (
            "wilkinson",
            (
                "Ea against 1/(Tg m)",
                f"<p>Wilkinson et al. (2020): the activation energy scales with the relaxation term "
                f"1/(Tg m). Line: Ea = k/(Tg m) fitted through the origin, k = {wilkinson['k_eV_K']:.0f} eV K; Spearman rho "
                f"{wilkinson['spearman']:.2f} on {wilkinson['n']} glasses.</p>"
                + _img(
                    figs["wilkinson"],
                    "Measured Ea against 1/(Tg m) from the property sub-models, with the Wilkinson relation",
                ),
            ),
        )
    )
    if campaign is None:
        content = "<p>No active-learning campaign yet: the MLflow store holds no run named <code>suggest</code>. Run <code>nce suggest --space ...</code> to start one.</p>"
    elif campaign["suggestions"] is None:
        content = f"<p>The latest <code>suggest</code> run <code>{html.escape(campaign['run_id'])}</code> has no suggest/suggestions.csv artifact (interrupted?).</p>"
    else:
        params = campaign["params"]
        shown = [
            c
            for c in (
                "composition",
                "log10_sigma25",
                "log10_sigma25_lo",
                "log10_sigma25_hi",
                "log10_sigma_T",
                "Ea_eV",
                "acquisition",
                "reason",
                "in_domain",
            )
            if c in campaign["suggestions"]
        ]
        content = (
            f"<p>Latest <code>suggest</code> run <code>{html.escape(campaign['run_id'])}</code>: <code>{html.escape(campaign['searched'])}</code>, "
            f"acquisition {html.escape(str(params.get('acquisition')))}, objective {html.escape(str(params.get('objective')))}, "
            f"{len(campaign['rounds'])} round(s) of the same search, {html.escape(str(params.get('n_measured')))} measured glasses given.</p>"
            + _img(
                figs["campaign"], "Latest batch with 90 % intervals; best suggested and best measured value per round"
            )
            + _table(campaign["suggestions"][shown])
            + _table(campaign["rounds"])
        )
    sections.append(("campaign", ("Active-learning campaign", content)))
    return _page(sections, header)
