"""Interval benchmark: do NCE's intervals and novelty know what NCE has not seen?

    python benchmarks/intervals.py [--protocol publication --protocol family ...] [--max-rows N]

Out-of-fold predictive distributions of the served model (``nce_xgb``: normalized conformal
predictive system calibrated on publication- and family-held-out predictions,
nce.models.uncertainty) and, on the same rows and folds, the constant-margin conformalized
quantile regression it served before (``nce_xgb_cqr``, the baseline), under every protocol.
Scored by slice: all rows, inside and outside the served model's out-of-fold domain, by decile
of its novelty, by anion family, mobile ion and sigma25 source. Coverage, median width and the
interval score (Winkler, alpha = 0.1); the issue-18 targets checked in one table; the AUROC
with which the novelty ranks large errors (served novelty against the baseline's k-nearest-
neighbour distance); and the calibration of the whole distribution at 0.2, 0.5, 0.8 and 0.9
(against the Gaussian the baseline's interval implies, the belief `nce suggest` used before).
Writes the section "Intervals: conditional coverage" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.pipelines.evaluate import conditional_table, run_evaluation  # noqa: E402

SERVED, BASELINE = "nce_xgb", "nce_xgb_cqr"
MIN_SLICE_ROWS = 100
#: Slices the coverage target covers need this many rows (issue 18).
TARGET_SLICE_ROWS = 200
NOMINAL = (0.2, 0.5, 0.8, 0.9)
LEVELS = tuple(sorted({round(x, 3) for c in NOMINAL for x in ((1 - c) / 2, (1 + c) / 2)}))
Z90 = 1.6448536269514722


def novelty_auroc(oof: pd.DataFrame, model: str, target: str = "log10_sigma25", threshold: float = 2.0) -> dict:
    """Per protocol, the AUROC with which ``model``'s novelty separates |error| > ``threshold``
    (the served model's error in both cases, so only the score differs)."""
    from sklearn.metrics import roc_auc_score

    out = {}
    served = oof[(oof["model"] == SERVED) & (oof["target"] == target)]
    scores = oof[(oof["model"] == model) & (oof["target"] == target)]
    for protocol, part in served.groupby("protocol", sort=False):
        other = scores[scores["protocol"] == protocol].set_index("row")["novelty"].reindex(part["row"]).to_numpy()
        large = (part["pred"] - part["y"]).abs().to_numpy() > threshold
        if 0 < large.sum() < len(large) and np.isfinite(other).all():
            out[protocol] = float(roc_auc_score(large, other))
    return out


def calibration(oof: pd.DataFrame) -> pd.DataFrame:
    """Observed coverage of central intervals at each nominal level: the served distribution's
    quantiles, and the Gaussian the baseline's 90 % interval implies (mean at its middle)."""
    rows = []
    for (protocol, target), group in oof.groupby(["protocol", "target"], sort=False):
        served = group[group["model"] == SERVED]
        base = group[group["model"] == BASELINE]
        for c in NOMINAL:
            lo, hi = served[f"q{(1 - c) / 2:g}"], served[f"q{(1 + c) / 2:g}"]
            observed = ((served["y"] >= lo) & (served["y"] <= hi)).mean()
            mid, sd = (base["lo"] + base["hi"]) / 2, (base["hi"] - base["lo"]) / (2 * Z90)
            z = np.abs(base["y"] - mid) / sd
            from scipy.stats import norm

            gaussian = (z <= norm.ppf((1 + c) / 2)).mean()
            rows.append(
                {
                    "protocol": protocol,
                    "target": target,
                    "nominal": c,
                    "served": observed,
                    "baseline_gaussian": gaussian,
                }
            )
    return pd.DataFrame(rows)


def target_checks(summary: pd.DataFrame, auroc: dict) -> list[str]:
    """Issue 18's targets, each with the measured figure and met / missed."""
    s, lines = summary, []

    def get(model, protocol, target, slice_, col):
        part = s[(s.model == model) & (s.protocol == protocol) & (s.target == target) & (s.slice == slice_)]
        return float(part[col].iloc[0]) if len(part) else np.nan

    def verdict(ok):
        return "met" if ok else "missed"

    for protocol in s.protocol.unique():
        for target in s.target.unique():
            cov = get(SERVED, protocol, target, "all", "coverage")
            lines.append(
                f"| marginal coverage 0.88-0.92 | {protocol}, {target} | {cov:.3f} | {verdict(0.88 <= cov <= 0.92)} |"
            )
    for protocol in [p for p in ("publication", "family", "temporal") if p in set(s.protocol)]:
        for target in s.target.unique():
            part = s[(s.model == SERVED) & (s.protocol == protocol) & (s.target == target)]
            eligible = part[
                part.slice.str.startswith("novelty decile")
                | part.slice.eq("outside NCE's domain")
                | (
                    (part.slice.str.startswith("anion ") | part.slice.str.startswith("mobile "))
                    & (part.n >= TARGET_SLICE_ROWS)
                )
            ]
            if len(eligible):
                worst = eligible.loc[eligible.coverage.idxmin()]
                lines.append(
                    f"| coverage >= 0.85 in every novelty decile, family, ion (>= {TARGET_SLICE_ROWS} rows) and out of "
                    f"domain | {protocol}, {target} | lowest {worst.coverage:.3f} ({worst.slice}, n = {worst.n}) "
                    f"| {verdict(worst.coverage >= 0.85)} |"
                )
    for protocol in s.protocol.unique():
        for target in s.target.unique():
            w_in = get(SERVED, protocol, target, "in NCE's domain", "median_width")
            w_out = get(SERVED, protocol, target, "outside NCE's domain", "median_width")
            base_in = get(BASELINE, protocol, target, "in NCE's domain", "median_width")
            lines.append(
                f"| out-of-domain median width >= 1.5x in-domain; in-domain no wider than the baseline | {protocol}, "
                f"{target} | {w_out:.2f} / {w_in:.2f} = {w_out / w_in:.2f}x; in-domain {w_in:.2f} vs {base_in:.2f} "
                f"| {verdict(w_out >= 1.5 * w_in and w_in <= base_in)} |"
            )
    for target in s.target.unique():
        a, b = (
            get(SERVED, "publication", target, "all", "interval_score"),
            get(BASELINE, "publication", target, "all", "interval_score"),
        )
        lines.append(
            f"| interval score <= 0.9x the constant-margin CQR | publication, {target} | {a:.3f} vs {b:.3f} = "
            f"{a / b:.2f}x | {verdict(a <= 0.9 * b)} |"
        )
    if "family" in auroc:
        lines.append(
            f"| novelty AUROC >= 0.75 for abs. sigma25 error > 2 | family | {auroc['family']:.3f} | "
            f"{verdict(auroc['family'] >= 0.75)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", action="append", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=None, help="a random subset (quick look; not for RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    protocols = tuple(args.protocol or ("publication", "chemical_system", "family", "temporal"))
    start = time.time()
    result = run_evaluation(
        protocols,
        models=[SERVED, BASELINE],
        seed=args.seed,
        max_rows=args.max_rows,
        levels=LEVELS,
        on_step=lambda s: print(f"[{time.time() - start:6.0f} s] {s}", flush=True),
    )
    summary, oof = result["summary"], result["oof"]
    auroc = {m: novelty_auroc(oof, m) for m in (SERVED, BASELINE)}
    cal = calibration(oof)
    headline = summary[
        summary["slice"].isin(["all", "in NCE's domain", "outside NCE's domain"]) & summary["coverage"].notna()
    ]
    lines = [
        f"| {r.protocol} | {r.target} | {r.model} | {r.slice} | {r.n} | {r.coverage:.3f} | {r.median_width:.2f} "
        f"| {r.interval_score:.2f} | {r.mae:.3f} |"
        for r in headline.sort_values(["protocol", "target", "slice", "model"]).itertuples()
    ]
    flagged = (
        summary[(summary.model == SERVED) & (summary.slice == "outside NCE's domain")]
        .set_index(["protocol", "target"])["n"]
        .div(summary[(summary.model == SERVED) & (summary.slice == "all")].set_index(["protocol", "target"])["n"])
    )
    shown = summary[(summary["n"] >= MIN_SLICE_ROWS) & summary["slice"].ne("Li and S (any anion)")]
    body = f"""Command: `python benchmarks/intervals.py` (seed {args.seed}, {result["n_rows"]} curated rows, MLflow run
`{result["run_id"]}`, {time.time() - start:.0f} s on 2 cores). Out-of-fold 90 % intervals of the served model
(`{SERVED}`: normalized conformal predictive distribution, calibrated on publication- and family-held-out
predictions inside each training fold) and of the constant-margin CQR it served before (`{BASELINE}`, same point
model, rows and folds). "NCE's domain" and the novelty deciles are the served model's own out-of-fold ones for
both. Interval score: Winkler's, alpha = 0.1 (width plus 20 times the miss), lower is better.

| protocol | target | model | slice | n | coverage | median width | interval score | MAE |
|---|---|---|---|---:|---:|---:|---:|---:|
{chr(10).join(lines)}

Share of rows outside the served model's domain: {", ".join(f"{p} {t} {v:.2f}" for (p, t), v in flagged.items())}.

Does the novelty rank the large errors? AUROC for |log10 sigma25 error| > 2 decades (the served model's errors):
served novelty (learned difficulty) {", ".join(f"{p} {v:.3f}" for p, v in auroc[SERVED].items())}; the baseline's
mean distance to the 5 nearest training glasses {", ".join(f"{p} {v:.3f}" for p, v in auroc[BASELINE].items())}.

Calibration of the whole predictive distribution (observed coverage of the central interval at each nominal level;
the baseline column is the Gaussian its 90 % interval implies, what `nce suggest` read before):

| protocol | target | nominal | served distribution | baseline's Gaussian |
|---|---|---:|---:|---:|
{chr(10).join(f"| {r.protocol} | {r.target} | {r.nominal:.1f} | {r.served:.3f} | {r.baseline_gaussian:.3f} |" for r in cal.itertuples())}

Issue 18's targets:

| target | slice | measured | |
|---|---|---|---|
{chr(10).join(target_checks(summary, auroc[SERVED]))}

Every slice with at least {MIN_SLICE_ROWS} rows, served model:

{conditional_table(shown, SERVED)}

The same slices, constant-margin baseline:

{conditional_table(shown, BASELINE)}
"""
    if args.max_rows is None and not args.no_write:
        write_section("Intervals: conditional coverage", body)
    print(body)


if __name__ == "__main__":
    main()
