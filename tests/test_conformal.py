"""Conformal intervals: coverage on held-out groups, agreement with MAPIE, safe save/load."""

from __future__ import annotations

import numpy as np
import pytest

from nce.models import io
from nce.models.conformal import ConformalGBMRegressor, conformal_margin, split_groups


def _synthetic(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    groups = rng.integers(0, 300, size=n)
    group_offset = rng.normal(0, 0.3, size=300)[groups]  # publications disagree
    noise = rng.normal(0, 0.2 + 0.3 * np.abs(X[:, 1]), size=n)  # heteroscedastic
    y = np.sin(X[:, 0]) * 2 + X[:, 1] + group_offset + noise
    return X, y, groups


def test_conformal_margin_is_the_finite_sample_quantile():
    scores = np.arange(1, 20, dtype=float)  # n = 19, coverage 0.9 -> rank ceil(20 * 0.9) = 18
    assert conformal_margin(scores, 0.9) == 18.0


def test_split_groups_keeps_groups_whole():
    groups = np.repeat(np.arange(50), 4)
    calib = split_groups(groups, 0.2, 0)
    for g in range(50):
        assert calib[groups == g].all() or not calib[groups == g].any()
    assert 0.1 < calib.mean() < 0.35


@pytest.mark.parametrize("backend", ["xgboost", "sklearn"])
def test_interval_covers_90_percent_of_new_groups(backend):
    X, y, groups = _synthetic()
    train = groups < 240
    model = ConformalGBMRegressor(backend=backend, n_estimators=150, learning_rate=0.1, max_depth=4).fit(
        X[train], y[train], groups=groups[train]
    )
    lo, hi = model.predict_interval(X[~train])
    covered = ((y[~train] >= lo) & (y[~train] <= hi)).mean()
    assert 0.83 <= covered <= 0.97
    point = model.predict(X[~train])
    assert np.all((lo <= point) & (point <= hi))
    assert np.abs(point - y[~train]).mean() < np.abs(y[~train] - y[train].mean()).mean()


def test_matches_mapie_conformalized_quantile_regression():
    mapie = pytest.importorskip("mapie.regression")
    X, y, groups = _synthetic(n=1500, seed=1)
    model = ConformalGBMRegressor(backend="sklearn", n_estimators=80, max_depth=3).fit(X, y, groups=groups)
    calib = split_groups(groups, model.calibration_fraction, model.random_state)
    lower, upper = model.quantile_model_
    cqr = mapie.ConformalizedQuantileRegressor([lower, upper, model.point_model_], confidence_level=0.9, prefit=True)
    cqr.conformalize(X[calib].astype(np.float32), y[calib])
    _, bounds = cqr.predict_interval(X[:200], symmetric_correction=True)
    q = model._quantile_predict(X[:200])
    np.testing.assert_allclose(bounds[:, 0, 0], q[:, 0] - model.margin_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(bounds[:, 1, 0], q[:, 1] + model.margin_, rtol=1e-9, atol=1e-9)


def test_save_load_round_trip_is_exact(tmp_path):
    X, y, groups = _synthetic(n=600)
    model = ConformalGBMRegressor(n_estimators=40).fit(X, y, groups=groups)
    io.save(model, tmp_path / "sigma")
    loaded = io.load(tmp_path / "sigma")
    np.testing.assert_array_equal(model.predict(X), loaded.predict(X))
    for a, b in zip(model.predict_interval(X), loaded.predict_interval(X)):
        np.testing.assert_array_equal(a, b)
    assert loaded.get_params() == model.get_params()


def test_the_sklearn_family_round_trips_without_pickle(tmp_path, monkeypatch):
    """HistGradientBoosting is saved with skops, which rebuilds it without unpickling."""
    import pickle

    X, y, groups = _synthetic(n=600)
    model = ConformalGBMRegressor(backend="sklearn", n_estimators=30).fit(X, y, groups=groups)
    io.save(model, tmp_path / "hgb")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, lambda *a, **k: (_ for _ in ()).throw(AssertionError("unpickled")))
    loaded = io.load(tmp_path / "hgb")
    np.testing.assert_array_equal(model.predict(X), loaded.predict(X))
    for a, b in zip(model.predict_interval(X), loaded.predict_interval(X)):
        np.testing.assert_array_equal(a, b)


def test_settings_are_checked_by_the_estimator():
    """A bad setting is refused before any fitting, with the setting's name and range."""
    import pytest

    X, y, groups = _synthetic(n=100)
    with pytest.raises(ValueError, match="'max_depth' parameter of ConformalGBMRegressor must be an int in the range"):
        ConformalGBMRegressor(max_depth=0.5).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="'backend' parameter"):
        ConformalGBMRegressor(backend="lightgbm").fit(X, y, groups=groups)
