"""What processing adds to a melt-quenched glass: a small offset model calibrated on held-out papers.

The composition model learned from SciGlass predicts the melt-quenched glass. For a row made
another way (milled, from solution, sputtered; heated into a glass- or amorphous-ceramic)
:class:`ProcessingOffsetModel` learns the offset, in decades, between the measured log10
sigma and the glass model's log10 sigma at the same temperature. Its inputs
(:func:`offset_features`):

- the state and the route (one-hots);
- the heat-treatment response of sulfide ceramics, measured from the glass's own predicted
  Tg (:func:`heat_treatment_response`): nothing below Tg, a rise as the glass crystallizes,
  a maximum, and a decline once the superionic phase turns into poorer conductors (Li7P3S11
  into Li4P2S6 and Li3PS4 when heated well above its crystallization; Minami, Hayashi &
  Tatsumisago, J. Am. Ceram. Soc. 94 (2011) 1779). The shape is a prior: the literature set
  has two usable heat-treated sulfide rows (21 and 146 K above their predicted Tg) and none
  past a maximum, so only its amplitude is learned. It multiplies the ceramic states' columns
  by the sulfide share of the anions; oxide ceramics get a shift without a temperature shape;
- a state x anion-family interaction, ``ceramic_sulfide``: sulfide glass-ceramics gain
  (Li7P3S11 from 70Li2S-30P2S5 glass: Mizuno et al., Adv. Mater. 17 (2005) 918), oxide ones
  may not.

No crystallization onset per glass: SciGlass records one (``tx`` for 13,726 glasses, ``tcr``
for 24,190), but the embedded tables do not carry it and a Tx sub-model would belong to the
data build and the featurizer; the rise above Tg stands in for it (SciGlass's 36 Li-P-S glasses
with both crystallize a median 62 K above Tg).

Two regressors, both with a zero prior mean, so that far from any processed observation the
offset returns to 0: Bayesian ridge without intercept (MacKay 1992) and a Gaussian process
(Rasmussen & Williams 2006). With ``method="auto"``/``feature_set="auto"`` (the default)
:meth:`ProcessingOffsetModel.fit` chooses among the methods and feature sets by
leave-one-group-out (paper) MAE on the rows it is given, so an outer leave-one-paper-out loop
scores the whole procedure (nested; ``nce evaluate --source literature``).

The 90 % interval of a processed row is the glass's predictive interval moved by the offset,
each side widened in quadrature by the offset's own (epistemic) uncertainty only, then
multiplied by ``interval_scale_``: the finite-sample conformal quantile (Vovk, Gammerman &
Shafer 2005; Lei et al., JASA 113 (2018) 1094) of the held-out papers' normalized scores.
The glass interval already holds inter-laboratory scatter (it is calibrated on held-out
publications), so the scatter of single measurements is not added again: the one fitted
scale absorbs whatever the two parts miss on processed rows.

It learns only from rows it can attribute to processing (:func:`offset_training_rows`): a
crystalline phase is not a processed glass, and where the glass model is outside its own
domain the residual measures the glass model's ignorance, not processing. A processing
combination with fewer than :data:`MIN_ROWS_PER_COMBINATION` such rows, or a heat treatment
outside the training rows' range, is out of domain. The default glass (melt_quench, glass) is
never passed through it, so SciGlass predictions are unchanged. Ea gets no processing offset:
the literature rows give Ea for 7 of their 35 non-crystalline rows (one glass/ceramic pair).

Saved through :mod:`nce.models.io` as JSON state (training inputs, targets, the choice, the
scale and a GP's fitted kernel); loading refits with those fixed, so nothing is unpickled.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import BayesianRidge
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.processing import heat_treatment_column, vocabulary_column

__all__ = [
    "FEATURE_SETS",
    "MAX_GLASS_ROWS",
    "METHODS",
    "OFFSET_FEATURES",
    "ProcessingOffsetModel",
    "conformal_quantile",
    "default_processing",
    "glass_rows_kept",
    "heat_treatment_above_Tg_K",
    "heat_treatment_response",
    "offset_features",
    "offset_training_rows",
]

CERAMIC_STATES = ("glass_ceramic", "amorphous_ceramic")
#: Offset-model inputs; the default glass is the all-zero row.
OFFSET_FEATURES: tuple[str, ...] = (
    *(f"state_{s}" for s in STATES if s != DEFAULT_STATE),
    *(f"route_{r}" for r in ROUTES if r != DEFAULT_ROUTE),
    "ceramic_sulfide",
)
#: Candidate input sets: processing alone, and with the state x anion-family interaction.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "state": OFFSET_FEATURES[:-1],
    "state_anion": OFFSET_FEATURES,
}
METHODS = ("ridge", "gp")
#: Beside the inputs, :func:`offset_features` returns a ceramic's heat treatment above its
#: predicted Tg (K; NaN for other states and without one): the domain rule's range.
HEAT_COLUMN = "heat_treatment_above_Tg_K"

#: Heat-treatment response of a sulfide glass: e-folding of its rise above Tg (K), where its
#: decline begins (K above Tg) and over how many kelvin it falls back to the glass.
HT_RISE_K = 40.0
HT_DECLINE_ABOVE_TG_K = 250.0
HT_DECLINE_WIDTH_K = 100.0
#: A heat treatment this far outside the training rows' range (K above Tg) is out of domain.
HT_RANGE_MARGIN_K = 25.0
#: A (route, state) pair needs this many training rows before its offset counts as in domain.
MIN_ROWS_PER_COMBINATION = 3


def heat_treatment_response(above_Tg_K) -> np.ndarray:
    """Share of a sulfide ceramic's full processing gain reached after a heat treatment
    ``above_Tg_K`` kelvin above the glass's Tg: 0 at or below Tg, 1 - exp(-dT / HT_RISE_K) as
    it crystallizes (most of the gain within ~100 K: Li-P-S glasses crystallize 20-60 K above
    Tg, and 78Li2S-22P2S5 heated just above it gains a decade, Shibutani et al.), a maximum at
    HT_DECLINE_ABOVE_TG_K and a linear fall to 0 over HT_DECLINE_WIDTH_K, as the superionic
    phase decomposes (Minami, Hayashi & Tatsumisago 2011). Never negative: the model does not
    claim an over-heated ceramic falls below its glass."""
    dT = np.asarray(above_Tg_K, dtype=float)
    rise = 1.0 - np.exp(-np.maximum(dT, 0.0) / HT_RISE_K)
    fall = np.maximum(dT - HT_DECLINE_ABOVE_TG_K, 0.0) / HT_DECLINE_WIDTH_K
    return np.clip(rise - fall, 0.0, 1.0)


def heat_treatment_above_Tg_K(frame: pd.DataFrame, Tg_K) -> np.ndarray:
    """Heat-treatment temperature minus the predicted Tg (K); NaN without a heat treatment."""
    return heat_treatment_column(frame) + 273.15 - np.asarray(Tg_K, dtype=float)


def offset_features(frame: pd.DataFrame, Tg_K, anion_S_share) -> pd.DataFrame:
    """The inputs of :class:`ProcessingOffsetModel` (:data:`OFFSET_FEATURES`) and
    :data:`HEAT_COLUMN`, from the processing columns of ``frame``, the predicted glass
    transition ``Tg_K`` and sulfur's share of the anions (both from the glass featurizer).

    A ceramic's state column is ``S * r + (1 - S)`` and ``ceramic_sulfide`` is ``S * r``, with
    S the sulfide share and r the :func:`heat_treatment_response` (1 when the temperature is
    not given: papers report their best treatment)."""
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    above = heat_treatment_above_Tg_K(frame, Tg_K)
    sulfide = np.clip(np.nan_to_num(np.asarray(anion_S_share, dtype=float)), 0.0, 1.0)
    response = np.where(np.isfinite(above), heat_treatment_response(np.nan_to_num(above)), 1.0)
    ceramic = np.isin(state, CERAMIC_STATES)
    out = pd.DataFrame(index=frame.index)
    for s in STATES:
        if s != DEFAULT_STATE:
            shape = sulfide * response + (1.0 - sulfide) if s in CERAMIC_STATES else 1.0
            out[f"state_{s}"] = (state == s) * shape
    for r in ROUTES:
        if r != DEFAULT_ROUTE:
            out[f"route_{r}"] = (route == r).astype(float)
    out["ceramic_sulfide"] = ceramic * sulfide * response
    out[HEAT_COLUMN] = np.where(ceramic, above, np.nan)
    return out[[*OFFSET_FEATURES, HEAT_COLUMN]]


def default_processing(frame: pd.DataFrame) -> np.ndarray:
    """Rows made as the default glass (melt_quench, glass): the offset never touches them."""
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    return (route == DEFAULT_ROUTE) & (state == DEFAULT_STATE)


def offset_training_rows(frame: pd.DataFrame, glass_in_domain) -> np.ndarray:
    """Rows of ``frame`` an offset can be learned from: not crystalline, glass baseline in its domain."""
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    return (np.asarray(state, dtype=object) != "crystalline") & np.asarray(glass_in_domain, dtype=bool)


#: At most this many melt-quenched glass rows (offset inputs all zero) are learned from: they
#: all sit at the one input where the offset is 0 by definition and only tell the regressor the
#: glass model's scatter there, which this many rows at evenly spaced ranks of their residual
#: keep; beyond it a user's hundreds of glasses made every Gaussian-process fit minutes long.
MAX_GLASS_ROWS = 60


def glass_rows_kept(Xv: np.ndarray, y: np.ndarray, learn: np.ndarray, limit: int = MAX_GLASS_ROWS) -> np.ndarray:
    """``learn`` with the glass rows (all-zero inputs) thinned to ``limit`` at evenly spaced
    ranks of ``y`` (their lowest and highest kept); unchanged with ``limit`` or fewer."""
    glass = np.flatnonzero(learn & (Xv == 0).all(axis=1))
    if len(glass) <= limit:
        return learn
    ranked = glass[np.argsort(y[glass], kind="stable")]
    kept = ranked[np.unique(np.round(np.linspace(0, len(ranked) - 1, limit)).astype(int))]
    out = learn.copy()
    out[np.setdiff1d(glass, kept)] = False
    return out


def conformal_quantile(scores, coverage: float) -> float:
    """The ceil((n + 1) * coverage)-th smallest of n scores: a split-conformal interval with
    this scale covers a new exchangeable row with probability >= coverage. With too few
    scores for that rank (n < coverage / (1 - coverage)), the largest one (no guarantee);
    without scores, 1."""
    scores = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    if not len(scores):
        return 1.0
    rank = math.ceil((len(scores) + 1) * coverage)
    return float(scores[min(rank, len(scores)) - 1])


def _z(coverage: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + coverage / 2.0))


class ProcessingOffsetModel(RegressorMixin, BaseEstimator):
    """Offset (decades) of log10 sigma from the melt-quenched-glass prediction, with a
    conformally calibrated interval.

    Parameters
    ----------
    method: ``"ridge"`` (Bayesian ridge, no intercept), ``"gp"`` (Gaussian process on the
        same inputs) or ``"auto"``: the one with the lower leave-one-group-out MAE in ``fit``.
    feature_set: a key of :data:`FEATURE_SETS` or ``"auto"`` (chosen the same way).
    coverage: nominal coverage of :meth:`processed`'s interval; its scale is fitted.
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"auto", *METHODS})],
        "feature_set": [StrOptions({"auto", *FEATURE_SETS})],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, method: str = "auto", feature_set: str = "auto", coverage: float = 0.9):
        self.method = method
        self.feature_set = feature_set
        self.coverage = coverage

    # -- the regressors ----------------------------------------------------------------------
    @staticmethod
    def _estimator(method: str):
        if method == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

            kernel = ConstantKernel(1.0, (0.05, 50.0)) * RBF(1.0, (0.3, 10.0)) + WhiteKernel(0.3, (0.01, 4.0))
            return GaussianProcessRegressor(kernel=kernel, normalize_y=False, random_state=0)
        return BayesianRidge(fit_intercept=False)

    @classmethod
    def _fit_estimator(cls, method: str, Xv: np.ndarray, y: np.ndarray):
        """A fitted regressor; a GP whose kernel settles on a bound keeps it (on ~30 rows an
        amplitude at its bound is an answer, not a failure worth a warning)."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return cls._estimator(method).fit(Xv, y)

    @staticmethod
    def _mean_std(estimator, method: str, Xv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and the standard deviation of the offset itself (the noise term,
        the scatter of single rows around it, left out: the interval scale accounts for it)."""
        with np.errstate(invalid="ignore"):
            mean, std = estimator.predict(Xv, return_std=True)
        noise = estimator.kernel_.k2.noise_level if method == "gp" else 1.0 / estimator.alpha_
        std = np.sqrt(np.maximum(std**2 - noise, 0.0))
        zero = (Xv == 0).all(axis=1)  # the all-zero row is the glass itself
        return np.where(zero, 0.0, mean), np.where(zero, 0.0, std)

    def _held_out(
        self, method: str, columns, Xv: np.ndarray, y: np.ndarray, groups: np.ndarray, learn, needed
    ) -> tuple:
        """Leave-one-group-out mean and std of the offset for the groups holding ``needed``
        rows (the processed ones: only they are scored and calibrate), learned from the other
        groups' ``learn`` rows (NaN where there are none, and elsewhere)."""
        mean, std = np.full(len(y), np.nan), np.full(len(y), np.nan)
        for g in np.unique(groups[needed]):
            test = groups == g
            train = ~test & learn
            if not train.any():
                continue
            estimator = self._fit_estimator(method, Xv[train][:, columns], y[train])
            mean[test], std[test] = self._mean_std(estimator, method, Xv[test][:, columns])
        return mean, std

    def _columns(self, feature_set: str) -> list[int]:
        return [OFFSET_FEATURES.index(c) for c in FEATURE_SETS[feature_set]]

    def fit(self, X: pd.DataFrame, y, groups=None, route_state=None, base_below=None, base_above=None, learn=None):
        """Choose the method and feature set, calibrate the interval scale, fit.

        Args:
            X: from :func:`offset_features`.
            y: measured minus glass-model log10 sigma (decades).
            groups: the paper of each row; choice and calibration leave one out at a time
                (default: every row its own group).
            route_state: per row ``"route/state"`` text, counted for the domain rule; rows
                of the default glass (``melt_quench/glass``) are neither scored nor calibrated.
            base_below, base_above: the glass interval's two sides (decades, >= 0) of each
                row, which the calibrated interval widens (default 0: the offset alone).
            learn: rows the offset learns from (default all); the others are only scored, for
                the choice and the scale (processed rows whose glass baseline NCE does not trust
                still get predictions and intervals, so they calibrate them).
        """
        self._validate_params()
        Xv = X[list(OFFSET_FEATURES)].to_numpy(dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(y)
        column = lambda v, fill: np.full(n, fill) if v is None else np.asarray(v)  # noqa: E731
        groups = np.arange(n) if groups is None else np.asarray(groups)
        combos = column(route_state, "?").astype(str)
        below, above = column(base_below, 0.0).astype(float), column(base_above, 0.0).astype(float)
        learn = column(learn, True).astype(bool)
        above_Tg = X[HEAT_COLUMN].to_numpy(dtype=float) if HEAT_COLUMN in X else np.full(n, np.nan)
        ok = np.isfinite(y)
        Xv, y, groups, combos, below, above, learn, above_Tg = (
            a[ok] for a in (Xv, y, groups, combos, below, above, learn, above_Tg)
        )
        if not learn.any():
            raise ValueError("no rows to learn processing offsets from")
        learn = glass_rows_kept(Xv, y, learn)
        processed = combos != f"{DEFAULT_ROUTE}/{DEFAULT_STATE}" if route_state is not None else ~(Xv == 0).all(axis=1)

        methods = METHODS if self.method == "auto" else (self.method,)
        sets = tuple(FEATURE_SETS) if self.feature_set == "auto" else (self.feature_set,)
        held, self.selection_ = {}, {}
        for feature_set in sets:
            for method in methods:
                mean, std = self._held_out(method, self._columns(feature_set), Xv, y, groups, learn, processed)
                held[method, feature_set] = mean, std
                scored = processed & np.isfinite(mean)
                self.selection_[f"{method}/{feature_set}"] = (
                    float(np.mean(np.abs(y - mean)[scored])) if scored.any() else float("nan")
                )
        maes = np.array(list(self.selection_.values()))
        best = int(np.nanargmin(maes)) if np.isfinite(maes).any() else 0
        self.method_, self.feature_set_ = list(held)[best]

        mean, std = held[self.method_, self.feature_set_]
        err = y - mean
        half = np.sqrt(np.where(err >= 0, above, below) ** 2 + (_z(self.coverage) * std) ** 2)
        calibrate = processed & np.isfinite(err) & (half > 0)
        self.calibration_scores_ = np.abs(err[calibrate]) / half[calibrate]
        self.interval_scale_ = conformal_quantile(self.calibration_scores_, self.coverage)

        self.X_train_, self.y_train_ = Xv[learn], y[learn]
        self.estimator_ = self._fit_estimator(
            self.method_, self.X_train_[:, self._columns(self.feature_set_)], self.y_train_
        )
        self.combination_counts_ = {str(k): int(v) for k, v in pd.Series(combos[learn]).value_counts().items()}
        heated = above_Tg[learn & np.isfinite(above_Tg)]
        self.heat_treatment_range_K_ = [float(heated.min()), float(heated.max())] if len(heated) else None
        return self

    # -- predicting --------------------------------------------------------------------------
    def predict(self, X: pd.DataFrame, return_std: bool = False):
        """The offset (decades); with ``return_std``, also its own standard deviation."""
        check_is_fitted(self, "estimator_")
        Xv = X[list(FEATURE_SETS[self.feature_set_])].to_numpy(dtype=float)
        mean, std = self._mean_std(self.estimator_, self.method_, Xv)
        return (mean, std) if return_std else mean

    def processed(self, X: pd.DataFrame, glass, below, above) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log10 sigma of processed rows and its interval at ``coverage``: the glass model's
        value moved by the offset; each side of the glass's (asymmetric) interval widened in
        quadrature by the offset's uncertainty, times ``interval_scale_``."""
        mean, std = self.predict(X, return_std=True)
        center = np.asarray(glass, dtype=float) + mean
        spread = _z(self.coverage) * std
        lower = self.interval_scale_ * np.sqrt(np.asarray(below, dtype=float) ** 2 + spread**2)
        upper = self.interval_scale_ * np.sqrt(np.asarray(above, dtype=float) ** 2 + spread**2)
        return center, center - lower, center + upper

    def in_domain(self, route_state) -> np.ndarray:
        """Whether each ``"route/state"`` had at least :data:`MIN_ROWS_PER_COMBINATION` training rows."""
        counts = np.array([self.combination_counts_.get(str(c), 0) for c in route_state])
        return counts >= MIN_ROWS_PER_COMBINATION

    def heat_treatment_known(self, above_Tg_K) -> np.ndarray:
        """Whether each heat treatment (K above Tg; NaN: none) lies within the training rows'
        range, give or take :data:`HT_RANGE_MARGIN_K`; beyond it the response is the prior's shape."""
        above_Tg_K = np.asarray(above_Tg_K, dtype=float)
        if self.heat_treatment_range_K_ is None:
            return ~np.isfinite(above_Tg_K)
        low, high = self.heat_treatment_range_K_
        inside = (above_Tg_K >= low - HT_RANGE_MARGIN_K) & (above_Tg_K <= high + HT_RANGE_MARGIN_K)
        return ~np.isfinite(above_Tg_K) | inside

    # -- persistence (nce.models.io; the GP is refitted with its fitted kernel fixed) -----
    def _save_state(self, directory: Path) -> dict:
        kernel = self.estimator_.kernel_.get_params() if self.method_ == "gp" else {}
        return {
            "features": list(OFFSET_FEATURES),
            "X": self.X_train_.tolist(),
            "y": self.y_train_.tolist(),
            "method": self.method_,
            "feature_set": self.feature_set_,
            "selection": self.selection_,
            "interval_scale": self.interval_scale_,
            "calibration_scores": self.calibration_scores_.tolist(),
            "combination_counts": self.combination_counts_,
            "heat_treatment_range_K": self.heat_treatment_range_K_,
            "kernel": {k: float(v) for k, v in kernel.items() if isinstance(v, (int, float))},
        }

    def _load_state(self, state: dict, directory: Path) -> None:
        if state.get("features") != list(OFFSET_FEATURES) or "interval_scale" not in state:
            raise ValueError("processing model was saved with other features; retrain with `nce train`")
        self.X_train_, self.y_train_ = np.asarray(state["X"], dtype=float), np.asarray(state["y"], dtype=float)
        self.method_, self.feature_set_ = str(state["method"]), str(state["feature_set"])
        self.selection_ = {str(k): float(v) for k, v in state["selection"].items()}
        self.interval_scale_ = float(state["interval_scale"])
        self.calibration_scores_ = np.asarray(state["calibration_scores"], dtype=float)
        self.combination_counts_ = dict(state["combination_counts"])
        self.heat_treatment_range_K_ = state["heat_treatment_range_K"]
        Xv = self.X_train_[:, self._columns(self.feature_set_)]
        if self.method_ == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

            k = state["kernel"]
            kernel = ConstantKernel(k["k1__k1__constant_value"], "fixed") * RBF(
                k["k1__k2__length_scale"], "fixed"
            ) + WhiteKernel(k["k2__noise_level"], "fixed")
            self.estimator_ = GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=False).fit(
                Xv, self.y_train_
            )
        else:
            self.estimator_ = BayesianRidge(fit_intercept=False).fit(Xv, self.y_train_)
