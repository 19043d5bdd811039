"""The unit NCE trains, evaluates, saves and serves: one scikit-learn estimator.

:class:`NCEModel` is the only place where features, measurement features, regressors,
the applicability domain and processing offsets meet. ``fit`` featurizes the training
glasses (property sub-model features out of fold by publication), fits one clone of
``regressor`` per target (log10 sigma25 and Ea) and ``domain`` on the same features;
``fit_processing`` learns the processing offsets from processing-labelled rows. ``predict``
gives the targets, ``predict_interval`` their 90 % bounds and ``predict_table`` every output
column of the ``nce predict`` contract (docs/design.md). Saved and loaded with
:mod:`nce.models.io` (nothing unpickled).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from nce.data.arrhenius import log10_sigma_at
from nce.data.curation import LOG10_SIGMA25_RANGE
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.processing import vocabulary_column
from nce.models import io
from nce.models.conformal import ConformalGBMRegressor
from nce.models.domain import ApplicabilityDomain
from nce.models.featurizer import GlassFeaturizer
from nce.models.processing import ProcessingOffsetModel, is_default_processing, offset_features, offset_training_rows

__all__ = ["MEASUREMENT_FEATURES", "TARGETS", "NCEModel", "measurement_features", "processing_combination"]

TARGETS = ("log10_sigma25", "Ea_eV")
MEASUREMENT_FEATURES = ("sigma25_extrapolated", "sigma25_from_20C")
#: Columns of the training table kept beside a saved model, for ``--neighbors``.
REFERENCE_COLUMNS = ("KOD", "GLASNO", "first_author", "year", "composition", "log10_sigma25", "Ea_eV", "source")


def measurement_features(frame: pd.DataFrame) -> pd.DataFrame:
    """How sigma25 was derived, as features; a prediction asks for an interpolated value.

    Extrapolated and single-20-degC values differ systematically from interpolated ones
    (benchmarks/RESULTS.md), so the model learns the offset instead of absorbing it.
    """
    n = len(frame)
    source = frame["sigma25_source"].astype(str).to_numpy() if "sigma25_source" in frame else np.full(n, "")
    return pd.DataFrame(
        {
            MEASUREMENT_FEATURES[0]: (source == "extrapolated").astype(float),
            MEASUREMENT_FEATURES[1]: (source == "from_20C").astype(float),
        },
        index=frame.index,
    )


def processing_combination(frame: pd.DataFrame) -> np.ndarray:
    """``route/state`` of each row (defaults where missing): the unit of the processing domain."""
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    return np.array([f"{r}/{s}" for r, s in zip(route, state)], dtype=object)


class NCEModel(BaseEstimator):
    """Composition + processing -> log10 sigma25 and Ea with 90 % intervals and a domain flag.

    Parameters
    ----------
    featurizer: unfitted glass featurizer (default :class:`GlassFeaturizer`, which trains
        its property sub-models; pass ``GlassFeaturizer(submodels=path)`` to reuse cached ones).
    regressor: the interval regressor cloned for each target; it needs ``fit(X, y[, groups])``,
        ``predict`` and ``predict_interval`` (default :class:`ConformalGBMRegressor`; its
        ``backend`` picks the model family).
    domain: the applicability domain (default :class:`ApplicabilityDomain`).
    processing: the processing-offset model fitted by :meth:`fit_processing`
        (default :class:`ProcessingOffsetModel`).
    """

    def __init__(self, featurizer=None, regressor=None, domain=None, processing=None):
        self.featurizer = featurizer
        self.regressor = regressor
        self.domain = domain
        self.processing = processing

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: pd.DataFrame | None = None,
        groups=None,
        features: pd.DataFrame | None = None,
        data_hash: str = "",
    ) -> NCEModel:
        """Fit on a glass table.

        Args:
            X: glasses: ``composition`` text or element columns, processing columns, ``KOD``
                (publication) and ``sigma25_source``.
            y: targets, one column per target (NaN where unknown; default ``X[TARGETS]``).
            groups: groups of the interval calibration and the domain threshold (default
                ``X["KOD"]``); the featurizer always cross-fits by publication.
            features: this model's ``featurizer`` output for ``X``, computed once for a larger
                table (cross-validation); the featurizer must then be fitted already (wrap it
                in ``sklearn.frozen.FrozenEstimator``). ``predict`` takes the same argument;
                with it, the measurement features come from ``X["sigma25_source"]`` (scoring
                against those labels), without it a prediction asks for an interpolated value.
            data_hash: the training-data hash recorded with the model.
        """
        y = X[list(TARGETS)] if y is None else pd.DataFrame(y)
        groups = X["KOD"].to_numpy() if groups is None else np.asarray(groups)
        self.featurizer_ = clone(self.featurizer) if self.featurizer is not None else GlassFeaturizer()
        if features is None:
            F = self.featurizer_.fit_transform(X)  # cross-fitted by publication (X["KOD"])
        else:
            check_is_fitted(self.featurizer_)
            F = features
        self.feature_names_ = [*map(str, self.featurizer_.get_feature_names_out()), *MEASUREMENT_FEATURES]
        F = self._with_measurement(F, X)
        self.train_features_ = F  # out-of-fold sub-model features of the training rows (not saved)
        Xv = F.to_numpy(dtype=np.float32)
        template = ConformalGBMRegressor() if self.regressor is None else self.regressor
        if not hasattr(template, "predict_interval"):
            raise ValueError(f"regressor {type(template).__name__} has no predict_interval: NCE serves intervals")
        fit_groups = has_fit_parameter(template, "groups")
        self.targets_ = [str(c) for c in y.columns]
        self.models_ = {}
        for target in self.targets_:
            values = y[target].to_numpy(dtype=float)
            ok = np.isfinite(values)
            extra = {"groups": groups[ok]} if fit_groups else {}
            self.models_[target] = clone(template).fit(Xv[ok], values[ok], **extra)
        self.domain_ = clone(self.domain if self.domain is not None else ApplicabilityDomain()).fit(Xv, groups=groups)
        self.training_reference_ = X[[c for c in REFERENCE_COLUMNS if c in X]].reset_index(drop=True)
        self.data_hash_ = data_hash
        self.n_train_ = len(X)
        self.processing_ = None
        return self

    def fit_processing(self, rows: pd.DataFrame) -> NCEModel:
        """Learn processing offsets from processing-labelled observations (the literature
        set and a user's rows): measured log10 sigma(T) minus the glass model's at T, on the
        rows :func:`~nce.models.processing.offset_training_rows` keeps."""
        glass = self.glass_predictions(rows)
        X = offset_features(rows, glass["Tg_K"], glass["anion_S_share"])
        y = rows["log10_sigma_T"].to_numpy(dtype=float) - glass["log10_sigma_T"].to_numpy()
        keep = offset_training_rows(rows, glass["in_domain"])
        template = self.processing if self.processing is not None else ProcessingOffsetModel()
        self.processing_ = clone(template).fit(X[keep], y[keep], route_state=processing_combination(rows)[keep])
        return self

    # -- predicting ------------------------------------------------------------------------
    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input features of new glasses (full sub-models, interpolated sigma25)."""
        check_is_fitted(self, "models_")
        F = self.featurizer_.transform(X).set_axis(X.index)
        return pd.concat([F, measurement_features(X.drop(columns="sigma25_source", errors="ignore"))], axis=1)[
            self.feature_names_
        ]

    def _with_measurement(self, features: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
        """Featurizer output plus the measurement features of ``X``'s ``sigma25_source``."""
        F = features.drop(columns=list(MEASUREMENT_FEATURES), errors="ignore").set_axis(X.index)
        return pd.concat([F, measurement_features(X)], axis=1)[self.feature_names_]

    def _matrix(self, X: pd.DataFrame, features: pd.DataFrame | None) -> np.ndarray:
        F = self.features(X) if features is None else self._with_measurement(features, X)
        return F.to_numpy(dtype=np.float32)

    def predict(self, X: pd.DataFrame, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """Point estimates, one column per target, for melt-quenched glasses (no processing).

        Ea is at least 0 and log10 sigma25 at most 0 (1 S/cm; the curation's range)."""
        check_is_fitted(self, "models_")
        Xv = self._matrix(X, features)
        out = pd.DataFrame({t: self.models_[t].predict(Xv) for t in self.targets_}, index=X.index)
        return _clip(out, "")

    def predict_interval(
        self, X: pd.DataFrame, features: pd.DataFrame | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Lower and upper 90 % bounds, one column per target (the estimate lies inside)."""
        check_is_fitted(self, "models_")
        _, lo, hi = self._point_and_bounds(self._matrix(X, features), X.index)
        return lo, hi

    def _point_and_bounds(self, Xv: np.ndarray, index) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """:meth:`predict` and :meth:`predict_interval` of a feature matrix, each model run once
        (a regressor with ``predict_with_interval`` gives all three in one pass)."""
        point, lo, hi = {}, {}, {}
        for t in self.targets_:
            both = getattr(self.models_[t], "predict_with_interval", None)
            if both is not None:
                point[t], lo[t], hi[t] = both(Xv)
            else:
                point[t] = self.models_[t].predict(Xv)
                lo[t], hi[t] = self.models_[t].predict_interval(Xv)
        return (
            _clip(pd.DataFrame(point, index=index), ""),
            _clip(pd.DataFrame(lo, index=index), "_lo"),
            _clip(pd.DataFrame(hi, index=index), "_hi"),
        )

    def predict_table(
        self, X: pd.DataFrame, features: pd.DataFrame | None = None, processing: bool = True
    ) -> pd.DataFrame:
        """The ``nce predict`` output columns (numbers only; parsing and row errors are the
        caller's): targets with bounds, sigma at ``temperature_C``, Tg, fragility,
        non-bridging fraction, ``in_domain``.

        Rows made other than as a melt-quenched glass get the processing offset (when the
        model has one) on log10 sigma, a wider interval and the processing domain rule."""
        if features is None:  # a prediction asks for an interpolated sigma25
            X = X.drop(columns="sigma25_source", errors="ignore")
        F = self.features(X) if features is None else self._with_measurement(features, X)
        Xv = F.to_numpy(dtype=np.float32)
        point, lo, hi = self._point_and_bounds(Xv, X.index)
        out = pd.DataFrame(index=X.index)
        for target in self.targets_:
            out[target], out[f"{target}_lo"], out[f"{target}_hi"] = point[target], lo[target], hi[target]
        out["in_domain"] = self.domain_.in_domain(Xv)
        if processing and self.processing_ is not None:
            self._apply_processing(X, F, out)
            out[["log10_sigma25", "log10_sigma25_hi"]] = out[["log10_sigma25", "log10_sigma25_hi"]].clip(
                upper=LOG10_SIGMA25_RANGE[1]
            )
        if "temperature_C" in X:
            T = pd.to_numeric(X["temperature_C"], errors="coerce").to_numpy(dtype=float)
            out["log10_sigma_T"] = log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T)
        for col in ("Tg_K", "fragility_m", "nbo_fraction"):
            out[col] = F[col].to_numpy() if col in F else np.nan
        return out[[c for c in out.columns if c != "in_domain"] + ["in_domain"]]

    def glass_predictions(self, X: pd.DataFrame) -> pd.DataFrame:
        """The melt-quenched-glass model's predictions and, at each row's ``temperature_C``,
        its log10 sigma: the baseline the processing offsets are measured from."""
        X = X.drop(columns="sigma25_source", errors="ignore")
        F = self.features(X)
        if "Tg_K" not in F or "anion_S_share" not in F:
            raise ValueError("processing offsets need the physics features (a GlassFeaturizer with physics=True)")
        out = self.predict_table(X, features=F, processing=False)
        T = (
            pd.to_numeric(X["temperature_C"], errors="coerce").to_numpy(dtype=float)
            if "temperature_C" in X
            else np.full(len(X), 25.0)
        )
        out["log10_sigma_T"] = log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T)
        out["anion_S_share"] = F["anion_S_share"].to_numpy()
        return out

    def _apply_processing(self, X: pd.DataFrame, F: pd.DataFrame, out: pd.DataFrame) -> None:
        feats = offset_features(X, F["Tg_K"].to_numpy(), F["anion_S_share"].to_numpy())
        rows = np.flatnonzero(~is_default_processing(feats))
        if not rows.size:
            return
        cols = ["log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi"]
        glass, lo, hi = (out[c].to_numpy()[rows] for c in cols)
        processed = self.processing_.processed(feats.iloc[rows], glass, glass - lo, hi - glass)
        for name, values in zip(cols, processed):
            out.iloc[rows, out.columns.get_loc(name)] = values
        known = self.processing_.in_domain(processing_combination(X.iloc[rows]))
        out.iloc[rows, out.columns.get_loc("in_domain")] = out["in_domain"].to_numpy()[rows] & known

    def novelty(self, X: pd.DataFrame, features: pd.DataFrame | None = None) -> np.ndarray:
        """How far each glass is from the training glasses: the domain's distance score (a row
        is in the domain when it is at most ``domain_.threshold_``)."""
        check_is_fitted(self, "models_")
        return self.domain_.score(self._matrix(X, features))

    def neighbors(self, X: pd.DataFrame, k: int) -> pd.DataFrame:
        """The k nearest measured training glasses of each row, with their values and sources."""
        dist, idx = self.domain_.kneighbors(self.features(X).to_numpy(dtype=np.float32), k)
        rows = []
        for i, (d_row, i_row) in enumerate(zip(dist, idx)):
            for rank, (d, j) in enumerate(zip(d_row, i_row), start=1):
                rows.append(
                    {
                        "query_row": X.index[i],
                        "rank": rank,
                        "distance": float(d),
                        **self.training_reference_.iloc[j].to_dict(),
                    }
                )
        return pd.DataFrame(rows)

    def feature_importances(self, target: str) -> np.ndarray | None:
        """Gain importance of each feature for ``target`` (None when the regressor has none)."""
        check_is_fitted(self, "models_")
        method = getattr(self.models_[target], "feature_importances", None)
        return method() if method is not None else None

    # -- persistence (nce.models.io) -------------------------------------------------------
    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "models_")
        io.save(self.featurizer_, directory / "featurizer")
        for target, model in self.models_.items():
            io.save(model, directory / "regressors" / target)
        io.save(self.domain_, directory / "domain")
        if self.processing_ is not None:
            io.save(self.processing_, directory / "processing")
        self.training_reference_.to_csv(directory / "training_reference.csv", index=False)
        return {
            "targets": self.targets_,
            "feature_names": self.feature_names_,
            "data_hash": self.data_hash_,
            "n_train": self.n_train_,
            "processing": self.processing_ is not None,
        }

    def _load_state(self, state: dict, directory: Path) -> None:
        # the loaded featurizer is also the template, so a clone refits without retraining sub-models
        self.featurizer = self.featurizer_ = io.load_child(directory / "featurizer")
        self.feature_names_ = [str(c) for c in state["feature_names"]]
        expected = [*map(str, self.featurizer_.get_feature_names_out()), *MEASUREMENT_FEATURES]
        if self.feature_names_ != expected:
            diff = sorted(set(self.feature_names_) ^ set(expected))[:5]
            raise io.ModelFileError(
                f"{directory}: the model's feature list does not match this nce's features "
                f"(first differences {diff!r}, order may differ too); retrain with `nce train`"
            )
        self.targets_ = [str(t) for t in state["targets"]]
        self.models_ = {t: io.load_child(directory / "regressors" / t) for t in self.targets_}
        if any(m.n_features_in_ != len(expected) for m in self.models_.values()):
            raise io.ModelFileError(f"{directory}: regressors expect another number of features than the feature list")
        self.domain_ = io.load_child(directory / "domain")
        self.processing_ = io.load_child(directory / "processing") if state["processing"] else None
        self.training_reference_ = pd.read_csv(directory / "training_reference.csv")
        self.data_hash_ = str(state["data_hash"])
        self.n_train_ = int(state["n_train"])


def _clip(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    """Physical limits: Ea (point and lower bound) at least 0; log10 sigma25 (point and upper
    bound) at most 0, since no solid conducts ions above 1 S/cm at 25 degC."""
    if "Ea_eV" in frame and side in ("", "_lo"):
        frame["Ea_eV"] = frame["Ea_eV"].clip(lower=0.0)
    if "log10_sigma25" in frame and side in ("", "_hi"):
        frame["log10_sigma25"] = frame["log10_sigma25"].clip(upper=LOG10_SIGMA25_RANGE[1])
    return frame
