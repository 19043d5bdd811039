"""What processing adds to a melt-quenched glass: a small residual model with honest width.

The composition model learned from SciGlass predicts the melt-quenched glass. For a row made
another way (milled, from solution, sputtered; heated into a glass- or amorphous-ceramic)
:class:`ProcessingOffsetModel` learns the offset, in decades, between the measured log10
sigma and the glass model's log10 sigma at the same temperature, from route, state and heat
treatment (absolute, and relative to the predicted Tg) and the sulfide share of the anions
(sulfide glass-ceramics gain, oxide ones often lose). Two regressors, both with a zero prior
mean so that far from any processed observation the offset returns to 0 and its standard
deviation to the prior's: Bayesian ridge without intercept (MacKay 1992; the default, chosen by
``nce evaluate --source literature``) and a Gaussian process (Rasmussen & Williams 2006).

It learns only from rows it can attribute to processing (:func:`offset_training_rows`): a
crystalline phase is not a processed glass (its conductivity is set by its structure, outside
NCE's non-crystalline scope), and where the glass model is outside its own domain the residual
measures the glass model's ignorance, not processing. A processing combination with fewer than
:data:`MIN_ROWS_PER_COMBINATION` such rows gets a wide interval and ``in_domain = False``. The
default glass (melt_quench, glass, no heat treatment) gets no offset by construction, so
SciGlass predictions are unchanged.

Saved through :mod:`nce.models.io` as JSON state (training inputs, targets and fitted
kernel); loading refits with those parameters fixed, so nothing is unpickled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import BayesianRidge

from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.processing import heat_treatment_column, vocabulary_column

#: Offset-model inputs; the default glass is the all-zero row.
OFFSET_FEATURES: tuple[str, ...] = (
    *(f"state_{s}" for s in STATES if s != DEFAULT_STATE),
    *(f"route_{r}" for r in ROUTES if r != DEFAULT_ROUTE),
    "heat_treated",
    "heat_treatment_above_Tg_100K",
    "sulfide_share",
)
#: A (route, state) pair needs this many training rows before its offset counts as in domain.
MIN_ROWS_PER_COMBINATION = 3
Z90 = 1.6448536269514722


def offset_features(frame: pd.DataFrame, Tg_K, anion_S_share) -> pd.DataFrame:
    """The inputs of :class:`ProcessingOffsetModel`: the processing columns of ``frame``,
    the predicted glass transition ``Tg_K`` and sulfur's share of the anions (both from the
    glass featurizer)."""
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    ht_C = heat_treatment_column(frame)
    out = pd.DataFrame(index=frame.index)
    for s in STATES:
        if s != DEFAULT_STATE:
            out[f"state_{s}"] = (state == s).astype(float)
    for r in ROUTES:
        if r != DEFAULT_ROUTE:
            out[f"route_{r}"] = (route == r).astype(float)
    treated = np.isfinite(ht_C)
    out["heat_treated"] = treated.astype(float)
    above = (ht_C + 273.15 - np.asarray(Tg_K, dtype=float)) / 100.0
    out["heat_treatment_above_Tg_100K"] = np.where(treated & np.isfinite(above), np.clip(above, -5, 5), 0.0)
    out["sulfide_share"] = np.nan_to_num(np.asarray(anion_S_share, dtype=float))
    # the sulfide share only matters for processed rows: the default glass stays at zero
    out["sulfide_share"] *= (out.drop(columns="sulfide_share").abs().sum(axis=1) > 0).astype(float)
    return out[list(OFFSET_FEATURES)]


def offset_training_rows(frame: pd.DataFrame, glass_in_domain) -> np.ndarray:
    """Rows of ``frame`` an offset can be learned from: not crystalline, glass baseline in its domain."""
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    return (np.asarray(state, dtype=object) != "crystalline") & np.asarray(glass_in_domain, dtype=bool)


def is_default_processing(features: pd.DataFrame) -> np.ndarray:
    return (features.to_numpy() == 0).all(axis=1)


class ProcessingOffsetModel(RegressorMixin, BaseEstimator):
    """Offset (decades) of log10 sigma from the melt-quenched-glass prediction.

    Parameters
    ----------
    method: ``"ridge"`` (Bayesian ridge, no intercept; the default chosen by ``nce evaluate
        --source literature``) or ``"gp"`` (Gaussian process on the same inputs).
    interval_scale: multiplies the offset's standard deviation in the 90 % interval
        (fitted by :meth:`calibrate` on grouped out-of-fold residuals).
    """

    def __init__(self, method: str = "ridge", interval_scale: float = 1.0):
        self.method = method
        self.interval_scale = interval_scale

    def _estimator(self):
        if self.method == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

            kernel = ConstantKernel(1.0, (0.05, 20.0)) * RBF(1.0, (0.3, 10.0)) + WhiteKernel(0.3, (0.01, 4.0))
            return GaussianProcessRegressor(kernel=kernel, normalize_y=False, n_restarts_optimizer=2, random_state=0)
        if self.method == "ridge":
            return BayesianRidge(fit_intercept=False)
        raise ValueError(f"unknown method {self.method!r}; choose gp or ridge")

    def fit(self, X: pd.DataFrame, y, route_state=None):
        """``X`` from :func:`offset_features`; ``y`` = measured − glass-model log10 sigma;
        ``route_state``: per row ``"route/state"`` text, counted for the domain rule."""
        X = X[list(OFFSET_FEATURES)].to_numpy(dtype=float)
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        self.X_train_, self.y_train_ = X[ok], y[ok]
        self.estimator_ = self._estimator().fit(self.X_train_, self.y_train_)
        combos = pd.Series(np.asarray(route_state if route_state is not None else ["?"] * len(y), dtype=object)[ok])
        self.combination_counts_ = {str(k): int(v) for k, v in combos.value_counts().items()}
        return self

    def predict(self, X: pd.DataFrame, return_std: bool = False):
        Xv = X[list(OFFSET_FEATURES)].to_numpy(dtype=float)
        if self.method == "gp":
            mean, std = self.estimator_.predict(Xv, return_std=True)
            # the white-noise share is measurement scatter, not uncertainty of the offset
            std = np.sqrt(np.maximum(std**2 - self.estimator_.kernel_.k2.noise_level, 0.0))
        else:
            mean, std = self.estimator_.predict(Xv, return_std=True)
        default = is_default_processing(X[list(OFFSET_FEATURES)])
        mean, std = np.where(default, 0.0, mean), np.where(default, 0.0, std)
        return (mean, std) if return_std else mean

    def processed(self, X: pd.DataFrame, glass, below, above) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log10 sigma of processed rows and its 90 % bounds, from the glass model's value and
        the two sides of its (asymmetric) interval, each widened by the offset's uncertainty."""
        mean, std = self.predict(X, return_std=True)
        center = np.asarray(glass) + mean
        return center, center - self.half_width(std, below), center + self.half_width(std, above)

    def noise_sd(self) -> float:
        """Scatter of a single processed measurement around the offset (decades)."""
        if self.method == "gp":
            return float(np.sqrt(self.estimator_.kernel_.k2.noise_level))
        return float(np.sqrt(1.0 / self.estimator_.alpha_))

    def half_width(self, std: np.ndarray, base_half_width: np.ndarray) -> np.ndarray:
        """90 % half-width of a processed prediction: glass model ⊕ offset ⊕ scatter."""
        spread = np.sqrt(np.asarray(base_half_width) ** 2 + (Z90 * np.asarray(std)) ** 2 + (Z90 * self.noise_sd()) ** 2)
        return self.interval_scale * spread

    def in_domain(self, route_state) -> np.ndarray:
        counts = np.array([self.combination_counts_.get(str(c), 0) for c in route_state])
        return counts >= MIN_ROWS_PER_COMBINATION

    # -- persistence (nce.models.io; the GP is refitted with its fitted kernel fixed) -----
    def _save_state(self, directory: Path) -> dict:
        kernel = self.estimator_.kernel_.get_params() if self.method == "gp" else {}
        return {
            "features": list(OFFSET_FEATURES),
            "X": self.X_train_.tolist(),
            "y": self.y_train_.tolist(),
            "combination_counts": self.combination_counts_,
            "kernel": {k: float(v) for k, v in kernel.items() if isinstance(v, (int, float))},
        }

    def _load_state(self, state: dict, directory: Path) -> None:
        if state.get("features") != list(OFFSET_FEATURES):
            raise ValueError("processing model was saved with other features; retrain with `nce train`")
        self.X_train_, self.y_train_ = np.asarray(state["X"], dtype=float), np.asarray(state["y"], dtype=float)
        self.combination_counts_ = dict(state["combination_counts"])
        if self.method == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

            k = state["kernel"]
            kernel = ConstantKernel(k["k1__k1__constant_value"], "fixed") * RBF(
                k["k1__k2__length_scale"], "fixed"
            ) + WhiteKernel(k["k2__noise_level"], "fixed")
            self.estimator_ = GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=False).fit(
                self.X_train_, self.y_train_
            )
        else:
            self.estimator_ = BayesianRidge(fit_intercept=False).fit(self.X_train_, self.y_train_)
