"""Gradient-boosted regressors: the point model NCE serves, and the constant-margin interval
that was NCE's until its intervals learned novelty (kept as the baseline they are measured
against; the served intervals are nce.models.uncertainty's).

:class:`BoostedRegressor` is the point model (xgboost or scikit-learn's histogram boosting).
:class:`ConformalGBMRegressor` adds a 90 % interval by conformalized quantile regression
(Romano, Patterson & Candes 2019, NeurIPS, "Conformalized Quantile Regression"): a quantile
model trained on the proper training groups gives [q_lo(x), q_hi(x)]; on held-out calibration
*groups* (publications, chemical systems or families, whatever the caller groups by) the
conformity score s = max(q_lo - y, y - q_hi) sets the margin Q, its ceil((n+1)(1-alpha))/n
quantile. The point estimate is the point model fitted on all rows.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

Backend = Literal["xgboost", "sklearn"]
Loss = Literal["absolute_error", "squared_error"]
_XGB_OBJECTIVE = {"absolute_error": "reg:absoluteerror", "squared_error": "reg:squarederror"}
#: The boosting defaults: the best of a 60-trial ``nce tune`` study (issue 19; benchmarks/RESULTS.md,
#: "Model settings"), chosen on publication-grouped inner folds of the training part of outer
#: fold 0 and rounded to three figures. They replaced 600 trees, depth 6, learning rate 0.05,
#: subsample 0.8, colsample 0.6, min child weight 2, lambda 1.
TUNED = {
    "n_estimators": 1001,
    "max_depth": 5,
    "learning_rate": 0.0726,
    "subsample": 0.559,
    "colsample_bytree": 0.747,
    "min_child_weight": 2.32,
    "reg_lambda": 6.47,
}
#: The one class a skops file of the sklearn backend may hold beyond skops' defaults.
SKOPS_TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


def conformal_margin(scores: np.ndarray, coverage: float) -> float:
    """The finite-sample conformal quantile of the scores (Vovk et al. 2005)."""
    scores = np.sort(np.asarray(scores, dtype=float))
    n = scores.size
    if n == 0:
        raise ValueError("no calibration rows")
    rank = int(np.ceil((n + 1) * coverage))
    return float(scores[min(rank, n) - 1]) if rank <= n else float(scores[-1] * 1.5 + 1e-9)


def split_groups(groups: np.ndarray, fraction: float, random_state: int) -> np.ndarray:
    """Boolean mask of calibration rows: whole groups drawn at random until ~fraction of rows."""
    groups = np.asarray(groups)
    unique, counts = np.unique(groups, return_counts=True)
    order = np.random.default_rng(random_state).permutation(unique.size)
    cumulative = np.cumsum(counts[order])
    chosen = unique[order[: max(1, int(np.searchsorted(cumulative, fraction * groups.size)) + 1)]]
    if chosen.size == unique.size:  # keep at least one group for proper training
        chosen = chosen[:-1]
    return np.isin(groups, chosen)


class BoostedRegressor(RegressorMixin, BaseEstimator):
    """Gradient-boosted point regressor, xgboost or scikit-learn.

    Parameters
    ----------
    backend: ``"xgboost"`` (hist trees, saved in xgboost's own UBJ format) or ``"sklearn"``
        (HistGradientBoostingRegressor, saved with skops, which loads without unpickling).
    loss: ``absolute_error`` (the default) resists the unit and sign errors some
        publications carry, and the score NCE reports is an MAE.
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight,
    reg_lambda: tree-boosting settings (defaults: :data:`TUNED`).
    random_state: boosting seed.
    n_jobs: threads.
    """

    _parameter_constraints: dict = {
        "backend": [StrOptions({"xgboost", "sklearn"})],
        "loss": [StrOptions({"absolute_error", "squared_error"})],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        backend: Backend = "xgboost",
        loss: Loss = "absolute_error",
        n_estimators: int = TUNED["n_estimators"],
        max_depth: int = TUNED["max_depth"],
        learning_rate: float = TUNED["learning_rate"],
        subsample: float = TUNED["subsample"],
        colsample_bytree: float = TUNED["colsample_bytree"],
        min_child_weight: float = TUNED["min_child_weight"],
        reg_lambda: float = TUNED["reg_lambda"],
        random_state: int = 0,
        n_jobs: int = 2,
    ):
        self.backend = backend
        self.loss = loss
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- model factories -------------------------------------------------------------
    def _xgb_params(self) -> dict:
        return dict(
            tree_method="hist",
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    def _make(self, quantiles: tuple[float, float] | None = None):
        if self.backend == "xgboost":
            import xgboost as xgb

            if quantiles is None:
                return xgb.XGBRegressor(objective=_XGB_OBJECTIVE[self.loss], **self._xgb_params())
            return xgb.XGBRegressor(
                objective="reg:quantileerror", quantile_alpha=np.array(quantiles), **self._xgb_params()
            )
        if self.backend == "sklearn":
            from sklearn.ensemble import HistGradientBoostingRegressor

            common = dict(
                max_iter=self.n_estimators,
                max_depth=self.max_depth,
                learning_rate=self.learning_rate,
                l2_regularization=self.reg_lambda,
                min_samples_leaf=max(1, int(self.min_child_weight * 5)),
                max_features=self.colsample_bytree,
                random_state=self.random_state,
            )
            if quantiles is None:
                return HistGradientBoostingRegressor(loss=self.loss, **common)
            return [HistGradientBoostingRegressor(loss="quantile", quantile=q, **common) for q in quantiles]
        raise ValueError(f"unknown backend {self.backend!r}")

    def point_estimator(self):
        """An unfitted point model with this estimator's settings (for quick scoring)."""
        return self._make()

    # -- estimator API -----------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        self._validate_params()
        X = np.asarray(X, dtype=np.float32)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.point_model_ = self.point_estimator()
        self.point_model_.fit(X, np.asarray(y, dtype=float), sample_weight=w)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "point_model_")
        return np.asarray(self.point_model_.predict(np.asarray(X, dtype=np.float32)), dtype=float)

    # -- persistence (nce.models.io: xgboost UBJ or skops files, never pickle) -----------
    def _models(self) -> dict:
        return {"point": self.point_model_}

    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "point_model_")
        models = self._models()
        if self.backend == "xgboost":
            for name, model in models.items():
                model.save_model(directory / f"{name}.ubj")
        else:
            import skops.io

            skops.io.dump(
                {k: v if not isinstance(v, list) else list(v) for k, v in models.items()}, directory / "models.skops"
            )
        return {"n_features_in": self.n_features_in_}

    def _load_models(self, directory: Path, names: tuple[str, ...]) -> dict:
        if self.backend == "xgboost":
            import xgboost as xgb

            out = {}
            for name in names:
                out[name] = xgb.XGBRegressor()
                out[name].load_model(directory / f"{name}.ubj")
            return out
        import skops.io

        return skops.io.load(directory / "models.skops", trusted=SKOPS_TRUSTED)

    def _load_state(self, state: dict, directory: Path) -> None:
        self.point_model_ = self._load_models(directory, ("point",))["point"]
        self.n_features_in_ = int(state["n_features_in"])

    def feature_importances(self) -> np.ndarray | None:
        """Gain importance of each feature in the point model (None for the sklearn backend,
        whose trees record no gain)."""
        check_is_fitted(self, "point_model_")
        if self.backend != "xgboost":
            return None
        gain = self.point_model_.get_booster().get_score(importance_type="gain")
        return np.array([gain.get(f"f{i}", 0.0) for i in range(self.n_features_in_)])


class ConformalGBMRegressor(BoostedRegressor):
    """:class:`BoostedRegressor` plus a constant-margin conformalized-quantile interval.

    Parameters
    ----------
    coverage: nominal coverage of ``predict_interval``.
    calibration_fraction: share of rows (by whole groups) held out to calibrate the interval.
    The others as :class:`BoostedRegressor`; the quantile models share its settings.
    """

    _parameter_constraints: dict = {
        **BoostedRegressor._parameter_constraints,
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        backend: Backend = "xgboost",
        loss: Loss = "absolute_error",
        coverage: float = 0.9,
        calibration_fraction: float = 0.2,
        n_estimators: int = TUNED["n_estimators"],
        max_depth: int = TUNED["max_depth"],
        learning_rate: float = TUNED["learning_rate"],
        subsample: float = TUNED["subsample"],
        colsample_bytree: float = TUNED["colsample_bytree"],
        min_child_weight: float = TUNED["min_child_weight"],
        reg_lambda: float = TUNED["reg_lambda"],
        random_state: int = 0,
        n_jobs: int = 2,
    ):
        super().__init__(
            backend=backend,
            loss=loss,
            n_estimators=n_estimators,
            max_depth=max_depth,
            learning_rate=learning_rate,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            min_child_weight=min_child_weight,
            reg_lambda=reg_lambda,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.coverage = coverage
        self.calibration_fraction = calibration_fraction

    def _quantile_predict(self, X) -> np.ndarray:
        if self.backend == "xgboost":
            out = np.asarray(self.quantile_model_.predict(X), dtype=float).reshape(len(X), -1)
        else:
            out = np.column_stack([m.predict(X) for m in self.quantile_model_])
        return np.sort(out, axis=1)  # guard against quantile crossing

    def fit(self, X, y, groups=None, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=float)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        alpha = 1.0 - self.coverage
        calib = split_groups(groups, self.calibration_fraction, self.random_state)
        proper = ~calib
        self.quantile_model_ = self._make((alpha / 2, 1 - alpha / 2))
        wp = None if w is None else w[proper]
        if self.backend == "xgboost":
            self.quantile_model_.fit(X[proper], y[proper], sample_weight=wp)
        else:
            for m in self.quantile_model_:
                m.fit(X[proper], y[proper], sample_weight=wp)
        q = self._quantile_predict(X[calib])
        scores = np.maximum(q[:, 0] - y[calib], y[calib] - q[:, 1])
        self.margin_ = conformal_margin(scores, self.coverage)
        self.n_calibration_ = int(calib.sum())
        return self

    def predict_interval(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the ``coverage`` interval (the estimate lies inside)."""
        return self.predict_with_interval(X)[1:]

    def predict_with_interval(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``predict(X)`` and ``predict_interval(X)`` in one pass (the point model runs once)."""
        check_is_fitted(self, "quantile_model_")
        X = np.asarray(X, dtype=np.float32)
        q = self._quantile_predict(X)
        point = self.predict(X)
        return point, np.minimum(q[:, 0] - self.margin_, point), np.maximum(q[:, 1] + self.margin_, point)

    # -- persistence --------------------------------------------------------------------
    def _models(self) -> dict:
        return {"point": self.point_model_, "quantile": self.quantile_model_}

    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "quantile_model_")
        return {**super()._save_state(directory), "margin": self.margin_, "n_calibration": self.n_calibration_}

    def _load_state(self, state: dict, directory: Path) -> None:
        models = self._load_models(directory, ("point", "quantile"))
        self.point_model_ = models["point"]
        self.quantile_model_ = models["quantile"] if self.backend == "xgboost" else list(models["quantile"])
        self.margin_ = float(state["margin"])
        self.n_calibration_ = int(state["n_calibration"])
        self.n_features_in_ = int(state["n_features_in"])
