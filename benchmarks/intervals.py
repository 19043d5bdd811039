"""Interval benchmark: where do NCE's 90 % intervals hold, and how wide are they there?

    python benchmarks/intervals.py [--protocol publication --protocol family ...] [--max-rows N]

Out-of-fold intervals of the served model (nce_xgb: conformalized quantile regression with one
constant margin per target) under every protocol, scored by slice: all rows, inside and
outside NCE's own out-of-fold applicability domain, by decile of its novelty score (the
domain's k-nearest-neighbour distance), by anion family, mobile ion and sigma25 source.
Coverage, median width and the interval score (Winkler, alpha = 0.1) per slice; this is the
baseline the novelty-aware intervals of issue 18 are measured against. Writes the section
"Intervals: conditional coverage" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.pipelines.evaluate import conditional_table, run_evaluation  # noqa: E402

MIN_SLICE_ROWS = 100


def novelty_auroc(oof, target: str = "log10_sigma25", threshold: float = 2.0) -> dict[str, float]:
    """Per protocol, the AUROC with which the novelty score separates |error| > ``threshold``."""
    from sklearn.metrics import roc_auc_score

    out = {}
    for protocol, part in oof[(oof["model"] == "nce_xgb") & (oof["target"] == target)].groupby("protocol", sort=False):
        large = (part["pred"] - part["y"]).abs().to_numpy() > threshold
        if 0 < large.sum() < len(large):
            out[protocol] = float(roc_auc_score(large, part["novelty"].to_numpy()))
    return out


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
        models=["nce_xgb"],
        seed=args.seed,
        max_rows=args.max_rows,
        on_step=lambda s: print(f"[{time.time() - start:6.0f} s] {s}", flush=True),
    )
    summary = result["summary"]
    auroc = novelty_auroc(result["oof"])
    shown = summary[(summary["n"] >= MIN_SLICE_ROWS) & (summary["slice"] != "Li and S (any anion)")]
    headline = summary[summary["slice"].isin(["all", "in NCE's domain", "outside NCE's domain"])]
    lines = [
        f"- {r.protocol}, {r.target}, {r.slice}: coverage {r.coverage:.3f}, median width {r.median_width:.2f}, "
        f"interval score {r.interval_score:.2f} (n = {r.n})"
        for r in headline.itertuples()
    ]
    body = f"""Command: `python benchmarks/intervals.py` (seed {args.seed}, {result["n_rows"]} curated rows, MLflow run
`{result["run_id"]}`, {time.time() - start:.0f} s on 2 cores). The served model's out-of-fold 90 % intervals
(one constant conformal margin per target), sliced by NCE's own out-of-fold domain and novelty (the domain's
mean distance to the 5 nearest training glasses, deciles within each protocol and target), anion family, mobile
ion and sigma25 source; slices with at least {MIN_SLICE_ROWS} rows. Interval score: Winkler's, alpha = 0.1
(width plus 20 times the miss), lower is better.

{chr(10).join(lines)}

Does the novelty score rank the large errors? AUROC of novelty for |log10 sigma25 error| > 2 decades
(issue 18's target: >= 0.75 under the family protocol): {", ".join(f"{p} {v:.3f}" for p, v in auroc.items())}.

{conditional_table(shown)}
"""
    if args.max_rows is None and not args.no_write:
        write_section("Intervals: conditional coverage", body)
    print(body)


if __name__ == "__main__":
    main()
