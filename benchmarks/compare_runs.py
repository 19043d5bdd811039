"""Two accuracy runs' NCE, overall and on the publications ``nce tune`` holds out.

    python benchmarks/compare_runs.py OLD_RUN_ID NEW_RUN_ID [--model nce_xgb]

Reads each run's out-of-fold predictions (the MLflow artifact ``evaluation/oof_predictions.csv.gz``
of ``python benchmarks/accuracy.py``, from the local store) and prints, per protocol and target,
the MAE over every scored training row and over the glasses of publication fold 0
(``nce.pipelines.tune.outer_split`` over the training rows): the fold ``nce tune`` holds out of every
study, so settings chosen by a study are compared there on glasses the study never saw.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from nce.pipelines import tracking
from nce.pipelines.evaluate import evaluation_frame
from nce.pipelines.tune import outer_split


def oof_predictions(run_id: str) -> pd.DataFrame:
    import mlflow

    tracking.setup()
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="evaluation/oof_predictions.csv.gz")
    return pd.read_csv(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--model", default="nce_xgb")
    args = ap.parse_args(argv)
    frame, n_train = evaluation_frame()
    held_out = np.zeros(len(frame), dtype=bool)
    held_out[outer_split(frame.iloc[:n_train])[1]] = True
    runs = {
        name: (lambda t: t[t["model"] == args.model])(oof_predictions(run))
        for name, run in (("old", args.old), ("new", args.new))
    }
    rows = []
    for (protocol, target), new in runs["new"].groupby(["protocol", "target"], sort=False):
        old = runs["old"].query("protocol == @protocol and target == @target").set_index("row")
        new = new.set_index("row")
        common = new.index.intersection(old.index)
        common = common[common < n_train]  # training rows only (the flagged rows are reported apart)
        error = {name: (t.loc[common, "pred"] - t.loc[common, "y"]).abs() for name, t in (("old", old), ("new", new))}
        fold = held_out[common]
        rows.append(
            {
                "protocol": protocol,
                "target": target,
                "n": len(common),
                "old": error["old"].mean(),
                "new": error["new"].mean(),
                "n held out": int(fold.sum()),
                "old, held out": error["old"][fold].mean(),
                "new, held out": error["new"][fold].mean(),
            }
        )
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
