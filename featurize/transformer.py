"""GlassFeaturizer: composition and processing -> the NCE feature table.

One scikit-learn transformer that turns a table of glasses into model features:

=======================================  ======================================================
``frac_<El>``, ``frac_other``            atomic fractions of the element vocabulary of the
                                         training data; ``frac_other`` = atoms outside it
``MagpieData ...``, ``p-norm``, ...      146 matminer-equivalent element descriptors
                                         (:mod:`nce.featurize.element_properties`)
``nbo_fraction`` ... ``tm_fraction``     36 glass-chemistry descriptors
                                         (:mod:`nce.featurize.glass_chemistry`)
``Tg_K`` ... ``as_strain_eV``            sub-model properties and physics terms
                                         (:mod:`nce.featurize.physics`)
``route_*``, ``state_*``, ``heat_*``     processing (:mod:`nce.featurize.processing`)
=======================================  ======================================================

Input: a DataFrame with atomic-fraction columns named by element symbol, or (when it has
none) a ``composition`` text column parsed with :func:`nce.featurize.parse_many`; plus
optional ``route``, ``state`` and ``heat_treatment_C``. ``transform`` needs valid input and
raises on the first bad row; callers that report errors per row use :func:`atoms_frame`.

Cross-fitting: the property sub-models (Tg, m, density, G) are trained on SciGlass tables
that share publications with the conductivity data. ``fit_transform(X, groups=KOD)`` gives
each training row the sub-model outputs of the publication-fold model that never saw its
KOD (folds by :func:`nce.models.property_models.publication_fold`, a hash of the KOD), so no
measured Tg, m, density or modulus of a training publication leaks into its features.
``transform`` (new data) uses the sub-models trained on all rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nce.data.schema import element_columns
from nce.featurize.composition import CompositionError, parse_many
from nce.featurize.element_properties import FastElementFeatures
from nce.featurize.glass_chemistry import GlassChemistry
from nce.featurize.physics import PHYSICS_FEATURES, physics_features
from nce.featurize.processing import PROCESSING_FEATURES, processing_features, row_label
from nce.models.property_models import (
    ModelFileError,
    PropertySubmodels,
    atomic_fraction_block,
    base_features,
    publication_fold,
)

__all__ = ["GlassFeaturizer", "ModelFileError", "atoms_frame"]

#: Rows above which ``transform`` shows a progress bar (when ``progress=True``).
PROGRESS_MIN_ROWS = 50_000
_FORMAT = "nce.glass_featurizer"
_FORMAT_VERSION = 1
_META_FILE = "featurizer.json"
_SUBMODEL_DIR = "submodels"


def _z_order(symbols: Iterable[str]) -> list[str]:
    from pymatgen.core.periodic_table import Element

    return sorted(symbols, key=lambda s: Element(s).Z)


def atoms_frame(
    compositions: Iterable[str], index: pd.Index | None = None, basis: str = "mol"
) -> tuple[pd.DataFrame, list[str | None]]:
    """Parse composition texts into an atomic-fraction table, collecting errors per row.

    Args:
        compositions: texts (or mappings) that :func:`nce.featurize.parse_composition` reads.
        index: index of the returned frame (default 0..n-1).
        basis: ``"mol"`` or ``"wt"``.

    Returns:
        ``(atoms, errors)``: one row per input, columns = elements found (by atomic
        number), fractions summing to 1; a row that could not be parsed is all NaN and its
        ``errors`` entry holds the reason (``None`` for good rows).
    """
    parsed = parse_many(list(compositions), basis=basis)
    n = len(parsed)
    if index is None:
        index = pd.RangeIndex(n)
    elif len(index) != n:
        raise ValueError(f"index has {len(index)} entries for {n} compositions")
    errors: list[str | None] = [None] * n
    symbols: set[str] = set()
    for i, p in enumerate(parsed):
        if isinstance(p, CompositionError):
            errors[i] = str(p)
        else:
            symbols.update(p.atoms)
    columns = _z_order(symbols)
    position = {el: j for j, el in enumerate(columns)}
    values = np.zeros((n, len(columns)))
    for i, p in enumerate(parsed):
        if errors[i] is not None:
            values[i] = np.nan
            continue
        for el, x in p.atoms.items():
            values[i, position[el]] = x
    return pd.DataFrame(values, index=index, columns=columns), errors


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
        progress: show a progress bar when transforming more than 50,000 rows.
        batch_size: rows featurized at a time (bounds memory).
        n_jobs: xgboost threads.
        random_state: seed of the row subsets and of xgboost.
    """

    def __init__(
        self,
        submodels: PropertySubmodels | str | Path | None = None,
        max_rows_per_table: int | None = None,
        submodel_params: dict[str, Any] | None = None,
        n_folds: int = 5,
        cross_fit: bool = True,
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
        raise ValueError(
            "X needs a 'composition' column or atomic-fraction columns named by element symbol"
        )

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
        models = given if isinstance(given, PropertySubmodels) else PropertySubmodels.load(given)
        missing = [t for t in ("Tg_K", "fragility_m", "density_g_cm3", "shear_modulus_GPa")
                   if t not in models.full]
        if missing:
            raise ValueError(f"submodels lack {missing}")
        if need_folds and not models.has_folds:
            raise ValueError(
                "cross-fitting needs fold sub-models; pass submodels trained with "
                "with_folds=True, or cross_fit=False"
            )
        return models

    def _feature_names(self) -> list[str]:
        return (
            [f"frac_{el}" for el in self.vocabulary_]
            + ["frac_other"]
            + FastElementFeatures().feature_labels()
            + GlassChemistry().feature_labels()
            + list(PHYSICS_FEATURES)
            + list(PROCESSING_FEATURES)
        )

    def _fit(self, X: pd.DataFrame, need_folds: bool) -> pd.DataFrame:
        atoms = self.atoms(X)
        present = atoms.columns[(atoms.to_numpy() > 0).any(axis=0)]
        self.vocabulary_ = _z_order(present)
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
        out = np.empty((n, self.n_features_out_))
        step = max(1, int(self.batch_size))
        batches = range(0, n, step)
        show = bool(self.progress) and n > PROGRESS_MIN_ROWS
        if show:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)

            bar = Progress(
                TextColumn("featurizing"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )
            bar.start()
            task = bar.add_task("rows", total=n)
        try:
            for start in batches:
                sl = slice(start, min(start + step, n))
                out[sl] = self._featurize_batch(
                    atoms.iloc[sl], processing.iloc[sl], None if fold is None else fold[sl]
                )
                if show:
                    bar.update(task, advance=sl.stop - sl.start)
        finally:
            if show:
                bar.stop()
        return pd.DataFrame(out, index=X.index, columns=list(self.feature_names_out_))

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

    # -- persistence -------------------------------------------------------------------

    def save(self, directory: str | Path, include_folds: bool = False) -> Path:
        """Write ``featurizer.json`` and the sub-models (xgboost UBJ + JSON) to ``directory``.

        No pickle: everything is JSON or xgboost's own format, with SHA-256 hashes.

        Args:
            directory: target folder (created).
            include_folds: also write the publication-fold sub-models (needed only to
                ``fit_transform`` again with the loaded featurizer; ``transform`` uses the
                full ones). They are five times the size of the full models.
        """
        import nce

        check_is_fitted(self, "feature_names_out_")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        submodels = self.submodels_
        if not include_folds and submodels.folds:
            submodels = PropertySubmodels(
                submodels.full, None, submodels.n_folds, submodels.settings
            )
        submodels.save(directory / _SUBMODEL_DIR)
        index = directory / _SUBMODEL_DIR / "submodels.json"
        params = self.get_params()
        params["submodels"] = None  # stored beside, restored by load
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "class": type(self).__name__,
            "module": type(self).__module__,
            "nce_version": nce.__version__,
            "params": params,
            "vocabulary": list(self.vocabulary_),
            "feature_names_out": [str(c) for c in self.feature_names_out_],
            "submodels_dir": _SUBMODEL_DIR,
            "submodels_index_sha256": hashlib.sha256(index.read_bytes()).hexdigest(),
        }
        tmp = directory / (_META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=1) + "\n")
        tmp.replace(directory / _META_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path, check_version: bool = True) -> GlassFeaturizer:
        """Rebuild a featurizer written by :meth:`save`.

        The loaded featurizer's ``submodels`` parameter holds its sub-models, so a clone
        refits without retraining them.

        Raises:
            ModelFileError: a file is missing, truncated or altered, the feature list does
                not match this code, or the package version differs (unless
                ``check_version`` is False).
        """
        import nce

        directory = Path(directory)
        path = directory / _META_FILE
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ModelFileError(f"{path} is missing") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(
                f"{path} is not valid JSON (truncated or altered?): {exc}"
            ) from exc
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ModelFileError(f"{directory} does not hold a GlassFeaturizer")
        if meta.get("format_version") != _FORMAT_VERSION:
            raise ModelFileError(
                f"{directory}: format version {meta.get('format_version')!r}, "
                f"this nce reads {_FORMAT_VERSION}"
            )
        if check_version and meta.get("nce_version") != nce.__version__:
            raise ModelFileError(
                f"{directory} was saved by nce {meta.get('nce_version')}, this is nce "
                f"{nce.__version__}; refit, or load with check_version=False at your own risk"
            )
        try:
            sub_dir = directory / str(meta["submodels_dir"])
            index = sub_dir / "submodels.json"
            if not index.exists() or (
                hashlib.sha256(index.read_bytes()).hexdigest() != meta["submodels_index_sha256"]
            ):
                raise ModelFileError(f"{index} is missing or altered")
            submodels = PropertySubmodels.load(sub_dir, check_version)
            params = dict(meta["params"])
            params["submodels"] = submodels
            featurizer = cls(**params)
            featurizer.vocabulary_ = [str(v) for v in meta["vocabulary"]]
            featurizer.submodels_ = submodels
            stored = [str(c) for c in meta["feature_names_out"]]
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"{path} is incomplete: {exc}") from exc
        expected = featurizer._feature_names()
        if stored != expected:
            diff = sorted(set(stored) ^ set(expected))[:5]
            raise ModelFileError(
                f"{directory}: saved feature list does not match this nce's features "
                f"(first differences {diff!r}, order may differ too); refit the featurizer"
            )
        featurizer.feature_names_out_ = np.asarray(expected, dtype=object)
        featurizer.n_features_out_ = len(expected)
        return featurizer
