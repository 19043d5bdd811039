"""Accuracy benchmark: NCE, its ablation and the baselines under protocols (a)-(c) [and (d)].

    python benchmarks/accuracy.py [--protocol publication --protocol family ...]

Same curated rows, same folds, same run; writes the tables to benchmarks/RESULTS.md next to
the noise floor from data/DATASET.md, and logs an MLflow evaluation run.
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
from nce.pipelines.evaluate import markdown_table, run_evaluation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--protocol", action="append", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    protocols = tuple(args.protocol or ("publication", "chemical_system", "family", "temporal"))
    start = time.time()
    result = run_evaluation(
        protocols, seed=args.seed, on_step=lambda s: print(f"[{time.time() - start:6.0f} s] {s}", flush=True)
    )
    summary = result["summary"]
    cond = load_conductivity()
    nf_sigma, nf_ea = noise_floor(cond, "log10_sigma25"), noise_floor(cond, "Ea_eV")
    ref = summary[(summary["slice"] == "all") & (summary["model"] == "reference_xgb_atoms")].set_index(
        ["protocol", "target"]
    )["mae"]
    best = summary[(summary["slice"] == "all") & (summary["model"] == "nce_xgb")].set_index(["protocol", "target"])[
        "mae"
    ]
    ratio_lines = [
        f"| {p} | {t} | {best[(p, t)]:.3f} | {ref[(p, t)]:.3f} | {best[(p, t)] / ref[(p, t)]:.3f} |"
        for p, t in best.index
    ]
    multi = "\n".join(
        f"- {t}: on compositions measured by >= 2 publications ({m['n_pairs']} pairs) NCE's out-of-fold MAE is "
        f"{m['model_mae']:.3f}, the inter-laboratory noise floor on the same pairs {m['noise_floor_mae']:.3f}."
        for t, m in result["multi_publication"].items()
    )
    body = f"""Command: `python benchmarks/accuracy.py` (seed {args.seed}, {result["n_rows"]} curated rows, MLflow run `{result["run_id"]}`,
{time.time() - start:.0f} s on 2 cores). Noise floor (data/DATASET.md, training rows): log10 sigma25 MAE {nf_sigma["mae"]:.3f},
Ea MAE {nf_ea["mae"]:.3f} eV. `within` counts |error| <= 1 decade (sigma) or 0.1 eV (Ea); coverage/width are of the 90 % interval.

### NCE (nce_xgb) against the plain reference (xgboost on atomic fractions)
| protocol | target | NCE MAE | reference MAE | ratio |
|---|---|---|---|---|
{chr(10).join(ratio_lines)}

{multi}

### All models, all rows
{markdown_table(summary, "all")}

### Li-S glasses
{markdown_table(summary, "Li-S glasses")}

### By sigma25 source (log10 sigma25 rows only matter here)
{markdown_table(summary[summary["target"] == "log10_sigma25"], "source interpolated")}

{markdown_table(summary[summary["target"] == "log10_sigma25"], "source extrapolated")}

{markdown_table(summary[summary["target"] == "log10_sigma25"], "source from_20C")}
"""
    write_section("Accuracy: conductivity and activation energy", body)
    print(body)


if __name__ == "__main__":
    main()
