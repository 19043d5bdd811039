"""``nce evaluate --source literature``: does the processing model help on processed electrolytes?

Paper-grouped (leave one paper out) cross-validation on the literature rows of
(i) the glass-only model (processing ignored: the SciGlass model's log10 sigma at the
measuring temperature), (ii) the processing-aware model (glass model + Bayesian-ridge
offset) and (iii) the alternative offset (a Gaussian process on the same inputs). The glass
model never sees the literature rows, so only the offset is cross-validated; each fold's
offset learns from the training papers' rows that ``offset_training_rows`` keeps, and every
row is scored. Reported: MAE, bias and 90 % coverage on the non-crystalline rows (NCE's
scope), on their ``reported`` rows, on the ceramic rows, by state and by route, on the
crystalline reference phases separately, and the offsets learned for the classic cases.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut

from nce.models.nce_model import NCEModel, processing_combination
from nce.models.processing import ProcessingOffsetModel, offset_features, offset_training_rows
from nce.pipelines.metrics import regression_metrics

METHODS = ("ridge", "gp")
MODELS = {
    "glass_only": "glass-only (processing ignored)",
    "ridge": "processing-aware (ridge offset)",
    "gp": "alternative (GP offset)",
}
CERAMIC_STATES = ("glass_ceramic", "amorphous_ceramic")
#: The slices the issue's targets are stated on (logged as MLflow metrics).
SCOPE, REPORTED, CERAMIC = (
    "non-crystalline (NCE's scope)",
    "reported non-crystalline rows",
    "ceramic rows (glass_ceramic, amorphous_ceramic)",
)

#: The classic cases whose learned offsets the evaluation prints.
CLASSIC_CASES = pd.DataFrame(
    [
        {"case": "70Li2S-30P2S5 glass", "composition": "70Li2S-30P2S5", "route": "melt_quench", "state": "glass"},
        {
            "case": "70Li2S-30P2S5 milled amorphous",
            "composition": "70Li2S-30P2S5",
            "route": "ball_mill",
            "state": "amorphous",
        },
        *(
            {
                "case": f"70Li2S-30P2S5 glass-ceramic {t} degC",
                "composition": "70Li2S-30P2S5",
                "route": "melt_quench",
                "state": "glass_ceramic",
                "heat_treatment_C": t,
            }
            for t in (250, 300, 360)
        ),
        {"case": "75Li2S-25P2S5 glass", "composition": "75Li2S-25P2S5", "route": "melt_quench", "state": "glass"},
        {
            "case": "75Li2S-25P2S5 milled amorphous",
            "composition": "75Li2S-25P2S5",
            "route": "ball_mill",
            "state": "amorphous",
        },
        {
            "case": "75Li2S-25P2S5 milled + heated 250 degC",
            "composition": "75Li2S-25P2S5",
            "route": "ball_mill",
            "state": "amorphous_ceramic",
            "heat_treatment_C": 250,
        },
        {"case": "LiPON sputtered film", "composition": "Li2.9PO3.3N0.46", "route": "sputter", "state": "amorphous"},
        {
            "case": "Li phosphate glass (50Li2O-50P2O5) melt-quenched",
            "composition": "50Li2O-50P2O5",
            "route": "melt_quench",
            "state": "glass",
        },
    ]
)


def glass_baseline(model: NCEModel, rows: pd.DataFrame) -> pd.DataFrame:
    """Glass-model log10 sigma at each row's temperature, the two sides of its 90 % interval and the offset inputs."""
    glass = model.glass_predictions(rows)
    out = pd.DataFrame(index=rows.index)
    out["glass_T"] = glass["log10_sigma_T"].to_numpy()
    out["glass_below"] = (
        glass["log10_sigma25"] - glass["log10_sigma25_lo"]
    ).to_numpy()  # the glass interval's two sides
    out["glass_above"] = (glass["log10_sigma25_hi"] - glass["log10_sigma25"]).to_numpy()
    out["learnable"] = offset_training_rows(rows, glass["in_domain"])
    return out, offset_features(rows, glass["Tg_K"].to_numpy(), glass["anion_S_share"].to_numpy())


def paper_grouped_predictions(model: NCEModel, rows: pd.DataFrame, methods=METHODS) -> pd.DataFrame:
    """Out-of-paper predictions (log10 sigma at the measuring temperature) with 90 % intervals."""
    base, X = glass_baseline(model, rows)
    y_obs = rows["log10_sigma_T"].to_numpy(dtype=float)
    residual = y_obs - base["glass_T"].to_numpy()
    combos = processing_combination(rows)
    out = pd.DataFrame(
        {
            "observed": y_obs,
            "state": rows["state"].to_numpy(),
            "route": rows["route"].to_numpy(),
            "confidence": rows["confidence"].to_numpy() if "confidence" in rows else "",
            "paper": rows["KOD"].to_numpy(),
            "learnable": base["learnable"].to_numpy(),
        },
        index=rows.index,
    )
    out["glass_only"], out["glass_only_lo"], out["glass_only_hi"] = (
        base["glass_T"],
        base["glass_T"] - base["glass_below"],
        base["glass_T"] + base["glass_above"],
    )
    groups = rows["KOD"].to_numpy()
    for method in methods:
        pred, lo, hi = (np.full(len(rows), np.nan) for _ in range(3))
        known = np.zeros(len(rows), dtype=bool)
        for train, test in LeaveOneGroupOut().split(X, residual, groups):
            train = train[base["learnable"].to_numpy()[train]]
            offset = ProcessingOffsetModel(method).fit(X.iloc[train], residual[train], route_state=combos[train])
            pred[test], lo[test], hi[test] = offset.processed(
                X.iloc[test], *(base[c].to_numpy()[test] for c in ("glass_T", "glass_below", "glass_above"))
            )
            known[test] = offset.in_domain(combos[test])
        out[method], out[f"{method}_lo"], out[f"{method}_hi"], out[f"{method}_in_domain"] = pred, lo, hi, known
    return out


def summarize_literature(oof: pd.DataFrame, methods=METHODS) -> pd.DataFrame:
    scope = (oof["state"] != "crystalline").to_numpy()
    slices = {
        SCOPE: scope,
        REPORTED: scope & (oof["confidence"] == "reported").to_numpy(),
        CERAMIC: oof["state"].isin(CERAMIC_STATES).to_numpy(),
        "non-crystalline, glass baseline in its domain": oof["learnable"].to_numpy(dtype=bool),
        "all rows, crystalline reference phases included": np.ones(len(oof), dtype=bool),
    }
    slices.update({f"state {s}": (oof["state"] == s).to_numpy() for s in sorted(oof["state"].unique())})
    slices.update({f"route {r}": (oof["route"] == r).to_numpy() for r in sorted(oof["route"].unique())})
    records = []
    for name, mask in slices.items():
        for model in ("glass_only", *methods):
            part = oof[mask]
            m = regression_metrics(part["observed"], part[model], part[f"{model}_lo"], part[f"{model}_hi"])
            records.append(
                {
                    "slice": name,
                    "model": model,
                    **{k: m.get(k, np.nan) for k in ("n", "mae", "bias", "coverage", "width")},
                }
            )
    return pd.DataFrame(records)


def classic_offsets(model: NCEModel) -> pd.DataFrame:
    """Predicted log10 sigma25 with intervals for :data:`CLASSIC_CASES`, and the offset from the glass."""
    from nce.pipelines.predict import predict_frame

    out = predict_frame(model, CLASSIC_CASES.drop(columns="case"))
    glass = predict_frame(
        model, CLASSIC_CASES.drop(columns="case").assign(route="melt_quench", state="glass", heat_treatment_C=np.nan)
    )
    return pd.DataFrame(
        {
            "case": CLASSIC_CASES["case"],
            "log10_sigma25": out["log10_sigma25"],
            "lo": out["log10_sigma25_lo"],
            "hi": out["log10_sigma25_hi"],
            "offset_from_glass": out["log10_sigma25"] - glass["log10_sigma25"],
            "in_domain": out["in_domain"],
        }
    )


def markdown(summary: pd.DataFrame) -> str:
    lines = ["| slice | model | n | MAE | bias | coverage | width |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in summary.itertuples():
        lines.append(
            f"| {r.slice} | {MODELS.get(r.model, r.model)} | {r.n} | {r.mae:.2f} | {r.bias:+.2f} "
            f"| {r.coverage:.2f} | {r.width:.2f} |"
        )
    return "\n".join(lines)


def run_literature_evaluation(model_uri: str | None = None, on_step: Callable[[str], None] = lambda _: None) -> dict:
    """The whole evaluation as one MLflow run; returns the summary, the offsets and the run id."""
    import tempfile
    from pathlib import Path

    import mlflow

    from nce.data.literature import load_literature
    from nce.pipelines import tracking
    from nce.pipelines.predict import load_model
    from nce.pipelines.train import data_hash

    rows = load_literature().rows
    model = load_model(model_uri, on_step=on_step)
    experiment_id = tracking.setup()
    with mlflow.start_run(experiment_id=experiment_id, run_name="evaluate-literature") as run:
        mlflow.log_params(
            {
                "source": "literature",
                "n_rows": len(rows),
                "papers": rows["KOD"].nunique(),
                "glass_model": model_uri or "champion",
            }
        )
        mlflow.set_tag("data_hash", data_hash(rows.drop(columns=["measurement"], errors="ignore")))
        on_step("cross-validating the processing offsets, one paper out at a time")
        oof = paper_grouped_predictions(model, rows)
        summary = summarize_literature(oof)
        fitted = model if getattr(model, "processing_", None) is not None else model.fit_processing(rows)
        offsets = classic_offsets(fitted)
        for r in summary[summary["slice"].isin([SCOPE, REPORTED, CERAMIC])].itertuples():
            key = f"literature.{r.model}.{r.slice.split(' (')[0].replace(' ', '_').replace('-', '_')}"
            for metric in ("mae", "bias", "coverage"):
                mlflow.log_metric(f"{key}.{metric}", float(getattr(r, metric)))
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            summary.to_csv(tmp / "literature_summary.csv", index=False)
            oof.to_csv(tmp / "literature_oof.csv", index=False)
            offsets.to_csv(tmp / "classic_offsets.csv", index=False)
            mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
    return {
        "run_id": run.info.run_id,
        "summary": summary,
        "oof": oof,
        "offsets": offsets,
        "n_rows": len(rows),
        "papers": int(rows["KOD"].nunique()),
    }
