"""Processing-aware predictions on the cited literature rows, paper-grouped.

    python benchmarks/literature.py [--model FOLDER_OR_URI] [--no-write]

Runs ``nce evaluate --source literature`` (one MLflow run) on the served glass model (the
registered champion, trained on first use) and records its tables in benchmarks/RESULTS.md:
MAE, bias and 90 % coverage of the glass-only model, the processing-aware model and the
alternative offset, leave one paper out, by slice; and the offsets learned for the classic
cases (70/75Li2S-P2S5 as glass, milled, glass-ceramic; LiPON film against a Li phosphate glass).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.pipelines.literature_eval import CERAMIC, MODELS, REPORTED, SCOPE, markdown, run_literature_evaluation  # noqa: E402


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

    def ratio(slice_: str, metric: str) -> float:
        return summary.loc[(slice_, "ridge"), metric] / summary.loc[(slice_, "glass_only"), metric]

    offsets = result["offsets"]
    offset_lines = [
        "| case | log10 sigma25 | 90 % interval | offset from the glass | in domain |",
        "|---|---:|---|---:|---|",
    ]
    offset_lines += [
        f"| {r.case} | {r.log10_sigma25:.2f} | [{r.lo:.2f}, {r.hi:.2f}] | {r.offset_from_glass:+.2f} | {bool(r.in_domain)} |"
        for r in offsets.itertuples()
    ]
    s = summary.loc[SCOPE]
    body = f"""Command: `python benchmarks/literature.py` ({result["n_rows"]} literature rows from {result["papers"]} papers, leave one paper
out; MLflow run `{result["run_id"]}`; {time.time() - start:.0f} s on 2 cores). The glass model is the served one (SciGlass only; it
never sees these rows); only the offset is cross-validated. Offsets learn from the training papers' non-crystalline rows whose
glass baseline is inside the glass model's domain; every row is scored. {MODELS["ridge"]} is the default, {MODELS["gp"]} the
alternative.

On the non-crystalline rows (NCE's scope, n = {int(s.loc["glass_only", "n"])}): MAE {s.loc["ridge", "mae"]:.2f} against {s.loc["glass_only", "mae"]:.2f}
for the glass-only model (ratio {ratio(SCOPE, "mae"):.2f}); on the ceramic rows the bias is {summary.loc[(CERAMIC, "ridge"), "bias"]:+.2f} against
{summary.loc[(CERAMIC, "glass_only"), "bias"]:+.2f} (ratio {abs(ratio(CERAMIC, "bias")):.2f}); 90 % coverage {s.loc["ridge", "coverage"]:.2f}. On the reported rows alone:
MAE {summary.loc[(REPORTED, "ridge"), "mae"]:.2f} against {summary.loc[(REPORTED, "glass_only"), "mae"]:.2f} (ratio {ratio(REPORTED, "mae"):.2f}).

{markdown(result["summary"])}

Offsets learned (the model fitted on all literature rows), log10 sigma25 in S/cm:

{chr(10).join(offset_lines)}
"""
    print(body)
    if not args.no_write:
        write_section("Processing: the literature rows, paper-grouped", body)


if __name__ == "__main__":
    main()
