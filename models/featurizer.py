"""GlassFeaturizer: composition and processing -> the NCE feature table.

One scikit-learn transformer that turns a table of glasses into model features:

=======================================  ======================================================
``frac_<El>``, ``frac_other``            atomic fractions of the element vocabulary of the
                                         training data; ``frac_other`` = atoms outside it
``MagpieData ...``, ``p-norm``, ...      146 matminer-equivalent element descriptors
                                         (:mod:`nce.featurize.element_properties`)
``nbo_fraction`` ... ``tm_fraction``     36 glass-chemistry descriptors
                                         (:mod:`nce.featurize.glass_chemistry`; left out
                                         with ``physics=False``)
``Tg_K`` ... ``as_strain_eV``            sub-model properties and physics terms
                                         (:mod:`nce.featurize.physics`; left out with
                                         ``physics=False``)
``route_*``, ``state_*``, ``heat_*``     processing (:mod:`nce.featurize.processing`)
=======================================  ======================================================

Input: a DataFrame with atomic-fraction columns named by element symbol, or (when it has
none) a ``composition`` text column parsed with :func:`nce.featurize.parse_many`; plus
optional ``route``, ``state`` and ``heat_treatment_C``. ``transform`` needs valid input and
raises on the first bad row; callers that report errors per row use
:func:`nce.featurize.atoms.atoms_frame`.

It lives in ``nce.models``, not ``nce.featurize``, because it holds fitted models: the
stateless descriptors it combines are in ``nce.featurize``.

Cross-fitting: the property sub-models (Tg, m, density, G) are trained on SciGlass tables
that share publications with the conductivity data. ``fit_transform(X, groups=KOD)`` gives
each training row the sub-model outputs of the publication-fold model that never saw its
KOD (folds by :func:`nce.models.property_models.publication_fold`, a hash of the KOD), so no
measured Tg, m, density or modulus of a training publication leaks into its features.
``transform`` (new data) uses the sub-models trained on all rows.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from nce.data.schema import element_columns
from nce.featurize.atoms import atomic_fraction_block, atoms_frame, base_features, z_order
from nce.featurize.element_properties import FastElementFeatures
from nce.featurize.glass_chemistry import GlassChemistry
from nce.featurize.physics import PHYSICS_FEATURES, physics_features
from nce.featurize.processing import PROCESSING_FEATURES, processing_features, row_label
from nce.models import io
from nce.models.property_models import PROPERTY_TABLES, PropertySubmodels, publication_fold

__all__ = ["GlassFeaturizer"]

#: Rows above which ``transform`` shows a progress bar (when ``progress=True``).
PROGRESS_MIN_ROWS = 50_000


class GlassFeaturizer(TransformerMixin, BaseEstimator):
    """Composition + processing -> atomic fractions, element and glass-chemistry
    descriptors, property sub-model outputs, physics terms and processing one-hots.

    Args:
        submodels: pre-fitted :class:`nce.models.property_models.PropertySubmodels`, or the
            path of a folder saved by its ``save``; None trains them in ``fit`` (the full
            models) and in ``fit_transform`` (full and fold models).
        max_rows_per_table: train sub-models on a seeded random subset of this many rows
            per property table (None = all rows; small values are for tests).
        submodel_params: hyperparameter overrides applied to every sub-model
            (e.g. ``{"n_estimators": 50}``); None keeps the tuned defaults.
        n_folds: publication folds for cross-fitting (when training sub-models here).
        cross_fit: ``fit_transform`` returns out-of-fold sub-model outputs (needs
            ``groups`` or a ``KOD`` column); False makes it ``fit(X).transform(X)``.
        physics: keep the glass-chemistry descriptors and the sub-model and physics terms
            among the outputs; False is the ablation without them (the sub-models still
            give Tg for ``heat_treatment_over_Tg``).
        progress: show a progress bar when transforming more than 50,000 rows.
        batch_size: rows featurized at a time (bounds memory).
        n_jobs: xgboost threads.
        random_state: seed of the row subsets and of xgboost.
    """

    _parameter_constraints: dict = {
        "submodels": [PropertySubmodels, str, Path, None],
        "max_rows_per_table": [Interval(Integral, 50, None, closed="left"), None],
        "submodel_params": [dict, None],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "cross_fit": ["boolean"],
        "physics": ["boolean"],
        "progress": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        submodels: PropertySubmodels | str | Path | None = None,
        max_rows_per_table: int | None = None,
        submodel_params: dict[str, Any] | None = None,
        n_folds: int = 5,
        cross_fit: bool = True,
        physics: bool = True,
        progress: bool = True,
        batch_size: int = 25_000,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.submodels = submodels
        self.max_rows_per_table = max_rows_per_table
        self.submodel_params = submodel_params
        self.n_folds = n_folds
        self.cross_fit = cross_fit
        self.physics = physics
        self.progress = progress
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- input -------------------------------------------------------------------------

    @staticmethod
    def atoms(X: pd.DataFrame) -> pd.DataFrame:
        """Validated, row-normalized atomic fractions of ``X`` (element columns, or the
        parsed ``composition`` column when there are none).

        Raises:
            ValueError: no usable column, or a row that cannot be used; the message names
                the row index and the reason.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        cols = element_columns(X)
        if cols:
            values = X[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values).all(axis=1) | (values < 0).any(axis=1)
            total = np.where(bad, 1.0, values.sum(axis=1))
            bad |= total <= 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"row {row_label(X.index[i])}: atomic fractions must be finite, "
                    f"non-negative and not all zero ({int(bad.sum())} row(s) affected)"
                )
            return pd.DataFrame(values / total[:, None], index=X.index, columns=cols)
        if "composition" in X.columns:
            atoms, errors = atoms_frame(X["composition"], index=X.index)
            bad = [i for i, e in enumerate(errors) if e is not None]
            if bad:
                shown = "; ".join(f"row {row_label(X.index[i])}: {errors[i]}" for i in bad[:5])
                raise ValueError(f"{len(bad)} composition(s) cannot be read: {shown}")
            return atoms
        raise ValueError("X needs a 'composition' column or atomic-fraction columns named by element symbol")

    # -- fitting -----------------------------------------------------------------------

    def _resolve_submodels(self, need_folds: bool) -> PropertySubmodels:
        given = self.submodels
        if given is None:
            current = getattr(self, "submodels_", None)
            settings = {
                "max_rows_per_table": self.max_rows_per_table,
                "params": dict(self.submodel_params or {}),
                "random_state": self.random_state,
            }
            if (
                current is not None
                and current.settings == settings
                and current.n_folds == self.n_folds
                and (current.has_folds or not need_folds)
            ):
                return current  # refit with unchanged settings: the tables have not changed
            return PropertySubmodels.train(
                with_folds=need_folds,
                n_folds=self.n_folds,
                max_rows_per_table=self.max_rows_per_table,
                params=self.submodel_params,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
        models = given if isinstance(given, PropertySubmodels) else io.load(given, expect=PropertySubmodels)
        missing = [t for t in PROPERTY_TABLES if t not in models.full]
        if missing:
            raise ValueError(f"submodels lack {missing}")
        if need_folds and not models.has_folds:
            raise ValueError(
                "cross-fitting needs fold sub-models; pass submodels trained with with_folds=True, or cross_fit=False"
            )
        return models

    def _all_feature_names(self) -> list[str]:
        return (
            [f"frac_{el}" for el in self.vocabulary_]
            + ["frac_other"]
            + FastElementFeatures().feature_labels()
            + GlassChemistry().feature_labels()
            + list(PHYSICS_FEATURES)
            + list(PROCESSING_FEATURES)
        )

    def _feature_names(self) -> list[str]:
        names = self._all_feature_names()
        if self.physics:
            return names
        dropped = set(GlassChemistry().feature_labels()) | set(PHYSICS_FEATURES)
        return [c for c in names if c not in dropped]

    def _fit(self, X: pd.DataFrame, need_folds: bool) -> pd.DataFrame:
        atoms = self.atoms(X)
        present = atoms.columns[(atoms.to_numpy() > 0).any(axis=0)]
        self.vocabulary_ = z_order(present)
        self.submodels_ = self._resolve_submodels(need_folds)
        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return atoms

    def fit(self, X: pd.DataFrame, y=None, groups=None) -> GlassFeaturizer:
        """Record the element vocabulary of ``X`` and get the full property sub-models.

        Args:
            X: compositions (element columns or ``composition`` text) and processing.
            y: ignored.
            groups: ignored (used by ``fit_transform``).
        """
        self._fit(X, need_folds=False)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None, groups=None) -> pd.DataFrame:
        """Fit, then featurize the training rows with out-of-fold sub-model outputs.

        Args:
            X: training table.
            y: ignored.
            groups: publication key (KOD) of each row; default ``X["KOD"]``.

        Raises:
            ValueError: cross-fitting without publication keys.
        """
        if not self.cross_fit:
            return self.fit(X).transform(X)
        if groups is None:
            if "KOD" not in X.columns:
                raise ValueError(
                    "fit_transform cross-fits the property sub-models by publication: pass "
                    "groups= (one publication key per row) or a KOD column, or set "
                    "cross_fit=False"
                )
            groups = X["KOD"].to_numpy()
        groups = np.asarray(groups, dtype=object)
        if len(groups) != len(X):
            raise ValueError(f"groups has {len(groups)} entries for {len(X)} rows")
        atoms = self._fit(X, need_folds=True)
        fold = publication_fold(groups, self.submodels_.n_folds)
        return self._featurize(X, atoms, fold)

    # -- transforming ------------------------------------------------------------------

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Featurize new rows with the full sub-models.

        Returns:
            DataFrame with the index of ``X`` and the columns of ``get_feature_names_out()``.

        Raises:
            ValueError: a row without usable composition, or an unknown route/state or bad
                heat-treatment value (the message names the row).
        """
        check_is_fitted(self, "feature_names_out_")
        return self._featurize(X, self.atoms(X), None)

    def _featurize(self, X: pd.DataFrame, atoms: pd.DataFrame, fold) -> pd.DataFrame:
        processing = processing_features(X)  # validates every row before the heavy work
        n = len(atoms)
        out = np.empty((n, len(self._all_feature_names())))
        step = max(1, int(self.batch_size))
        batches = range(0, n, step)
        show = bool(self.progress) and n > PROGRESS_MIN_ROWS
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(
                TextColumn("featurizing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            task = bar.add_task("rows", total=n)
        try:
            for start in batches:
                sl = slice(start, min(start + step, n))
                out[sl] = self._featurize_batch(atoms.iloc[sl], processing.iloc[sl], None if fold is None else fold[sl])
                if show:
                    bar.update(task, advance=sl.stop - sl.start)
        finally:
            if show:
                bar.stop()
        out = pd.DataFrame(out, index=X.index, columns=self._all_feature_names())
        return out if self.physics else out[list(self.feature_names_out_)]

    def _featurize_batch(self, atoms: pd.DataFrame, processing: pd.DataFrame, fold) -> np.ndarray:
        base = base_features(atoms)
        props = self.submodels_.predict(atoms, base=base, fold=fold)
        chemistry = base[GlassChemistry().feature_labels()]
        physics = physics_features(
            atoms,
            props["Tg_K"].to_numpy(),
            props["fragility_m"].to_numpy(),
            props["density_g_cm3"].to_numpy(),
            props["shear_modulus_GPa"].to_numpy(),
            chemistry=chemistry,
        )
        proc = processing.to_numpy(dtype=np.float64, copy=True)
        ht = list(PROCESSING_FEATURES).index("heat_treatment_C")
        ratio = list(PROCESSING_FEATURES).index("heat_treatment_over_Tg")
        Tg = physics["Tg_K"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            proc[:, ratio] = np.where(Tg > 0, (proc[:, ht] + 273.15) / Tg, np.nan)
        return np.hstack(
            [
                atomic_fraction_block(atoms, self.vocabulary_),
                base.to_numpy(dtype=np.float64),
                physics.to_numpy(dtype=np.float64),
                proc,
            ]
        )

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names (units in the names where they have units)."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    # -- persistence (nce.models.io) ----------------------------------------------------

    def _file_params(self) -> dict:
        return {**self.get_params(deep=False), "submodels": None}  # stored as a nested folder

    def _save_state(self, directory: Path) -> dict:
        """The full sub-models only: ``transform`` needs no fold models (five times their size)."""
        check_is_fitted(self, "feature_names_out_")
        full = PropertySubmodels(self.submodels_.full, None, self.submodels_.n_folds, self.submodels_.settings)
        io.save(full, directory / "submodels")
        return {"vocabulary": list(self.vocabulary_), "feature_names_out": [str(c) for c in self.feature_names_out_]}

    def _load_state(self, state: dict, directory: Path) -> None:
        """The loaded featurizer's ``submodels`` parameter holds its sub-models, so a clone
        refits without retraining them."""
        self.submodels = self.submodels_ = io.load_child(directory / "submodels")
        self.vocabulary_ = [str(v) for v in state["vocabulary"]]
        expected = self._feature_names()
        stored = [str(c) for c in state["feature_names_out"]]
        if stored != expected:
            diff = sorted(set(stored) ^ set(expected))[:5]
            raise io.ModelFileError(
                f"{directory}: saved feature list does not match this nce's features "
                f"(first differences {diff!r}, order may differ too); retrain with `nce train`"
            )
        self.feature_names_out_ = np.asarray(expected, dtype=object)
        self.n_features_out_ = len(expected)
