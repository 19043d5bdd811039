"""Composition -> glass-property sub-models (Tg, fragility, density, shear modulus).

Each sub-model is a :class:`CompositionPropertyRegressor`: gradient-boosted trees (xgboost,
``tree_method="hist"``) on a fixed base feature set of an atomic-fraction table,

- the atomic fractions of an element vocabulary learned in ``fit`` (``frac_<El>``), plus
  ``frac_other`` = the share of atoms outside that vocabulary;
- the 146 Magpie / stoichiometry / valence-orbital descriptors of
  :class:`nce.featurize.element_properties.FastElementFeatures`;
- the 36 bond-counting and mobile-ion descriptors of
  :class:`nce.featurize.glass_chemistry.GlassChemistry`.

They exist to give every candidate composition a glass transition temperature, a MYEGA
fragility, a density and a shear modulus, from which :mod:`nce.featurize.physics` derives
carrier density, the Wilkinson relaxation term and Anderson-Stuart energies.
:data:`PROPERTY_TABLES` says which curated SciGlass table trains which target, and
:data:`DEFAULT_HYPERPARAMS` holds the hand-tuned settings (grouped-CV MAE in
``benchmarks/RESULTS.md``).

Models are saved through :mod:`nce.models.io` (xgboost's own UBJ file beside ``model.json``),
so nothing is unpickled and an altered file is refused.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from nce.data.schema import element_columns, read_table
from nce.featurize.atoms import atomic_fraction_block, base_features, check_atoms, z_order
from nce.featurize.physics import mean_atomic_mass_amu
from nce.models import io

# libgomp threads spin while they wait for work. On a machine whose cores are busy with
# other processes, that spinning made 2-thread xgboost fits up to 40x slower than 1 thread
# (measured: 24.6 s vs 0.37 s for a small fit). Passive waiting removes the collapse. It only
# takes effect if set before xgboost (libgomp) is first loaded, and a user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = [
    "DEFAULT_HYPERPARAMS",
    "PROPERTY_TABLES",
    "CompositionPropertyRegressor",
    "PropertySubmodels",
    "cross_validated_mae",
    "grouped_oof_predictions",
    "property_training_data",
    "publication_fold",
]

#: Target column -> the processed SciGlass table (nce.data.schema.TABLES) that trains it.
PROPERTY_TABLES: dict[str, str] = {
    "Tg_K": "tg",
    "fragility_m": "viscosity",
    "density_g_cm3": "density",
    "shear_modulus_GPa": "shear_modulus",
}

#: Hand-tuned hyperparameters per target (grouped 5-fold CV by publication on the full
#: tables; the search and its results are in benchmarks/RESULTS.md).
DEFAULT_HYPERPARAMS: dict[str, dict[str, Any]] = {
    "Tg_K": dict(
        n_estimators=600,
        learning_rate=0.1,
        max_depth=10,
        min_child_weight=2.0,
        subsample=0.8,
        colsample_bytree=0.3,
        max_bin=64,
        objective="reg:squarederror",
        linear_baseline=True,
        linear_alpha=1.0,
    ),
    "fragility_m": dict(
        n_estimators=600,
        learning_rate=0.05,
        max_depth=8,
        min_child_weight=1.0,
        subsample=0.8,
        colsample_bytree=0.3,
        max_bin=64,
        objective="reg:absoluteerror",
        linear_baseline=True,
        linear_alpha=1.0,
    ),
    "density_g_cm3": dict(
        n_estimators=400,
        learning_rate=0.1,
        max_depth=9,
        min_child_weight=1.0,
        subsample=0.8,
        colsample_bytree=0.3,
        max_bin=64,
        objective="reg:absoluteerror",
        target_transform="atomic_volume",
        linear_baseline=True,
        linear_alpha=1.0,
    ),
    "shear_modulus_GPa": dict(
        n_estimators=800,
        learning_rate=0.05,
        max_depth=6,
        min_child_weight=1.0,
        subsample=0.8,
        colsample_bytree=0.5,
        max_bin=128,
        objective="reg:absoluteerror",
        linear_baseline=True,
        linear_alpha=1.0,
    ),
}

# --- estimator -------------------------------------------------------------------------------


class CompositionPropertyRegressor(RegressorMixin, BaseEstimator):
    """xgboost regressor from atomic fractions to one glass property.

    Predictions are clipped to the range of the training targets (``target_range_``).

    Args:
        target: name of the property (for records only, e.g. ``"Tg_K"``).
        n_estimators: boosting rounds.
        learning_rate: shrinkage (xgboost ``eta``).
        max_depth: maximum tree depth.
        min_child_weight: minimum hessian sum in a leaf.
        subsample: row fraction per tree.
        colsample_bytree: feature fraction per tree.
        reg_lambda: L2 penalty on leaf weights.
        max_bin: histogram bins per feature (``tree_method="hist"``).
        objective: xgboost objective, e.g. ``"reg:squarederror"`` or ``"reg:absoluteerror"``.
        target_transform: ``"atomic_volume"`` fits the volume per mole of atoms,
            V = M_atom / y (for a density y; M_atom = mean atomic mass), and predicts
            y = M_atom / V. Volumes are close to additive in composition, densities of
            heavy-metal glasses are not.
        linear_baseline: start the trees from a ridge fit on the atomic fractions (an
            additive, Appen-like partial-property model) and boost its residual.
        linear_alpha: ridge penalty of that baseline; it keeps the partial properties of
            rarely seen elements near the mean, so that they do not extrapolate.
        n_jobs: threads for training and prediction.
        random_state: xgboost seed.
    """

    def __init__(
        self,
        target: str | None = None,
        n_estimators: int = 600,
        learning_rate: float = 0.05,
        max_depth: int = 8,
        min_child_weight: float = 2.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        reg_lambda: float = 1.0,
        max_bin: int = 128,
        objective: str = "reg:squarederror",
        target_transform: Literal["identity", "atomic_volume"] = "identity",
        linear_baseline: bool = False,
        linear_alpha: float = 1.0,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.target = target
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.objective = objective
        self.target_transform = target_transform
        self.linear_baseline = linear_baseline
        self.linear_alpha = linear_alpha
        self.n_jobs = n_jobs
        self.random_state = random_state

    @classmethod
    def for_target(cls, target: str, **overrides) -> CompositionPropertyRegressor:
        """A regressor with the tuned :data:`DEFAULT_HYPERPARAMS` of ``target``."""
        if target not in DEFAULT_HYPERPARAMS:
            raise ValueError(f"unknown property {target!r}; choose from {', '.join(DEFAULT_HYPERPARAMS)}")
        return cls(target=target, **{**DEFAULT_HYPERPARAMS[target], **overrides})

    # -- fitting ------------------------------------------------------------------------

    def _xgb_params(self) -> dict[str, Any]:
        return {
            "tree_method": "hist",
            "objective": self.objective,
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "lambda": float(self.reg_lambda),
            "max_bin": int(self.max_bin),
            "nthread": int(self.n_jobs),
            "seed": int(self.random_state),
            "verbosity": 0,
        }

    def _design(self, atoms: pd.DataFrame, base: pd.DataFrame | None) -> np.ndarray:
        if base is None:
            base = base_features(atoms)
        elif len(base) != len(atoms):
            raise ValueError(f"base has {len(base)} rows but atoms has {len(atoms)}")
        missing = [c for c in self.base_feature_names_ if c not in base.columns]
        if missing:
            raise ValueError(f"base features lack {missing[:5]!r}")
        return np.hstack(
            [
                atomic_fraction_block(atoms, self.vocabulary_),
                base[self.base_feature_names_].to_numpy(dtype=np.float64),
            ]
        )

    def _check_options(self) -> None:
        if self.target_transform not in ("identity", "atomic_volume"):
            raise ValueError(f"target_transform must be 'identity' or 'atomic_volume', got {self.target_transform!r}")

    def _baseline(self, matrix: np.ndarray) -> np.ndarray | None:
        """Ridge baseline on the fraction block (None without ``linear_baseline``)."""
        if not self.linear_baseline:
            return None
        k = len(self.vocabulary_) + 1
        return matrix[:, :k] @ self.linear_coef_ + self.linear_intercept_

    def fit(self, X: pd.DataFrame, y, base: pd.DataFrame | None = None):
        """Learn the element vocabulary of ``X`` and fit the trees.

        Args:
            X: atomic fractions, one column per element symbol.
            y: property values (finite; positive for ``target_transform="atomic_volume"``).
            base: precomputed :func:`base_features` of ``X`` (optional, saves time).
        """
        import xgboost as xgb

        self._check_options()
        check_atoms(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(y) == 0 or not np.isfinite(y).all():
            raise ValueError("y must be non-empty and finite")
        present = X.columns[(X.to_numpy(dtype=np.float64) > 0).any(axis=0)]
        self.vocabulary_ = z_order(list(present))
        if base is None:
            base = base_features(X)
        self.base_feature_names_ = [str(c) for c in base.columns]
        self.feature_names_ = [f"frac_{el}" for el in self.vocabulary_] + ["frac_other"] + self.base_feature_names_
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        matrix = self._design(X, base)
        target = self._forward(X, y)

        if self.linear_baseline:
            from sklearn.linear_model import Ridge

            k = len(self.vocabulary_) + 1
            ridge = Ridge(alpha=float(self.linear_alpha)).fit(matrix[:, :k], target)
            self.linear_coef_ = np.asarray(ridge.coef_, dtype=np.float64)
            self.linear_intercept_ = float(ridge.intercept_)
        params = self._xgb_params()
        dtrain = xgb.QuantileDMatrix(
            matrix,
            label=target,
            base_margin=self._baseline(matrix),
            max_bin=params["max_bin"],
            nthread=params["nthread"],
            feature_names=_xgb_safe(self.feature_names_),
        )
        self.booster_ = xgb.train(params, dtrain, num_boost_round=int(self.n_estimators))
        self.n_train_ = int(len(y))
        self.target_range_ = (float(y.min()), float(y.max()))
        return self

    def _forward(self, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        if self.target_transform == "identity":
            return y
        if (y <= 0).any():
            raise ValueError("target_transform='atomic_volume' needs positive y (a density)")
        return mean_atomic_mass_amu(X) / y

    def _inverse(self, X: pd.DataFrame, raw: np.ndarray) -> np.ndarray:
        if self.target_transform == "identity":
            return raw
        # An atomic volume below 1 cm^3/mol is far outside any glass; keep it finite.
        return mean_atomic_mass_amu(X) / np.maximum(raw, 1.0)

    def predict(self, X: pd.DataFrame, base: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted property of every row of ``X`` (atomic fractions).

        Args:
            X: atomic fractions; elements outside the fitted vocabulary count in
                ``frac_other`` and in the element descriptors.
            base: precomputed :func:`base_features` of ``X`` (optional).
        """
        check_is_fitted(self, "booster_")
        check_atoms(X)
        if len(X) == 0:
            return np.empty(0)
        matrix = self._design(X, base)
        self.booster_.set_param({"nthread": int(self.n_jobs)})
        raw = self.booster_.inplace_predict(matrix, base_margin=self._baseline(matrix))
        # Trees cannot leave the range of the training targets but the linear baseline can
        # (e.g. a negative fragility for a MoO3-rich glass); keep predictions inside it.
        return np.clip(self._inverse(X, np.asarray(raw, dtype=np.float64)), *self.target_range_)

    # -- persistence (nce.models.io) ----------------------------------------------------

    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "booster_")
        self.booster_.save_model(directory / "model.ubj")
        return {
            "vocabulary": list(self.vocabulary_),
            "base_feature_names": list(self.base_feature_names_),
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "n_train": self.n_train_,
            "target_range": list(self.target_range_),
            "linear_coef": [float(v) for v in self.linear_coef_] if self.linear_baseline else None,
            "linear_intercept": self.linear_intercept_ if self.linear_baseline else None,
        }

    def _load_state(self, state: dict, directory: Path) -> None:
        import xgboost as xgb

        self._check_options()
        self.vocabulary_ = [str(v) for v in state["vocabulary"]]
        self.base_feature_names_ = [str(v) for v in state["base_feature_names"]]
        self.feature_names_ = [f"frac_{el}" for el in self.vocabulary_] + ["frac_other"] + self.base_feature_names_
        self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.n_train_ = int(state["n_train"])
        self.target_range_ = tuple(float(v) for v in state["target_range"])
        if self.linear_baseline:
            self.linear_coef_ = np.asarray(state["linear_coef"], dtype=np.float64)
            self.linear_intercept_ = float(state["linear_intercept"])
            if self.linear_coef_.shape != (len(self.vocabulary_) + 1,):
                raise io.ModelFileError(f"{directory}: linear_coef does not match the vocabulary")
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray((directory / "model.ubj").read_bytes()))
        except xgb.core.XGBoostError:
            raise io.ModelFileError(f"{directory / 'model.ubj'} is not a valid xgboost model") from None
        if list(booster.feature_names or []) != _xgb_safe(self.feature_names_):
            raise io.ModelFileError(f"{directory}: booster features differ from model.json")
        self.booster_ = booster


def _xgb_safe(names: list[str]) -> list[str]:
    """xgboost forbids ``[``, ``]`` and ``<`` in feature names."""
    return [n.replace("[", "(").replace("]", ")").replace("<", "lt") for n in names]


# --- training data and grouped cross-validation ---------------------------------------------


def property_training_data(
    target: str,
    table: pd.DataFrame | None = None,
    max_rows: int | None = None,
    random_state: int = 0,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``(atoms, y, KOD)`` for one property from its SciGlass table (or ``table``).

    Rows without the target are dropped; ``max_rows`` keeps a seeded random subset.
    """
    if target not in PROPERTY_TABLES:
        raise ValueError(f"unknown property {target!r}; choose from {', '.join(PROPERTY_TABLES)}")
    if table is None:
        table = read_table(PROPERTY_TABLES[target])
    table = table[np.isfinite(pd.to_numeric(table[target], errors="coerce"))]
    if max_rows is not None and len(table) > max_rows:
        table = table.sample(n=max_rows, random_state=random_state)
    cols = element_columns(table)
    atoms = table[cols].reset_index(drop=True)
    return atoms, table[target].to_numpy(np.float64), table["KOD"].to_numpy()


def grouped_oof_predictions(
    table: pd.DataFrame,
    target: str,
    n_splits: int = 5,
    estimator: CompositionPropertyRegressor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions with GroupKFold by publication (KOD).

    Returns:
        ``(y, oof)`` over the rows of ``table`` that have ``target``.
    """
    from sklearn.model_selection import GroupKFold

    atoms, y, groups = property_training_data(target, table)
    if estimator is None:
        estimator = CompositionPropertyRegressor.for_target(target)
    base = base_features(atoms)
    oof = np.full(len(y), np.nan)
    for train, test in GroupKFold(n_splits=n_splits).split(atoms, y, groups):
        model = clone(estimator).fit(atoms.iloc[train], y[train], base=base.iloc[train])
        oof[test] = model.predict(atoms.iloc[test], base=base.iloc[test])
    return y, oof


def cross_validated_mae(
    table: pd.DataFrame,
    target: str,
    n_splits: int = 5,
    estimator: CompositionPropertyRegressor | None = None,
) -> float:
    """Mean absolute error of ``target`` under GroupKFold by publication (KOD).

    Args:
        table: a processed table with KOD, element columns and the ``target`` column.
        target: one of :data:`PROPERTY_TABLES`.
        n_splits: number of folds.
        estimator: the model to evaluate (default: tuned ``for_target(target)``).
    """
    y, oof = grouped_oof_predictions(table, target, n_splits, estimator)
    return float(np.mean(np.abs(y - oof)))


# --- the four sub-models, full and per publication fold --------------------------------------


def publication_fold(keys, n_folds: int = 5) -> np.ndarray:
    """Deterministic fold (0..n_folds-1) of each publication key.

    The fold is the SHA-256 of the key's text modulo ``n_folds``; integral numbers are
    written as integers first, so KOD 205, 205.0 and "205" share a fold. The same key
    gets the same fold in every table, run and machine (no Python ``hash``).
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    keys = pd.Series(np.asarray(keys, dtype=object))
    if keys.isna().any():
        raise ValueError("publication keys (groups / KOD) must not be missing")

    def text(k) -> str:
        if isinstance(k, (int, np.integer)):
            return str(int(k))
        if isinstance(k, (float, np.floating)) and float(k).is_integer():
            return str(int(k))
        return str(k).strip()

    memo: dict[str, int] = {}
    out = np.empty(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        t = text(k)
        f = memo.get(t)
        if f is None:
            f = memo[t] = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big") % n_folds
        out[i] = f
    return out


class PropertySubmodels:
    """Fitted sub-models for :data:`PROPERTY_TABLES`: one on all rows of each table and,
    for cross-fitting, one per publication fold (trained without that fold's KODs).

    Build with :meth:`train`; save and load with :mod:`nce.models.io`.

    Args:
        full: target -> regressor trained on the whole table.
        folds: target -> list of ``n_folds`` regressors; ``folds[t][k]`` never saw a
            publication with ``publication_fold(KOD) == k``. Empty when not trained.
        n_folds: number of publication folds.
        settings: how they were trained (rows per table, overrides, seed), for records.
    """

    def __init__(
        self,
        full: dict[str, CompositionPropertyRegressor] | None = None,
        folds: dict[str, list[CompositionPropertyRegressor]] | None = None,
        n_folds: int = 5,
        settings: dict | None = None,
    ) -> None:
        self.full = dict(full or {})
        self.folds = {t: list(m) for t, m in (folds or {}).items()}
        self.n_folds = int(n_folds)
        self.settings = dict(settings or {})
        for t, models in self.folds.items():
            if len(models) != self.n_folds:
                raise ValueError(f"{t}: {len(models)} fold models for n_folds={self.n_folds}")

    def __deepcopy__(self, memo) -> PropertySubmodels:
        """Fitted sub-models are never changed after training, so copies share them:
        ``sklearn.clone`` of a featurizer holding them stays cheap."""
        return self

    @property
    def targets(self) -> list[str]:
        return list(self.full)

    @property
    def has_folds(self) -> bool:
        return all(t in self.folds for t in self.full)

    def __repr__(self) -> str:
        return (
            f"PropertySubmodels(targets={self.targets}, n_folds={self.n_folds}, "
            f"folds={'yes' if self.has_folds else 'no'}, settings={self.settings})"
        )

    @classmethod
    def train(
        cls,
        targets: tuple[str, ...] | list[str] = tuple(PROPERTY_TABLES),
        with_folds: bool = True,
        n_folds: int = 5,
        max_rows_per_table: int | None = None,
        params: dict[str, Any] | None = None,
        random_state: int = 0,
        n_jobs: int = 2,
        tables: dict[str, pd.DataFrame] | None = None,
        progress: bool = False,
    ) -> PropertySubmodels:
        """Train the sub-models on the curated SciGlass property tables.

        Args:
            targets: which properties.
            with_folds: also train the ``n_folds`` publication-fold models.
            n_folds: number of publication folds.
            max_rows_per_table: seeded random subset of each table (None = all rows).
            params: hyperparameter overrides applied to every target
                (e.g. ``{"n_estimators": 50}`` for tests).
            random_state: seed of the row subset and of xgboost.
            n_jobs: xgboost threads.
            tables: target -> table to use instead of the embedded one.
            progress: print one line per trained model.
        """
        params = dict(params or {})
        full: dict[str, CompositionPropertyRegressor] = {}
        folds: dict[str, list[CompositionPropertyRegressor]] = {}
        for target in targets:
            table = (tables or {}).get(target)
            atoms, y, kod = property_training_data(target, table, max_rows_per_table, random_state)
            base = base_features(atoms)
            template = CompositionPropertyRegressor.for_target(
                target, **{"random_state": random_state, "n_jobs": n_jobs, **params}
            )
            full[target] = clone(template).fit(atoms, y, base=base)
            if progress:
                print(f"trained {target} on {len(y)} rows", flush=True)
            if with_folds:
                fold = publication_fold(kod, n_folds)
                folds[target] = []
                for k in range(n_folds):
                    keep = np.flatnonzero(fold != k)
                    model = clone(template).fit(atoms.iloc[keep], y[keep], base=base.iloc[keep])
                    folds[target].append(model)
                    if progress:
                        print(f"trained {target} fold {k} on {len(keep)} rows", flush=True)
        settings = {
            "max_rows_per_table": max_rows_per_table,
            "params": params,
            "random_state": random_state,
        }
        return cls(full, folds, n_folds, settings)

    def predict(
        self,
        atoms: pd.DataFrame,
        base: pd.DataFrame | None = None,
        fold: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Predicted properties, one column per target.

        Args:
            atoms: atomic fractions.
            base: precomputed :func:`base_features` of ``atoms``.
            fold: per row, the publication fold whose model to use (cross-fitting);
                None = the full models for every row.
        """
        if base is None:
            base = base_features(atoms)
        out = {}
        for target, model in self.full.items():
            if fold is None:
                out[target] = model.predict(atoms, base=base)
                continue
            if target not in self.folds:
                raise ValueError(f"no fold models for {target}; train with with_folds=True for cross-fitting")
            fold = np.asarray(fold)
            values = np.full(len(atoms), np.nan)
            for k in np.unique(fold):
                rows = np.flatnonzero(fold == k)
                model_k = self.folds[target][int(k)]
                values[rows] = model_k.predict(atoms.iloc[rows], base=base.iloc[rows])
            out[target] = values
        return pd.DataFrame(out, index=atoms.index)

    # -- persistence (nce.models.io): one folder per regressor --------------------------

    def _file_params(self) -> dict:
        return {"n_folds": self.n_folds, "settings": self.settings}

    def _save_state(self, directory: Path) -> dict:
        for target, model in self.full.items():
            io.save(model, directory / target / "full")
            for k, m in enumerate(self.folds.get(target, [])):
                io.save(m, directory / target / f"fold_{k}")
        return {"targets": self.targets, "has_folds": {t: t in self.folds for t in self.targets}}

    def _load_state(self, state: dict, directory: Path) -> None:
        for target in state["targets"]:
            self.full[target] = io.load_child(directory / target / "full")
            if state["has_folds"][target]:
                self.folds[target] = [io.load_child(directory / target / f"fold_{k}") for k in range(self.n_folds)]
