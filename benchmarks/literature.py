"""Processing-aware predictions on the cited literature rows: nested leave-one-paper-out.

    python benchmarks/literature.py [--model FOLDER_OR_URI] [--no-write]

Runs ``nce evaluate --source literature`` (one MLflow run) on the served glass model (the
registered champion, else the packaged default model) and records in benchmarks/RESULTS.md
(its own section, through ``results_md.write_section``): the processing model chosen inside
and scored outside against the glass-only model, with a paired bootstrap over papers of the
MAE ratio, 90 % coverage and median width, the fixed candidates as ablations, how often each
was chosen, and the predictions for the classic cases (a heat-treatment series of
70Li2S-30P2S5 included).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.pipelines.literature_eval import (  # noqa: E402
    CERAMIC,
    EA_NOTE,
    MODELS,
    REPORTED,
    SCOPE,
    SERVED,
    markdown,
    run_literature_evaluation,
)

HEADING = "Processing: the literature rows, paper-grouped"
#: Issue 21's targets on NCE's scope (the non-crystalline rows).
TARGET_RATIO, TARGET_COVERAGE, TARGET_WIDTH = 0.85, 0.85, 7.6


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="glass model folder or MLflow URI (default: the champion)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    start = time.time()
    result = run_literature_evaluation(
        args.model, on_step=lambda s: print(f"[{time.time() - start:6.0f} s] {s}", flush=True)
    )
    summary = result["summary"].set_index(["slice", "model"])
    s = summary.loc[SCOPE]
    boot, rows_boot = result["bootstrap"]["paper"], result["bootstrap"]["row"]
    served = result["served"]
    coverage, width = s.loc[SERVED, "coverage"], s.loc[SERVED, "median_width"]
    choices = ", ".join(f"{k} {v}" for k, v in sorted(result["choices"].items(), key=lambda kv: -kv[1]))
    selection = ", ".join(f"{k} {v:.3f}" for k, v in served["selection"].items())
    low, high = served["heat_treatment_range_K"] or (float("nan"), float("nan"))
    oof = result["oof"][result["oof"]["state"] != "crystalline"]
    errors = (oof[SERVED] - oof["observed"]).abs().sort_values(ascending=False)
    top_share = errors.iloc[:3].sum() / errors.sum()
    top_rows = "; ".join(f"{result['rows'].loc[i, 'composition']} {oof.loc[i, 'state']}" for i in errors.index[:3])

    offsets = result["offsets"]
    offset_lines = [
        "| case | log10 sigma25 | 90 % interval | offset from the glass | Ea (eV) | in domain |",
        "|---|---:|---|---:|---:|---|",
    ]
    offset_lines += [
        f"| {r.case} | {r.log10_sigma25:.2f} | [{r.lo:.2f}, {r.hi:.2f}] | {r.offset_from_glass:+.2f} "
        f"| {r.Ea_eV:.3f} | {bool(r.in_domain)} |"
        for r in offsets.itertuples()
    ]
    command = "python benchmarks/literature.py" + (f" --model {args.model}" if args.model else "")
    body = f"""Command: `{command}` ({result["n_rows"]} literature rows from {result["papers"]} papers; MLflow run
`{result["run_id"]}`; {time.time() - start:.0f} s on 2 cores shared with other work). The glass model is the served one
(SciGlass only; it never sees these rows), so only the processing offset is cross-validated, **nested**: for each held-out
paper the offset model is fitted on the other papers exactly as `NCEModel.fit_processing` fits the served one, choosing its
method (Bayesian ridge or GP) and inputs (processing alone, or with the state x sulfide-share interaction) and calibrating
its interval scale by an inner leave-one-paper-out on those papers alone; the held-out paper is scored outside. Offsets
learn from non-crystalline rows whose glass baseline is inside the glass model's domain; every row is scored, the default
glass rows keep the glass prediction. The fixed candidates are scored the same way (scale still calibrated inside).

On NCE's scope (the {int(s.loc["glass_only", "n"])} non-crystalline rows from {boot["units"]} papers), issue 21's targets:

| target | measured | |
|---|---|---|
| nested MAE <= {TARGET_RATIO}x glass-only | {s.loc[SERVED, "mae"]:.3f} vs {s.loc["glass_only", "mae"]:.3f}: ratio {boot["ratio"]:.3f} | {_met(boot["ratio"] <= TARGET_RATIO)} |
| paired bootstrap 95 % CI of the ratio below 1 | papers resampled: [{boot["lo"]:.2f}, {boot["hi"]:.2f}] (ratio >= 1 in {100 * boot["p_not_below_1"]:.0f} % of draws); rows resampled: [{rows_boot["lo"]:.2f}, {rows_boot["hi"]:.2f}] | {_met(boot["hi"] < 1.0)} |
| 90 % coverage >= {TARGET_COVERAGE} | {coverage:.3f} | {_met(coverage >= TARGET_COVERAGE)} |
| median width <= {TARGET_WIDTH} decades | {width:.2f} (mean {s.loc[SERVED, "width"]:.2f}) | {_met(width <= TARGET_WIDTH)} |

Thin evidence: {int(s.loc["glass_only", "n"])} rows from {boot["units"]} papers, and {100 * top_share:.0f} % of the served model's absolute
error comes from three rows ({top_rows}), so the interval of the ratio is wide.
Interval before this change (at d7ab7b0: the quadrature of the glass interval, the offset's std with its noise and the noise
again, no fitted scale; ridge on the previous inputs; the same glass model and LOPO, not nested): coverage 0.914 at a
median width of 4.84 decades (mean 5.68). After (the glass interval moved by the offset, widened by the offset's own std
only, one conformal scale fitted inside): above. On the reported rows alone: MAE {summary.loc[(REPORTED, SERVED), "mae"]:.2f}
against {summary.loc[(REPORTED, "glass_only"), "mae"]:.2f}; on the ceramic rows the bias is {summary.loc[(CERAMIC, SERVED), "bias"]:+.2f} against
{summary.loc[(CERAMIC, "glass_only"), "bias"]:+.2f}.

Chosen inside the outer folds (one per paper): {choices}. The served model (all literature rows) chose
{served["choice"]} (inner leave-one-paper-out MAE on the processed rows: {selection}); interval scale
{served["interval_scale"]:.3f} from {served["n_calibration"]} held-out rows. Its heat-treatment rows span {low:+.0f} to {high:+.0f} K
around the predicted Tg; beyond that a prediction is out of domain and follows the assumed response shape (rise above Tg, a
maximum 250 K above it, back to the glass 100 K later). {EA_NOTE}

{markdown(result["summary"]).split(chr(10) + chr(10))[0]}

Models: {"; ".join(f"`{k}` {v}" for k, v in MODELS.items())}.

Predictions of the served model, log10 sigma25 in S/cm:

{chr(10).join(offset_lines)}
"""
    print(body)
    if not args.no_write:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
