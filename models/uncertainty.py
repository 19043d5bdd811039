"""Predictive distributions whose width follows how new a glass is.

A normalized conformal predictive system (Vovk, Nouretdinov, Manokhin & Gammerman 2018,
"Conformal predictive distributions with kernels"; Bostrom, Johansson & Lofstrom 2021,
crepes): held-out residuals r = y - y_hat are divided by a difficulty sigma(d) learned from
the same held-out rows, where d describes the glass's place relative to the training glasses
(its distances, the rarity of its elements, the prediction itself; nce.models.domain). The
predictive distribution of a new glass is

    y_hat + sigma(d) * F^-1(p),

with F the empirical distribution of the calibration scores r / sigma (crepes'
ConformalPredictiveSystem does the finite-sample ranks). Every quantile comes from this one
distribution: the printed 90 % interval is its 5th and 95th percentiles, and ``nce suggest``'s
acquisitions read the same quantiles. The residuals come from held-out *groups*
(nce.models.nce_model holds out publications and, separately, whole families), and sigma for a
calibration row is itself predicted out of fold (grouped by family), so the scores are those of
glasses the difficulty model has not seen either.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

__all__ = ["NormalizedConformal", "domain_threshold"]

#: sigma never falls below this share of the calibration rows' median sigma.
SIGMA_FLOOR_SHARE = 0.05


class NormalizedConformal(BaseEstimator):
    """Conformal predictive distribution scaled by a learned difficulty.

    Parameters
    ----------
    coverage: nominal coverage of :meth:`interval`.
    n_splits: folds of the held-out predictions (by the caller) and of the difficulty
        model's own cross-fitting (by ``groups``).
    max_iter, learning_rate, max_depth, min_samples_leaf: the difficulty model, scikit-learn's
        HistGradientBoostingRegressor with absolute loss (sigma estimates the median absolute
        held-out error of glasses like this one).
    random_state: seed of the difficulty model.
    """

    _parameter_constraints: dict = {
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        coverage: float = 0.9,
        n_splits: int = 3,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_depth: int = 3,
        min_samples_leaf: int = 50,
        random_state: int = 0,
    ):
        self.coverage = coverage
        self.n_splits = n_splits
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _difficulty_model(self):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
        )

    def fit(self, D, residuals, groups=None) -> NormalizedConformal:
        """Learn sigma(d) from held-out residuals and calibrate the scores.

        Args:
            D: difficulty descriptors of the held-out rows, one row each.
            residuals: their held-out residuals y - y_hat.
            groups: groups of the difficulty model's cross-fitting (default: none shared).
        """
        from sklearn.model_selection import GroupKFold

        self._validate_params()
        D = np.asarray(D, dtype=float)
        residuals = np.asarray(residuals, dtype=float)
        if len(D) != len(residuals) or len(residuals) < 2 * self.n_splits:
            raise ValueError(f"need at least {2 * self.n_splits} held-out rows with descriptors, got {len(residuals)}")
        groups = np.arange(len(D)) if groups is None else np.asarray(groups)
        size = np.abs(residuals)
        sigma = np.empty(len(D))
        n_splits = min(self.n_splits, len(np.unique(groups)))
        for train, test in GroupKFold(n_splits=n_splits).split(D, groups=groups):
            sigma[test] = self._difficulty_model().fit(D[train], size[train]).predict(D[test])
        self.difficulty_model_ = self._difficulty_model().fit(D, size)
        self.sigma_floor_ = float(SIGMA_FLOOR_SHARE * np.median(np.abs(self.difficulty_model_.predict(D))))
        self.sigma_floor_ = max(self.sigma_floor_, 1e-6)
        self.scores_ = np.sort(residuals / np.maximum(sigma, self.sigma_floor_))
        self.n_features_in_ = D.shape[1]
        return self

    def sigma(self, D) -> np.ndarray:
        """The difficulty of each glass: the median absolute held-out error of glasses like it."""
        check_is_fitted(self, "scores_")
        return np.maximum(self.difficulty_model_.predict(np.asarray(D, dtype=float)), self.sigma_floor_)

    def _system(self):
        from crepes import ConformalPredictiveSystem

        return ConformalPredictiveSystem().fit(self.scores_, sigmas=np.ones(len(self.scores_)))

    def quantiles(self, point, D, levels, sigma: np.ndarray | None = None) -> np.ndarray:
        """Quantiles of the predictive distribution at ``levels`` (shares in (0, 1)), one row per
        glass; crepes' lower percentile below the median and higher one at and above it, so
        the 0.05 and 0.95 quantiles are :meth:`interval`'s bounds."""
        levels = np.atleast_1d(np.asarray(levels, dtype=float))
        if np.any((levels <= 0) | (levels >= 1)):
            raise ValueError("quantile levels must lie strictly between 0 and 1")
        point = np.asarray(point, dtype=float)
        sigma = self.sigma(D) if sigma is None else sigma
        system = self._system()
        percent = np.round(100 * levels, 9)  # 100 * (1 - 0.9) / 2 is 4.999...: crepes would take the rank below
        out = np.empty((len(point), len(levels)))
        low, high = levels < 0.5, levels >= 0.5
        if low.any():
            q = system.predict(point, sigmas=sigma, lower_percentiles=percent[low], smoothing=False)
            out[:, low] = np.asarray(q, dtype=float).reshape(len(point), -1)
        if high.any():
            q = system.predict(point, sigmas=sigma, higher_percentiles=percent[high], smoothing=False)
            out[:, high] = np.asarray(q, dtype=float).reshape(len(point), -1)
        return out

    def interval(self, point, D, sigma: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the central ``coverage`` interval."""
        alpha = 1.0 - self.coverage
        q = self.quantiles(point, D, [alpha / 2, 1 - alpha / 2], sigma=sigma)
        return q[:, 0], q[:, 1]

    # -- persistence (nce.models.io: NumPy arrays and a skops file, nothing unpickled) ----
    def _save_state(self, directory: Path) -> dict:
        import skops.io

        check_is_fitted(self, "scores_")
        np.save(directory / "scores.npy", self.scores_, allow_pickle=False)
        skops.io.dump(self.difficulty_model_, directory / "difficulty.skops")
        return {"sigma_floor": self.sigma_floor_, "n_features_in": self.n_features_in_}

    def _load_state(self, state: dict, directory: Path) -> None:
        import skops.io

        self.scores_ = np.load(directory / "scores.npy", allow_pickle=False)
        self.difficulty_model_ = skops.io.load(directory / "difficulty.skops", trusted=DIFFICULTY_TRUSTED)
        self.sigma_floor_ = float(state["sigma_floor"])
        self.n_features_in_ = int(state["n_features_in"])


#: The one class the difficulty model's skops file may hold beyond skops' defaults.
DIFFICULTY_TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


def domain_threshold(novelty_seen: np.ndarray, novelty_unseen: np.ndarray) -> float:
    """The novelty that best tells glasses of unseen families from glasses of seen ones.

    Youden's J (Youden 1950): the threshold t maximizing P(unseen > t) - P(seen > t), from
    held-out predictions of the same glasses with their publication held out (seen family)
    and with their whole family held out (unseen)."""
    from sklearn.metrics import roc_curve

    seen, unseen = np.asarray(novelty_seen, dtype=float), np.asarray(novelty_unseen, dtype=float)
    labels = np.r_[np.zeros(len(seen)), np.ones(len(unseen))]
    fpr, tpr, thresholds = roc_curve(labels, np.r_[seen, unseen])
    best = int(np.argmax(tpr - fpr))
    # roc_curve counts score >= threshold as positive; in_domain is novelty <= t, so step just below
    return float(np.nextafter(thresholds[best], -np.inf)) if np.isfinite(thresholds[best]) else float(seen.max())
