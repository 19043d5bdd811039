"""The predictive distribution: conditional coverage on exact synthetic data, the finite-sample
rank by hand, agreement with crepes, the Youden threshold, and a safe save/load."""

from __future__ import annotations

import numpy as np
import pytest

from nce.models import io
from nce.models.uncertainty import NormalizedConformal, domain_threshold


def _heteroscedastic(n=6000, seed=0):
    """Residuals whose scale is a known function of the first descriptor: 0.2 at d = 0, 2.2 at d = 1."""
    rng = np.random.default_rng(seed)
    D = np.column_stack([rng.uniform(0, 1, n), rng.normal(size=n)])  # the second descriptor is noise
    scale = 0.2 + 2.0 * D[:, 0]
    residuals = rng.standard_t(df=4, size=n) * scale  # heavy tails, as NCE's errors
    groups = rng.integers(0, 300, size=n)
    return D, residuals, scale, groups


def test_coverage_holds_where_the_glass_is_easy_and_where_it_is_hard():
    D, r, scale, groups = _heteroscedastic()
    fit, test = groups < 200, groups >= 200
    model = NormalizedConformal(n_splits=3).fit(D[fit], r[fit], groups=groups[fit])
    point = np.zeros(test.sum())
    lo, hi = model.interval(point, D[test])
    covered = (r[test] >= lo) & (r[test] <= hi)
    easy, hard = D[test, 0] < 0.3, D[test, 0] > 0.7
    assert 0.87 <= covered.mean() <= 0.93
    assert covered[easy].mean() >= 0.85 and covered[hard].mean() >= 0.85
    width = hi - lo
    assert np.median(width[hard]) > 3 * np.median(width[easy])  # scale ratio about 4.7
    sigma = model.sigma(D[test])
    assert np.corrcoef(sigma, scale[test])[0, 1] > 0.9


@pytest.mark.parametrize("nominal", [0.2, 0.5, 0.8, 0.9])
def test_every_level_of_the_distribution_is_calibrated(nominal):
    D, r, _, groups = _heteroscedastic(seed=1)
    fit, test = groups < 200, groups >= 200
    model = NormalizedConformal().fit(D[fit], r[fit], groups=groups[fit])
    q = model.quantiles(np.zeros(test.sum()), D[test], [(1 - nominal) / 2, (1 + nominal) / 2])
    observed = ((r[test] >= q[:, 0]) & (r[test] <= q[:, 1])).mean()
    assert abs(observed - nominal) <= 0.04


def test_finite_sample_ranks_by_hand():
    """The 0.95 quantile is point + sigma times the ceil(0.95 (n + 1))-th smallest calibration
    score, the 0.05 one the floor(0.05 (n + 1))-th; the scores are residual / out-of-fold sigma."""
    r = np.arange(1.0, 40.0)  # n = 39: ranks ceil(38) = 38 and floor(2) = 2
    D = np.zeros((39, 1))
    model = NormalizedConformal(n_splits=3, min_samples_leaf=1).fit(D, r)
    assert len(model.scores_) == 39 and np.all(np.diff(model.scores_) >= 0)
    sigma = model.sigma(D[:1])[0]
    lo, hi = model.interval(np.array([10.0]), D[:1])
    assert hi[0] == pytest.approx(10.0 + sigma * model.scores_[38 - 1])
    assert lo[0] == pytest.approx(10.0 + sigma * model.scores_[2 - 1])


def test_agrees_with_crepes_on_its_own_scores():
    crepes = pytest.importorskip("crepes")
    D, r, _, groups = _heteroscedastic(n=2000, seed=2)
    model = NormalizedConformal().fit(D, r, groups=groups)
    point, Dq = np.linspace(-1, 1, 50), D[:50]
    sigma = model.sigma(Dq)
    system = crepes.ConformalPredictiveSystem().fit(model.scores_, sigmas=np.ones(len(model.scores_)))
    expected = system.predict(point, sigmas=sigma, lower_percentiles=[5], higher_percentiles=[95], smoothing=False)
    lo, hi = model.interval(point, Dq)
    np.testing.assert_allclose(lo, expected[:, 0])
    np.testing.assert_allclose(hi, expected[:, 1])


def test_quantiles_rise_with_the_level_and_the_interval_is_the_outer_pair():
    D, r, _, groups = _heteroscedastic(n=2000, seed=3)
    model = NormalizedConformal().fit(D, r, groups=groups)
    q = model.quantiles(np.zeros(30), D[:30], [0.05, 0.25, 0.5, 0.75, 0.95])
    assert np.all(np.diff(q, axis=1) >= 0)
    lo, hi = model.interval(np.zeros(30), D[:30])
    np.testing.assert_array_equal(q[:, 0], lo)
    np.testing.assert_array_equal(q[:, -1], hi)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        model.quantiles(np.zeros(3), D[:3], [0.0, 0.5])


def test_youden_threshold_sits_between_seen_and_unseen():
    rng = np.random.default_rng(4)
    seen, unseen = rng.normal(0, 1, 20000), rng.normal(2, 1, 20000)
    t = domain_threshold(seen, unseen)
    assert 0.9 < t < 1.1  # equal variances: the midpoint
    assert domain_threshold(np.zeros(10), np.ones(10)) < 1.0  # separable: every unseen one is out


def test_save_load_round_trip_is_exact_without_pickle(tmp_path, monkeypatch):
    import pickle

    D, r, _, groups = _heteroscedastic(n=1500, seed=5)
    model = NormalizedConformal().fit(D, r, groups=groups)
    io.save(model, tmp_path / "u")

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    loaded = io.load(tmp_path / "u")
    np.testing.assert_array_equal(
        loaded.quantiles(np.ones(20), D[:20], [0.1, 0.9]), model.quantiles(np.ones(20), D[:20], [0.1, 0.9])
    )
    assert loaded.get_params() == model.get_params()
