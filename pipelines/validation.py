"""The one grouped out-of-fold routine: train, evaluate, report and tune all score with it.

Each fold refits a clone of the estimator on the training rows and predicts the held-out
rows. NCE estimators may share one precomputed feature table (``features``): the property
sub-model features are cross-fitted by publication once for the whole table (each row's from
a sub-model that never saw its publication), so refitting the featurizer per fold would give
the same numbers at five times the cost. The featurizer that made the table is frozen
(``sklearn.frozen.FrozenEstimator``) so the fold models read exactly its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import has_fit_parameter

from nce.models.featurizer import GlassFeaturizer
from nce.models.nce_model import TARGETS, NCEModel, quantile_column

__all__ = ["featurizer_of", "frozen_clone", "frozen_features", "out_of_fold", "quantile_column"]


def featurizer_of(estimator: NCEModel):
    """The featurizer an NCE estimator will use (its default when none is given)."""
    return estimator.featurizer if estimator.featurizer is not None else GlassFeaturizer()


def frozen_clone(model: NCEModel) -> NCEModel:
    """An unfitted clone of a fitted model that keeps its fitted featurizer, frozen: refits the
    regressors on features the model made (``train_features_``, or ``model.features(X)``)."""
    return clone(model).set_params(featurizer=FrozenEstimator(model.featurizer_))


def frozen_features(estimator: NCEModel, frame: pd.DataFrame) -> tuple[NCEModel, pd.DataFrame]:
    """``estimator`` with its featurizer fitted on ``frame`` and frozen, and the cross-fitted
    feature table of ``frame`` (for :func:`out_of_fold`'s ``features``)."""
    featurizer = clone(featurizer_of(estimator))
    features = featurizer.fit_transform(frame).set_axis(frame.index)
    return clone(estimator).set_params(featurizer=FrozenEstimator(featurizer)), features


def out_of_fold(
    estimator,
    frame: pd.DataFrame,
    folds: Iterable[tuple[np.ndarray, np.ndarray]],
    targets: tuple[str, ...] = TARGETS,
    groups: np.ndarray | None = None,
    features: pd.DataFrame | None = None,
    on_fold: Callable[[int], None] = lambda k: None,
    levels: tuple[float, ...] = (),
) -> pd.DataFrame:
    """Out-of-fold predictions of every target, with 90 % bounds where the estimator has them.

    Args:
        estimator: an unfitted estimator with ``fit(X, y[, groups][, features])`` and
            ``predict(X)`` returning one column per target (NCEModel, AtomicFractionModel).
        frame: the glass table (with the target columns).
        folds: ``(train, test)`` row positions.
        targets: target columns.
        groups: per-row groups passed to ``fit`` (interval calibration; default ``frame.KOD``).
        features: precomputed features of ``frame`` (see :func:`frozen_features`).
        on_fold: called with the fold number before each fit.
        levels: quantile levels of the predictive distribution to record (estimators with
            a fitted distribution: ``predict_quantiles`` and ``uncertainty_``).

    Returns:
        ``frame``'s index; per target the columns ``target``, ``target_lo``, ``target_hi``
        (NaN where a row was never held out or the estimator gives no interval), and for
        estimators with a domain (``novelty``) the columns ``novelty`` and ``in_domain``, and
        per target and level ``target_q<level>`` (e.g. ``Ea_eV_q0.25``; NaN without a distribution).
    """
    groups = frame["KOD"].to_numpy() if groups is None else np.asarray(groups)
    columns = [f"{t}{s}" for t in targets for s in ("", "_lo", "_hi")]
    if hasattr(estimator, "novelty"):
        columns += ["novelty", "in_domain"]
    columns += [quantile_column(t, q) for t in targets for q in levels]
    out = pd.DataFrame(np.nan, index=frame.index, columns=columns)
    takes_groups, takes_features = has_fit_parameter(estimator, "groups"), has_fit_parameter(estimator, "features")
    if features is not None and not takes_features:
        raise ValueError(f"{type(estimator).__name__} does not take precomputed features")
    for k, (train, test) in enumerate(folds):
        on_fold(k)
        train_rows, test_rows = frame.iloc[train], frame.iloc[test]
        fit_kw = {"groups": groups[train]} if takes_groups else {}
        predict_kw = {}
        if features is not None:
            fit_kw["features"], predict_kw["features"] = features.iloc[train], features.iloc[test]
        model = clone(estimator).fit(train_rows, train_rows[list(targets)], **fit_kw)
        point = model.predict(test_rows, **predict_kw)
        for t in targets:
            out.iloc[test, out.columns.get_loc(t)] = point[t].to_numpy()
        if hasattr(model, "predict_interval"):
            lo, hi = model.predict_interval(test_rows, **predict_kw)
            for t in targets:
                out.iloc[test, out.columns.get_loc(f"{t}_lo")] = lo[t].to_numpy()
                out.iloc[test, out.columns.get_loc(f"{t}_hi")] = hi[t].to_numpy()
        if "novelty" in out:
            novelty = model.novelty(test_rows, **predict_kw)
            out.iloc[test, out.columns.get_loc("novelty")] = novelty
            out.iloc[test, out.columns.get_loc("in_domain")] = model.in_domain(novelty).astype(float)
        if levels and getattr(model, "uncertainty_", None):
            quantiles = model.predict_quantiles(test_rows, levels, **predict_kw)
            for t in targets:
                for j, q in enumerate(levels):
                    out.iloc[test, out.columns.get_loc(quantile_column(t, q))] = quantiles[t][:, j]
    return out
