"""The unit NCE trains, evaluates, saves and serves: one scikit-learn estimator.

:class:`NCEModel` is the only place where features, regressors, the
novelty descriptors, the predictive distribution and processing offsets meet. ``fit``
featurizes the training glasses (property sub-model features out of fold by publication),
fits one clone of ``regressor`` per target (log10 sigma25 and Ea) and ``domain`` on the
same features, then calibrates ``uncertainty`` (nce.models.uncertainty) on held-out
predictions: the same regressor refitted with publications held out and, separately, with
whole families held out, so the predictive distribution and the novelty score know how NCE
errs on glasses it has not seen. ``fit_processing`` learns the processing offsets from
processing-labelled rows. ``predict`` gives the targets, ``predict_interval`` their 90 %
bounds, ``predict_quantiles`` any quantile of the same predictive distribution, ``novelty``
and ``in_domain`` how new a glass is, and ``predict_table`` every output column of the
``nce predict`` contract (docs/design.md). Saved and loaded with :mod:`nce.models.io`
(nothing unpickled).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from nce.data.arrhenius import log10_sigma_at
from nce.data.curation import LOG10_SIGMA25_RANGE
from nce.data.groups import family
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.processing import vocabulary_column
from nce.models import io
from nce.models.conformal import BoostedRegressor
from nce.models.domain import ATOM_PREFIX, ApplicabilityDomain
from nce.models.featurizer import GlassFeaturizer
from nce.models.processing import (
    HEAT_COLUMN,
    ProcessingOffsetModel,
    default_processing,
    offset_features,
    offset_training_rows,
)
from nce.models.uncertainty import NormalizedConformal, domain_threshold

__all__ = [
    "TARGETS",
    "NCEModel",
    "processing_combination",
    "quantile_column",
]

TARGETS = ("log10_sigma25", "Ea_eV")
#: Columns of the training table kept beside a saved model, for ``--neighbors``.
REFERENCE_COLUMNS = ("KOD", "GLASNO", "first_author", "year", "composition", "log10_sigma25", "Ea_eV", "source")
#: ``uncertainty`` value that serves the regressor's own interval (the constant-margin baseline).
FROM_REGRESSOR = "regressor"
#: The target whose difficulty is the ``novelty`` of a glass.
NOVELTY_TARGET = "log10_sigma25"


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
    regressor: the point regressor cloned for each target, with ``fit(X, y[, groups])`` and
        ``predict`` (default :class:`BoostedRegressor`; its ``backend`` picks the model family).
    domain: the novelty descriptors (default :class:`ApplicabilityDomain`).
    uncertainty: the predictive distribution calibrated per target on held-out predictions
        (default :class:`NormalizedConformal`); ``"regressor"`` serves the regressor's own
        ``predict_interval`` instead (the constant-margin baseline, with no domain flag).
    processing: the processing-offset model fitted by :meth:`fit_processing`
        (default :class:`ProcessingOffsetModel`).
    """

    def __init__(self, featurizer=None, regressor=None, domain=None, uncertainty=None, processing=None):
        self.featurizer = featurizer
        self.regressor = regressor
        self.domain = domain
        self.uncertainty = uncertainty
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
            X: glasses: ``composition`` text or element columns, processing columns and ``KOD``
                (publication).
            y: targets, one column per target (NaN where unknown; default ``X[TARGETS]``).
            groups: groups passed to a regressor whose ``fit`` takes them (default
                ``X["KOD"]``); the featurizer always cross-fits by publication, and the
                uncertainty holds out publications (``X["KOD"]``) and families.
            features: this model's ``featurizer`` output for ``X``, computed once for a larger
                table (cross-validation); the featurizer must then be fitted already (wrap it
                in ``sklearn.frozen.FrozenEstimator``). ``predict`` takes the same argument.
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
        self.feature_names_ = [*map(str, self.featurizer_.get_feature_names_out())]
        F = F.set_axis(X.index)[self.feature_names_]
        self.train_features_ = F  # out-of-fold sub-model features of the training rows (not saved)
        Xv = F.to_numpy(dtype=np.float32)
        template = BoostedRegressor() if self.regressor is None else self.regressor
        uncertainty = self._uncertainty_template()
        if uncertainty is None and not hasattr(template, "predict_interval"):
            raise ValueError(
                f"regressor {type(template).__name__} has no predict_interval: NCE serves intervals "
                f"(use uncertainty other than {FROM_REGRESSOR!r})"
            )
        fit_groups = has_fit_parameter(template, "groups")
        self.targets_ = [str(c) for c in y.columns]
        Y = {t: y[t].to_numpy(dtype=float) for t in self.targets_}
        self.models_ = {}
        for target in self.targets_:
            ok = np.isfinite(Y[target])
            extra = {"groups": groups[ok]} if fit_groups else {}
            self.models_[target] = clone(template).fit(Xv[ok], Y[target][ok], **extra)
        domain = self.domain if self.domain is not None else ApplicabilityDomain()
        self.domain_ = clone(domain).fit(F)
        self.uncertainty_, self.novelty_threshold_ = {}, float("inf")
        if uncertainty is not None:
            publications = X["KOD"].to_numpy() if "KOD" in X else groups
            self._calibrate(uncertainty, template, domain, F, Y, publications)
        self.training_reference_ = X[[c for c in REFERENCE_COLUMNS if c in X]].reset_index(drop=True)
        self.data_hash_ = data_hash
        self.n_train_ = len(X)
        self.processing_ = None
        return self

    def _uncertainty_template(self):
        if isinstance(self.uncertainty, str):
            if self.uncertainty != FROM_REGRESSOR:
                raise ValueError(f"uncertainty must be an estimator or {FROM_REGRESSOR!r}, got {self.uncertainty!r}")
            return None
        return NormalizedConformal() if self.uncertainty is None else self.uncertainty

    def _calibrate(self, uncertainty, template, domain, F: pd.DataFrame, Y: dict, publications: np.ndarray) -> None:
        """Held-out predictions with publications held out and with whole families held out
        (``uncertainty.n_splits`` folds each; regressor and domain refitted on the rest), the
        uncertainty per target fitted on them, and the novelty threshold that best tells the
        family-held-out glasses from the publication-held-out ones."""
        from sklearn.model_selection import GroupKFold

        atoms = F[[c for c in F.columns if c.startswith(ATOM_PREFIX)]]
        families = family(atoms.rename(columns=lambda c: c[len(ATOM_PREFIX) :]))
        Xv = F.to_numpy(dtype=np.float32)
        fit_groups = has_fit_parameter(template, "groups")
        rows, kinds, descriptors, held = [], [], [], {t: [] for t in self.targets_}
        for kind, groups in (("publication", publications), ("family", families)):
            n_splits = min(uncertainty.n_splits, len(np.unique(groups)))
            if n_splits < 2:
                continue
            for train, test in GroupKFold(n_splits=n_splits).split(Xv, groups=groups):
                rows.append(test)
                kinds.append(np.full(len(test), kind))
                descriptors.append(clone(domain).fit(F.iloc[train]).describe(F.iloc[test]))
                for t in self.targets_:
                    fit_rows = train[np.isfinite(Y[t][train])]
                    extra = {"groups": publications[fit_rows]} if fit_groups else {}
                    held[t].append(clone(template).fit(Xv[fit_rows], Y[t][fit_rows], **extra).predict(Xv[test]))
        if not rows:
            raise ValueError("the uncertainty needs glasses from at least two publications to hold out")
        rows, kinds, descriptors = np.concatenate(rows), np.concatenate(kinds), np.vstack(descriptors)
        for t in self.targets_:
            prediction, observed = np.concatenate(held[t]), Y[t][rows]
            ok = np.isfinite(observed)
            D = np.column_stack([descriptors, prediction])[ok]
            self.uncertainty_[t] = clone(uncertainty).fit(D, observed[ok] - prediction[ok], groups=families[rows][ok])
            kind = kinds[ok]
            if t == self._novelty_target() and {"publication", "family"} <= set(kind):
                novelty = self.uncertainty_[t].sigma(D)
                self.novelty_threshold_ = domain_threshold(novelty[kind == "publication"], novelty[kind == "family"])

    def _novelty_target(self) -> str:
        return NOVELTY_TARGET if NOVELTY_TARGET in self.targets_ else self.targets_[0]

    def fit_processing(self, rows: pd.DataFrame) -> NCEModel:
        """Learn processing offsets from processing-labelled observations (the literature
        set and a user's rows): measured log10 sigma(T) minus the glass model's at T, on the
        rows :func:`~nce.models.processing.offset_training_rows` keeps. The offset model
        chooses its method and inputs and calibrates its interval scale leaving one paper
        (``KOD``) out at a time, on every non-crystalline row (those whose glass baseline is
        outside the domain are predicted and scored, not learned from)."""
        glass = self.glass_predictions(rows)
        X = offset_features(rows, glass["Tg_K"].to_numpy(), glass["anion_S_share"].to_numpy())
        y = rows["log10_sigma_T"].to_numpy(dtype=float) - glass["log10_sigma_T"].to_numpy()
        scope = offset_training_rows(rows, np.ones(len(rows), dtype=bool))  # not crystalline
        learn = offset_training_rows(rows, glass["in_domain"])
        papers = rows["KOD"].astype(str).to_numpy() if "KOD" in rows else np.arange(len(rows))
        below = (glass["log10_sigma25"] - glass["log10_sigma25_lo"]).to_numpy()
        above = (glass["log10_sigma25_hi"] - glass["log10_sigma25"]).to_numpy()
        template = self.processing if self.processing is not None else ProcessingOffsetModel()
        self.processing_ = clone(template).fit(
            X[scope],
            y[scope],
            groups=papers[scope],
            route_state=processing_combination(rows)[scope],
            base_below=below[scope],
            base_above=above[scope],
            learn=learn[scope],
        )
        return self

    # -- predicting ------------------------------------------------------------------------
    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input features of new glasses (full sub-models)."""
        check_is_fitted(self, "models_")
        return self.featurizer_.transform(X).set_axis(X.index)[self.feature_names_]

    def _table(self, X: pd.DataFrame, features: pd.DataFrame | None) -> pd.DataFrame:
        return self.features(X) if features is None else features.set_axis(X.index)[self.feature_names_]

    def predict(self, X: pd.DataFrame, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """Point estimates, one column per target, for melt-quenched glasses (no processing).

        Ea is at least 0 and log10 sigma25 at most 0 (1 S/cm; the curation's range)."""
        check_is_fitted(self, "models_")
        Xv = self._table(X, features).to_numpy(dtype=np.float32)
        out = pd.DataFrame({t: self.models_[t].predict(Xv) for t in self.targets_}, index=X.index)
        return _clip(out, "")

    def predict_interval(
        self, X: pd.DataFrame, features: pd.DataFrame | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Lower and upper 90 % bounds, one column per target."""
        check_is_fitted(self, "models_")
        _, lo, hi, _, _ = self._point_and_bounds(self._table(X, features), X.index)
        return lo, hi

    def predict_quantiles(self, X: pd.DataFrame, levels, features: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Quantiles of each target's predictive distribution at ``levels`` (shares in (0, 1)),
        one row per glass: the distribution whose 0.05 and 0.95 quantiles are the printed
        interval (melt-quenched glasses, physical limits applied)."""
        check_is_fitted(self, "models_")
        q = self._point_and_bounds(self._table(X, features), X.index, tuple(levels))[4]
        return {t: q[[quantile_column(t, level) for level in levels]].to_numpy() for t in self.targets_}

    def novelty(self, X: pd.DataFrame, features: pd.DataFrame | None = None) -> np.ndarray:
        """How new each glass is to NCE: the median absolute log10 sigma25 error (decades) of
        held-out glasses like it (the difficulty of :class:`NormalizedConformal`); for the
        constant-margin baseline, the mean distance to the nearest training glasses."""
        check_is_fitted(self, "models_")
        return self._point_and_bounds(self._table(X, features), X.index)[3]

    def in_domain(self, novelty: np.ndarray) -> np.ndarray:
        """Whether glasses of this ``novelty`` are like the glasses NCE has seen (at most the
        threshold fitted on held-out families)."""
        return np.asarray(novelty, dtype=float) <= self.novelty_threshold_

    def _point_and_bounds(self, F: pd.DataFrame, index, levels=()) -> tuple:
        """:meth:`predict`, :meth:`predict_interval` and :meth:`novelty` of a feature table, each
        model run once, and the quantile columns at ``levels`` (``quantile_column`` names)."""
        Xv, D = F.to_numpy(dtype=np.float32), self.domain_.describe(F)
        point, lo, hi, novelty, quantiles = {}, {}, {}, D[:, 0], {}
        if len(levels) and not self.uncertainty_:
            raise ValueError(f"a model with uncertainty={FROM_REGRESSOR!r} has intervals but no distribution")
        for t in self.targets_:
            if self.uncertainty_:
                point[t] = self.models_[t].predict(Xv)
                Dt = np.column_stack([D, point[t]])
                sigma = self.uncertainty_[t].sigma(Dt)
                lo[t], hi[t] = self.uncertainty_[t].interval(point[t], Dt, sigma=sigma)
                if len(levels):
                    q = self.uncertainty_[t].quantiles(point[t], Dt, levels, sigma=sigma)
                    if t == "Ea_eV":
                        q = np.maximum(q, 0.0)
                    elif t == "log10_sigma25":
                        q = np.minimum(q, LOG10_SIGMA25_RANGE[1])
                    for j, level in enumerate(levels):
                        quantiles[quantile_column(t, level)] = q[:, j]
                if t == self._novelty_target():
                    novelty = sigma
            else:
                point[t], lo[t], hi[t] = self.models_[t].predict_with_interval(Xv)
        return (
            _clip(pd.DataFrame(point, index=index), ""),
            _clip(pd.DataFrame(lo, index=index), "_lo"),
            _clip(pd.DataFrame(hi, index=index), "_hi"),
            novelty,
            pd.DataFrame(quantiles, index=index),
        )

    def predict_table(
        self, X: pd.DataFrame, features: pd.DataFrame | None = None, processing: bool = True, levels=()
    ) -> pd.DataFrame:
        """The ``nce predict`` output columns (numbers only; parsing and row errors are the
        caller's): targets with bounds, sigma at ``temperature_C``, Tg, fragility,
        non-bridging fraction, ``novelty``, ``in_domain`` and ``warning`` (why a row is out of
        the domain: a glass unlike those NCE has seen, T above the predicted Tg, a processing
        route NCE has no literature rows for; empty when none).

        Rows made other than as a melt-quenched glass get the processing offset (when the
        model has one) on log10 sigma, a wider interval and the processing domain rule.
        ``levels`` adds the predictive distribution's quantiles (columns ``<target>_q<level>``;
        processed rows get the glass's distribution moved and stretched onto their interval)."""
        F = self._table(X, features)
        point, lo, hi, novelty, quantiles = self._point_and_bounds(F, X.index, levels)
        out = pd.DataFrame(index=X.index)
        for target in self.targets_:
            out[target], out[f"{target}_lo"], out[f"{target}_hi"] = point[target], lo[target], hi[target]
        out = pd.concat([out, quantiles], axis=1)
        warnings = [[] for _ in range(len(X))]
        novel = ~self.in_domain(novelty)
        for i in np.flatnonzero(novel):
            warnings[i].append(
                f"unlike the glasses NCE has seen (novelty {novelty[i]:.2f} > {self.novelty_threshold_:.2f})"
            )
        if processing and self.processing_ is not None:
            self._apply_processing(X, F, out, warnings)
            out[["log10_sigma25", "log10_sigma25_hi"]] = out[["log10_sigma25", "log10_sigma25_hi"]].clip(
                upper=LOG10_SIGMA25_RANGE[1]
            )
        if "temperature_C" in X:
            T_C = pd.to_numeric(X["temperature_C"], errors="coerce").to_numpy(dtype=float)
            out["log10_sigma_T"] = log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T_C)
            if "Tg_K" in F:
                Tg_C = F["Tg_K"].to_numpy(dtype=float) - 273.15
                for i in np.flatnonzero(T_C > Tg_C):
                    warnings[i].append(
                        f"T {T_C[i]:g} degC above the predicted Tg ({Tg_C[i]:.0f} degC): sigma(T) extrapolates "
                        "the glass's Arrhenius line into the supercooled liquid"
                    )
        for col in ("Tg_K", "fragility_m", "nbo_fraction"):
            out[col] = F[col].to_numpy() if col in F else np.nan
        out["novelty"] = novelty
        out["in_domain"] = np.array([not w for w in warnings], dtype=bool)
        out["warning"] = ["; ".join(w) for w in warnings]
        return out

    def glass_predictions(self, X: pd.DataFrame) -> pd.DataFrame:
        """The melt-quenched-glass model's predictions and, at each row's ``temperature_C``,
        its log10 sigma: the baseline the processing offsets are measured from."""
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

    def _apply_processing(self, X: pd.DataFrame, F: pd.DataFrame, out: pd.DataFrame, warnings: list) -> None:
        """Rows made other than as the default glass: log10 sigma25, its bounds and quantiles
        moved onto the processed distribution; a warning where the processing combination or
        the heat treatment lies outside the literature rows (Ea stays the glass's)."""
        rows = np.flatnonzero(~default_processing(X))
        if not rows.size:
            return
        feats = offset_features(X.iloc[rows], F["Tg_K"].to_numpy()[rows], F["anion_S_share"].to_numpy()[rows])
        cols = ["log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi"]
        glass, lo, hi = (out[c].to_numpy()[rows] for c in cols)
        center, new_lo, new_hi = self.processing_.processed(feats, glass, glass - lo, hi - glass)
        for name, values in zip(cols, (center, new_lo, new_hi)):
            out.iloc[rows, out.columns.get_loc(name)] = values
        for name in [c for c in out.columns if c.startswith("log10_sigma25_q")]:
            moved = _stretch(out[name].to_numpy()[rows], (lo, glass, hi), (new_lo, center, new_hi))
            out.iloc[rows, out.columns.get_loc(name)] = np.minimum(moved, LOG10_SIGMA25_RANGE[1])
        combinations = processing_combination(X.iloc[rows])
        known = self.processing_.in_domain(combinations)
        for i, combination in zip(rows[~known], combinations[~known]):
            warnings[i].append(f"no literature rows for processing {combination}")
        above_Tg_K = feats[HEAT_COLUMN].to_numpy()
        outside = ~self.processing_.heat_treatment_known(above_Tg_K)
        low, high = self.processing_.heat_treatment_range_K_ or (np.nan, np.nan)
        for i, dT in zip(rows[outside], above_Tg_K[outside]):
            warnings[i].append(
                f"heat treatment {dT:+.0f} K from the predicted Tg, outside the literature rows' "
                f"{low:+.0f} to {high:+.0f} K: the gain there is the assumed response shape, not data"
            )

    def neighbors(self, X: pd.DataFrame, k: int) -> pd.DataFrame:
        """The k nearest measured training glasses of each row, with their values and sources."""
        dist, idx = self.domain_.kneighbors(self.features(X), k)
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
        for target, model in self.uncertainty_.items():
            io.save(model, directory / "uncertainty" / target)
        if self.processing_ is not None:
            io.save(self.processing_, directory / "processing")
        self.training_reference_.to_csv(directory / "training_reference.csv", index=False)
        return {
            "targets": self.targets_,
            "feature_names": self.feature_names_,
            "data_hash": self.data_hash_,
            "n_train": self.n_train_,
            "processing": self.processing_ is not None,
            "uncertainty": bool(self.uncertainty_),
            "novelty_threshold": self.novelty_threshold_ if np.isfinite(self.novelty_threshold_) else None,
        }

    def _load_state(self, state: dict, directory: Path) -> None:
        # the loaded featurizer is also the template, so a clone refits without retraining sub-models
        self.featurizer = self.featurizer_ = io.load_child(directory / "featurizer")
        self.feature_names_ = [str(c) for c in state["feature_names"]]
        expected = [*map(str, self.featurizer_.get_feature_names_out())]
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
        targets = self.targets_ if state["uncertainty"] else []
        self.uncertainty_ = {t: io.load_child(directory / "uncertainty" / t) for t in targets}
        threshold = state["novelty_threshold"]
        self.novelty_threshold_ = float("inf") if threshold is None else float(threshold)
        self.processing_ = io.load_child(directory / "processing") if state["processing"] else None
        self.training_reference_ = pd.read_csv(directory / "training_reference.csv")
        self.data_hash_ = str(state["data_hash"])
        self.n_train_ = int(state["n_train"])


def quantile_column(target: str, level: float) -> str:
    """Name of a target's quantile column at ``level`` in :meth:`NCEModel.predict_table`."""
    return f"{target}_q{level:g}"


def _stretch(q: np.ndarray, old: tuple, new: tuple) -> np.ndarray:
    """Quantiles moved from the interval ``old`` = (lo, point, hi) onto ``new``, each side
    scaled by the ratio of its half-widths (monotone, so still a distribution)."""
    (lo, mid, hi), (new_lo, new_mid, new_hi) = old, new
    below = np.where(mid > lo, (new_mid - new_lo) / np.where(mid > lo, mid - lo, 1.0), 1.0)
    above = np.where(hi > mid, (new_hi - new_mid) / np.where(hi > mid, hi - mid, 1.0), 1.0)
    return np.where(q < mid, new_mid - (mid - q) * below, new_mid + (q - mid) * above)


def _clip(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    """Physical limits (quantiles too): Ea (point and lower bound) at least 0; log10 sigma25
    (point and upper bound) at most 0, since no solid conducts ions above 1 S/cm at 25 degC."""
    if "Ea_eV" in frame and side in ("", "_lo"):
        frame["Ea_eV"] = frame["Ea_eV"].clip(lower=0.0)
    if "log10_sigma25" in frame and side in ("", "_hi"):
        frame["log10_sigma25"] = frame["log10_sigma25"].clip(upper=LOG10_SIGMA25_RANGE[1])
    return frame
