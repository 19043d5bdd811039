"""The campaign benchmark holds a pool's neighbourhood out, scores a campaign as defined
(experiments to the first top-5 % glass, yields, gap), runs the mobile-ion rule as stated, and
its memo returns the model's own numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import active_learning as al  # noqa: E402


def test_held_out_mask_removes_the_system_and_glasses_within_l1_005():
    pool = pd.DataFrame({"Li": [0.2], "B": [0.3], "O": [0.5]})
    table = pd.DataFrame(
        {
            "Li": [0.2, 0.0, 0.23, 0.26, 0.2],
            "B": [0.3, 0.3, 0.28, 0.24, 0.3],
            "Na": [0.0, 0.2, 0.0, 0.0, 0.0],
            "O": [0.5, 0.5, 0.49, 0.5, 0.45],
            "Si": [0.0, 0.0, 0.0, 0.0, 0.05],
        }
    )
    # rows 0, 2, 3 are B-Li-O glasses (held out whatever their distance); row 1 is another
    # system far away; row 4 (Si-doped) is another system at L1 0.10 from the pool glass
    assert al.held_out_mask(table, ["B-Li-O"], pool).tolist() == [True, False, True, True, False]
    near = pd.DataFrame({"Li": [0.21], "B": [0.3], "O": [0.49], "Si": [0.0]})
    assert al.held_out_mask(near, ["Na-O-Si"], pool).tolist() == [True]  # L1 0.02 from a pool glass
    far = pd.DataFrame({"Li": [0.2], "B": [0.3], "O": [0.44], "Si": [0.06]})
    assert al.held_out_mask(far, ["Na-O-Si"], pool).tolist() == [False]  # L1 0.12


def test_scores_by_hand():
    y = np.arange(40, dtype=float)  # top 5 %: the two largest values, 38 and 39
    order = [0, 5, 38, 7, 8, 9, 10, 11, 12, 13, 39, *range(14, 38)]
    s = al.scores(order, y)
    assert s["to_top5"] == 3 and s["yield10"] == 0.5 and s["yield20"] == 1.0
    assert s["gap10"] == 1.0  # best of the first 10 is 38, the pool's best 39
    assert al.scores(list(range(38)), y)["to_top5"] == al.NOT_FOUND


def test_the_mobile_ion_rule_measures_the_most_mobile_ions_first():
    pool = pd.DataFrame({"mobile_ions": [0.1, 0.4, 0.3, 0.4, 0.0]})
    assert al.run_rule(pool, []) == [1, 3, 2, 0, 4]
    assert al.run_rule(pool, [3, 4]) == [3, 4, 1, 2, 0]  # the starts first, never twice


class _Counting:
    def __init__(self):
        self.calls = 0

    def predict_table(self, X, levels=()):
        self.calls += len(X)
        return pd.DataFrame({"log10_sigma25": -X["Li"].to_numpy() * 10}, index=X.index)


def test_the_memo_returns_the_models_numbers_and_asks_once_per_row():
    model = _Counting()
    memo = al.MemoizedModel(model)
    X = pd.DataFrame({"Li": [0.2, 0.3], "O": [0.8, 0.7], "state": ["glass", "glass"]}, index=[4, 9])
    first = memo.predict_table(X)
    # the same glasses again, with an absent element written as 0 and in another order
    again = memo.predict_table(pd.DataFrame({"O": [0.7, 0.8], "Li": [0.3, 0.2], "Na": [0.0, 0.0], "state": "glass"}))
    assert first["log10_sigma25"].tolist() == [-2.0, -3.0] and first.index.tolist() == [4, 9]
    assert again["log10_sigma25"].tolist() == [-3.0, -2.0] and model.calls == 2
