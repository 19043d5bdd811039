"""The temperature benchmark's stored points and its loss on every point, on exact synthetic
glasses: lines that are linear in the inputs are recovered exactly by a linear regressor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import temperatures  # noqa: E402

from nce.data.arrhenius import log10_sigma_at  # noqa: E402


def test_stored_points_are_the_ro_temperatures_then_tk100c():
    frame = pd.DataFrame(
        {
            "log10_sigma_20C": [-5.0, np.nan],
            "log10_sigma_100C": [-3.5, np.nan],
            "log10_sigma_150C": [np.nan, -4.0],
            "log10_sigma_300C": [np.nan, -2.0],
            "TK100C_C": [np.nan, 95.0],
        }
    )
    T, sigma = temperatures.stored_points(frame)
    np.testing.assert_array_equal(T[0], [20.0, 100.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(T[1], [np.nan, np.nan, 150.0, 300.0, 95.0])
    np.testing.assert_array_equal(sigma[1], [np.nan, np.nan, -4.0, -2.0, -8.0])  # 1e8 Ohm cm at TK100C


def test_the_point_loss_recovers_exact_lines():
    rng = np.random.default_rng(0)
    n = 300
    X = rng.uniform(0, 1, (n, 2))
    sigma25, Ea = -6.0 + 3.0 * X[:, 0] - X[:, 1], 0.3 + 0.4 * X[:, 1]
    T = np.full((n, 5), np.nan)
    T[:, 2], T[:, 3] = 150.0, 300.0  # every glass measured at 150 and 300 degC
    T[: n // 3, 0] = 20.0  # a third also at 20 degC
    log10_sigma = np.where(np.isfinite(T), log10_sigma_at(sigma25[:, None], Ea[:, None], np.nan_to_num(T)), np.nan)
    rows = np.arange(n)
    sigma_model, ea_model = temperatures.arrhenius_points_fit(LinearRegression(), X, T, log10_sigma, Ea, rows)
    assert sigma_model.predict(X) == pytest.approx(sigma25, abs=1e-9)
    assert ea_model.predict(X) == pytest.approx(Ea, abs=1e-9)
