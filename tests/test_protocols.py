"""Evaluation protocols keep groups on one side and the temporal split looks forward."""

import pandas as pd

from nce.pipelines.metrics import regression_metrics
from nce.pipelines.protocols import chemical_system, family, groups_for, splits


def _frame():
    return pd.DataFrame(
        {
            "KOD": [1, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            "year": [1980, 1980, 1985, 1990, 1995, 2000, 2005, 2010, 2015, 2020],
            "Li": [0.3, 0.3, 0.0, 0.2, 0.1, 0.3, 0.0, 0.2, 0.3, 0.4],
            "Na": [0.0, 0.0, 0.3, 0.0, 0.1, 0.0, 0.2, 0.0, 0.0, 0.0],
            "P": [0.1, 0.1, 0.0, 0.1, 0.0, 0.1, 0.1, 0.1, 0.1, 0.1],
            "Si": [0.0, 0.0, 0.2, 0.0, 0.2, 0.0, 0.1, 0.0, 0.0, 0.0],
            "S": [0.6, 0.6, 0.0, 0.0, 0.0, 0.6, 0.0, 0.7, 0.6, 0.5],
            "O": [0.0, 0.0, 0.5, 0.7, 0.6, 0.0, 0.6, 0.0, 0.0, 0.0],
        }
    )


def test_family_and_system_labels():
    f = _frame()
    assert family(f)[0] == "Li|S|P" and family(f)[2] == "Na|O|Si"
    assert chemical_system(f)[0] == "Li-P-S"


def test_groups_never_straddle_a_split():
    f = _frame()
    for protocol in ("publication", "chemical_system", "family"):
        groups = groups_for(f, protocol)
        for train, test in splits(f, protocol, n_splits=3):
            assert not set(groups[train]) & set(groups[test])


def test_temporal_split_tests_the_newest_publications():
    f = _frame()
    ((train, test),) = list(splits(f, "temporal"))
    assert f["year"].iloc[test].min() > f["year"].iloc[train].max()


def test_metrics_hand_values():
    m = regression_metrics([0, 1, 2, 3], [0, 1, 2, 5], lo=[-1, 0, 1, 3.5], hi=[1, 2, 3, 5.5])
    assert m["mae"] == 0.5 and m["median_ae"] == 0.0 and m["coverage"] == 0.75 and m["width"] == 2.0
    assert m["within"] == 0.75 and m["rmse"] == 1.0
