"""Prediction start-up, throughput and streaming memory, in one run.

    python benchmarks/predict.py [--rows 100000] [--stream-rows 2000000] [--warm-runs 5]

1. Cold first prediction: `nce predict` of the README's three compositions in a fresh
   `HOME` (no `~/.cache/nce`) and a fresh working directory (no `./mlruns`), as a newcomer
   runs it right after `pip install -e .` (the operating system's file cache may be warm).
2. Warm single composition: `nce predict "70Li2S-30P2S5"`, the median wall clock of several runs.
3. 100,000 candidates generated from the dataset's component space (SciGlass component
   lists with perturbed amounts): the featurization alone (parse + GlassFeaturizer.transform,
   the baseline), `predict_file` end to end from CSV to CSV (parse, featurize, both targets
   with intervals, domain, write), and the whole `nce predict --input --output` command.
4. 2,000,000 rows streamed by `nce predict --input --output` in a child process, whose
   peak resident memory the operating system reports (`wait4`).
All on the packaged default model, the one a first `nce predict` uses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

README = ["70Li2S-30P2S5", "80(0.7Li2S-0.3P2S5)-20LiI", "Li2.9PO3.3N0.46"]
NCE = [sys.executable, "-m", "nce.cli"]


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


def run(args: list, env: dict | None = None, cwd=None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one command, which must succeed."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*NCE, *map(str, args)], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed: nce {' '.join(map(str, args))}: {err.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stream-rows", type=int, default=2_000_000)
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()

    from nce.pipelines.predict import load_packaged_model, predict_file

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NCE_", "MLFLOW_"))}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "home").mkdir()
        (tmp / "work").mkdir()
        fresh = {**clean, "HOME": str(tmp / "home")}
        cold_s, _ = run(["predict", *README, "--quiet"], env=fresh, cwd=tmp / "work")
        assert not (tmp / "work" / "mlruns").exists() and not (tmp / "home" / ".cache" / "nce").exists()
        warm = [
            run(["predict", "70Li2S-30P2S5", "--quiet"], env=fresh, cwd=tmp / "work")[0] for _ in range(args.warm_runs)
        ]
        warm_s = statistics.median(warm)

        model = load_packaged_model()
        frame = candidates(args.rows)
        frame.to_csv(tmp / "in.csv", index=False)
        start = time.perf_counter()
        model.featurizer_.transform(frame)
        featurize_s = time.perf_counter() - start
        start = time.perf_counter()
        counts = predict_file(model, tmp / "in.csv", tmp / "out.csv")
        e2e_s = time.perf_counter() - start
        cli_s, cli_mb = run(
            ["predict", "--input", tmp / "in.csv", "--output", tmp / "out_cli.csv", "--quiet"],
            env=fresh,
            cwd=tmp / "work",
        )

        reps = int(np.ceil(args.stream_rows / len(frame)))
        with open(tmp / "big.csv", "w") as fh:
            fh.write("composition\n")
            for _ in range(reps):
                frame["composition"].to_csv(fh, header=False, index=False)
        stream_rows = reps * len(frame)
        stream_s, stream_mb = run(
            ["predict", "--input", tmp / "big.csv", "--output", tmp / "big_out.csv", "--quiet"],
            env=fresh,
            cwd=tmp / "work",
        )
        size_mb = sum(p.stat().st_size for p in model_dir_files()) / 1e6
    table = f"""| measurement | rows | seconds | rows/s | target |
|---|---:|---:|---:|---|
| cold first `nce predict` of the README's 3 compositions (fresh `HOME` and working directory) | 3 | {cold_s:.1f} | | <= 20 s |
| warm `nce predict "70Li2S-30P2S5"` (median of {args.warm_runs} runs; {min(warm):.2f}-{max(warm):.2f} s) | 1 | {warm_s:.2f} | | <= 1.5 s |
| baseline: featurize only (parse + GlassFeaturizer.transform) | {len(frame):,} | {featurize_s:.1f} | {len(frame) / featurize_s:,.0f} | |
| `predict_file` end to end, CSV to CSV (parse, featurize, sigma25 + Ea with intervals, domain, write) | {counts["rows"]:,} | {e2e_s:.1f} | {counts["rows"] / e2e_s:,.0f} | <= 20 s |
| the whole `nce predict --input --output` command (start-up and model load included; peak {cli_mb:,.0f} MB) | {counts["rows"]:,} | {cli_s:.1f} | {counts["rows"] / cli_s:,.0f} | |
| `nce predict --input --output` streamed in chunks | {stream_rows:,} | {stream_s:.1f} | {stream_rows / stream_s:,.0f} | |

Peak resident memory of the 2,000,000-row command: {stream_mb:,.0f} MB (target <= 1,000 MB). The packaged default model's files: {size_mb:.1f} MB.
Command: `python benchmarks/predict.py --rows {args.rows} --stream-rows {args.stream_rows}` on {os.cpu_count()} cores, packaged default model."""
    print(table)
    write_section("Prediction throughput and streaming memory", table)


def model_dir_files():
    import nce.models

    return [p for p in nce.models.DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]


if __name__ == "__main__":
    main()
