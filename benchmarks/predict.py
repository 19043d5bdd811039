"""Prediction throughput and streaming memory.

    python benchmarks/predict.py [--rows 100000] [--stream-rows 2000000]

Generates candidate compositions from the dataset's component space (SciGlass component
lists with perturbed amounts), scores them end to end from a CSV (parse, featurize, both
targets with intervals, domain) with `predict_file`, and streams a larger CSV in chunks in a
child process whose peak resident memory is reported. The baseline in the same run is the
featurization alone, so the table shows what the models and the domain cost on top.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nce.models import io

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402


def candidates(n: int, seed: int = 0) -> pd.DataFrame:
    from nce.data.datasets import load_conductivity
    from nce.featurize import format_components, parse_many

    texts = load_conductivity()["composition"].tolist()
    parsed = [p for p in parse_many(texts) if not isinstance(p, Exception) and p.components]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(parsed), size=n)
    rows = []
    for i in picks:
        comps = parsed[i].components
        amounts = np.array(list(comps.values())) * rng.uniform(0.8, 1.2, size=len(comps))
        rows.append(format_components(dict(zip(comps, amounts / amounts.sum() * 100))))
    return pd.DataFrame({"composition": rows})


def _stream_child(model_dir: str, inp: str, out: str) -> None:
    from nce.pipelines.predict import predict_file

    start = time.perf_counter()
    counts = predict_file(io.load(model_dir), inp, out, chunk_rows=100_000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{counts['rows']} {time.perf_counter() - start:.1f} {peak_mb:.0f}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _stream_child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stream-rows", type=int, default=2_000_000)
    args = parser.parse_args()

    from nce.pipelines.predict import load_model, predict_file

    model = load_model(None, on_step=lambda s: print(s, flush=True))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = io.save(model, tmp / "model")
        frame = candidates(args.rows)
        frame.to_csv(tmp / "in.csv", index=False)
        start = time.perf_counter()
        model.featurizer.transform(frame)
        featurize_s = time.perf_counter() - start
        start = time.perf_counter()
        counts = predict_file(model, tmp / "in.csv", tmp / "out.csv")
        e2e_s = time.perf_counter() - start
        reps = int(np.ceil(args.stream_rows / len(frame)))
        with open(tmp / "big.csv", "w") as fh:
            fh.write("composition\n")
            for _ in range(reps):
                frame["composition"].to_csv(fh, header=False, index=False)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(model_dir), str(tmp / "big.csv"), str(tmp / "big_out.csv")],
            capture_output=True,
            text=True,
            check=True,
        )
        stream_rows, stream_s, peak_mb = child.stdout.split()
    table = f"""| step | rows | seconds | rows/s |
|---|---:|---:|---:|
| baseline: featurize only (parse + GlassFeaturizer.transform) | {len(frame):,} | {featurize_s:.1f} | {len(frame) / featurize_s:,.0f} |
| end to end from CSV (parse, featurize, sigma25 + Ea with intervals, domain, write) | {counts["rows"]:,} | {e2e_s:.1f} | {counts["rows"] / e2e_s:,.0f} |
| streaming in chunks of 100,000 (child process) | {int(stream_rows):,} | {float(stream_s):.1f} | {int(stream_rows) / float(stream_s):,.0f} |

Peak resident memory of the streaming process: {float(peak_mb):,.0f} MB (target < 2,000 MB). End-to-end target: 100,000 in <= 60 s.
Command: `python benchmarks/predict.py --rows {args.rows} --stream-rows {args.stream_rows}` on 2 cores."""
    print(table)
    write_section("Prediction throughput and streaming memory", table)


if __name__ == "__main__":
    main()
