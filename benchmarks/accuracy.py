"""Accuracy benchmark: NCE, its ablation and the plain models under every protocol.

    python benchmarks/accuracy.py [--protocol publication --protocol family ...] [--max-rows N --no-write]
                                  [--model nce_xgb --model random_forest ...]

Same curated rows, same folds, same run; all four protocols (temporal included) unless told
otherwise. Each NCE figure is set against the best plain model of its protocol, target and
slice (the sulfide slices included), and the rows flagged by curation are scored on their own.
Writes the tables to benchmarks/RESULTS.md next to the noise floor from data/DATASET.md (not
with --max-rows, --model or --no-write), and logs an MLflow evaluation run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.data.datasets import load_conductivity  # noqa: E402
from nce.data.noise_floor import noise_floor  # noqa: E402
from nce.pipelines.evaluate import (  # noqa: E402
    FLAGGED_SLICE,
    HEADLINE_SLICES,
    ablation_table,
    best_plain_table,
    markdown_table,
    run_evaluation,
)
from nce.pipelines.protocols import NEAR_DUPLICATE_L1, PROTOCOLS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", action="append", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=None, help="a random subset (quick look; not for RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--model", action="append", default=None, help="only these models (quick look)")
    args = parser.parse_args()
    protocols = tuple(args.protocol or PROTOCOLS)
    start = time.time()
    result = run_evaluation(
        protocols,
        seed=args.seed,
        models=args.model,
        max_rows=args.max_rows,
        on_step=lambda s: print(f"[{time.time() - start:6.0f} s] {s}", flush=True),
    )
    summary = result["summary"]
    cond = load_conductivity()
    nf_sigma, nf_ea = noise_floor(cond, "log10_sigma25"), noise_floor(cond, "Ea_eV")
    multi = "\n".join(
        f"- {t}: on compositions measured by >= 2 publications ({m['n_pairs']} pairs) the out-of-fold MAE of "
        + ", ".join(f"{name} {mae:.3f}" for name, mae in m["model_mae"].items())
        + f"; the inter-laboratory noise floor on the same pairs {m['noise_floor_mae']:.3f}."
        for t, m in result["multi_publication"].items()
    )
    near = result["near_duplicates_dropped"]
    near_line = (
        f"Chemical-system protocol: {near[0]} training rows ({100 * near[1]:.1f} % of its training rows over the "
        f"folds) lay within L1 {NEAR_DUPLICATE_L1} of a glass tested in the fold and were dropped."
        if near is not None
        else ""
    )
    sigma = summary[summary["target"] == "log10_sigma25"]
    body = f"""Command: `python benchmarks/accuracy.py` (seed {args.seed}, protocols {", ".join(protocols)};
{result["n_rows"]} curated rows trained and scored, {result["n_flagged"]} rows flagged by curation scored out of
fold only; MLflow run `{result["run_id"]}`, {time.time() - start:.0f} s on 2 cores). Noise floor (data/DATASET.md,
training rows): log10 sigma25 MAE {nf_sigma["mae"]:.3f}, Ea MAE {nf_ea["mae"]:.3f} eV. `within` counts |error| <= 1
decade (sigma) or 0.1 eV (Ea); coverage/width are of the 90 % interval; `vs_best_plain` is a model's MAE over the
best plain model's (mean, kNN, ridge, random forest, xgboost on atomic fractions) on the same slice.
{near_line}

### NCE (nce_xgb) against the best plain model of each slice
Slices: {", ".join(HEADLINE_SLICES)}. The flagged rows (sigma25 above 10^-1.5 S/cm, or > 2.5 decades
from other labs) are never trained on and appear in no other slice.

{best_plain_table(summary)}

{multi}

### The physics features, per protocol (all rows)
{ablation_table(summary)}

### All models, all rows
{markdown_table(summary, "all")}

### Glasses with Li and S (any anion)
{markdown_table(summary, "Li and S (any anion)")}

### Sulfide glasses without oxygen
{markdown_table(summary, "sulfide glasses (no O)")}

### Glasses with Li and S, without oxygen
{markdown_table(summary, "Li and S, no O")}

### Rows flagged by curation (scored out of fold, never trained on)
{markdown_table(summary, FLAGGED_SLICE)}

### By sigma25 source (log10 sigma25 rows only matter here)
{markdown_table(sigma, "source interpolated")}

{markdown_table(sigma, "source extrapolated")}

{markdown_table(sigma, "source from_20C")}
"""
    if args.max_rows is None and args.model is None and not args.no_write:
        write_section("Accuracy: conductivity and activation energy", body)
    print(body)


if __name__ == "__main__":
    main()
