"""The combinations benchmark's neighbour columns are cross-fitted: a training glass never sees
its own group's values, a tested glass sees every training glass."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import combinations  # noqa: E402


def test_neighbour_columns_never_use_the_glass_own_group():
    # ten groups, each four glasses of one composition with one value (the group's index)
    groups = np.repeat(np.arange(10), 4)
    rng = np.random.default_rng(0)
    compositions = rng.dirichlet(np.ones(3), size=10)
    fractions, y = compositions[groups], groups.astype(float)
    train, test = np.arange(36), np.arange(36, 40)  # group 9 is tested
    fit_cols, test_cols = combinations.cross_fitted_neighbours(fractions, y, train, test, groups)
    assert fit_cols.shape == (36, 3) and test_cols.shape == (4, 3)
    assert (fit_cols[:, 1] > 0).all()  # the nearest glass is never a twin from the same group
    own = y[train]
    assert not np.isclose(fit_cols[:, 0], own).any()
    # grouped by glass instead, each glass sees its three twins: distance 0, its own value
    fit_twins, _ = combinations.cross_fitted_neighbours(fractions, y, train, test, np.arange(40))
    assert fit_twins[:, 1] == pytest.approx(0.0) and fit_twins[:, 0] == pytest.approx(own)
    # a tested glass: its nearest training glass, at the distance a hand calculation gives
    nearest = np.linalg.norm(compositions[:9] - compositions[9], axis=1).min()
    assert test_cols[:, 1] == pytest.approx(nearest)
