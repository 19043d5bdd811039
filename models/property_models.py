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

Models are saved without pickle: xgboost's own UBJ file beside a ``model.json`` with the
constructor arguments, element vocabulary, feature names, package versions and the SHA-256
of the UBJ file; :meth:`CompositionPropertyRegressor.load` refuses a file that does not match.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DEFAULT_HYPERPARAMS",
    "PROPERTY_TABLES",
    "CompositionPropertyRegressor",
    "ModelFileError",
    "atomic_fraction_block",
    "base_features",
    "cross_validated_mae",
    "grouped_oof_predictions",
    "property_training_data",
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
        n_estimators=700, learning_rate=0.08, max_depth=9, min_child_weight=2.0,
        subsample=0.8, colsample_bytree=0.5, objective="reg:squarederror",
    ),
    "fragility_m": dict(
        n_estimators=500, learning_rate=0.05, max_depth=7, min_child_weight=3.0,
        subsample=0.8, colsample_bytree=0.5, objective="reg:absoluteerror",
    ),
    "density_g_cm3": dict(
        n_estimators=700, learning_rate=0.08, max_depth=9, min_child_weight=2.0,
        subsample=0.8, colsample_bytree=0.5, objective="reg:squarederror",
    ),
    "shear_modulus_GPa": dict(
        n_estimators=600, learning_rate=0.05, max_depth=7, min_child_weight=2.0,
        subsample=0.8, colsample_bytree=0.5, objective="reg:squarederror",
    ),
}

_FORMAT = "nce.property_model"
_FORMAT_VERSION = 1
_MODEL_FILE = "model.ubj"
_META_FILE = "model.json"


class ModelFileError(ValueError):
    """A saved model folder that cannot be loaded: missing, truncated, altered or from
    another package version."""


# --- features --------------------------------------------------------------------------------


def _z_order(symbols) -> list[str]:
    from pymatgen.core.periodic_table import Element

    return sorted(symbols, key=lambda s: Element(s).Z)


def _check_atoms(atoms: pd.DataFrame) -> None:
    from nce.data.schema import ELEMENT_SYMBOLS

    if not isinstance(atoms, pd.DataFrame):
        raise TypeError(f"atoms must be a pandas DataFrame, got {type(atoms).__name__}")
    bad = [c for c in atoms.columns if c not in ELEMENT_SYMBOLS]
    if bad:
        raise ValueError(
            f"atoms must hold only atomic-fraction columns named by element symbol; got "
            f"{bad[:10]!r} (select them with nce.data.schema.element_columns)"
        )


def base_features(atoms: pd.DataFrame) -> pd.DataFrame:
    """Vocabulary-independent base features: FastElementFeatures + GlassChemistry.

    Computed once per table and shared by every sub-model (pass it as ``base=``).
    """
    from nce.featurize.element_properties import FastElementFeatures
    from nce.featurize.glass_chemistry import GlassChemistry

    _check_atoms(atoms)
    return pd.concat(
        [FastElementFeatures().transform(atoms), GlassChemistry().transform(atoms)], axis=1
    )


def atomic_fraction_block(
    atoms: pd.DataFrame, vocabulary: list[str] | tuple[str, ...]
) -> np.ndarray:
    """Row-normalized fractions of ``vocabulary`` (absent columns = 0) and, as the last
    column, the share of atoms of elements outside the vocabulary (``frac_other``)."""
    values = atoms.to_numpy(dtype=np.float64)
    total = values.sum(axis=1)
    total = np.where(total > 0, total, 1.0)
    position = {c: i for i, c in enumerate(atoms.columns)}
    out = np.zeros((len(atoms), len(vocabulary) + 1))
    for j, el in enumerate(vocabulary):
        i = position.get(el)
        if i is not None:
            out[:, j] = values[:, i] / total
    out[:, -1] = np.clip(1.0 - out[:, :-1].sum(axis=1), 0.0, 1.0)
    out[out[:, -1] < 1e-9, -1] = 0.0
    return out


# --- estimator -------------------------------------------------------------------------------


class CompositionPropertyRegressor(RegressorMixin, BaseEstimator):
    """xgboost regressor from atomic fractions to one glass property.

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
        self.n_jobs = n_jobs
        self.random_state = random_state

    @classmethod
    def for_target(cls, target: str, **overrides) -> CompositionPropertyRegressor:
        """A regressor with the tuned :data:`DEFAULT_HYPERPARAMS` of ``target``."""
        if target not in DEFAULT_HYPERPARAMS:
            raise ValueError(
                f"unknown property {target!r}; choose from {', '.join(DEFAULT_HYPERPARAMS)}"
            )
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

    def fit(self, X: pd.DataFrame, y, base: pd.DataFrame | None = None):
        """Learn the element vocabulary of ``X`` and fit the trees.

        Args:
            X: atomic fractions, one column per element symbol.
            y: property values (finite).
            base: precomputed :func:`base_features` of ``X`` (optional, saves time).
        """
        import xgboost as xgb

        _check_atoms(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(y) == 0 or not np.isfinite(y).all():
            raise ValueError("y must be non-empty and finite")
        present = X.columns[(X.to_numpy(dtype=np.float64) > 0).any(axis=0)]
        self.vocabulary_ = _z_order(list(present))
        if base is None:
            base = base_features(X)
        self.base_feature_names_ = [str(c) for c in base.columns]
        self.feature_names_ = (
            [f"frac_{el}" for el in self.vocabulary_] + ["frac_other"] + self.base_feature_names_
        )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        matrix = self._design(X, base)
        params = self._xgb_params()
        dtrain = xgb.QuantileDMatrix(
            matrix, label=y, max_bin=params["max_bin"], nthread=params["nthread"],
            feature_names=_xgb_safe(self.feature_names_),
        )
        self.booster_ = xgb.train(params, dtrain, num_boost_round=int(self.n_estimators))
        self.n_train_ = int(len(y))
        return self

    def predict(self, X: pd.DataFrame, base: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted property of every row of ``X`` (atomic fractions).

        Args:
            X: atomic fractions; elements outside the fitted vocabulary count in
                ``frac_other`` and in the element descriptors.
            base: precomputed :func:`base_features` of ``X`` (optional).
        """
        check_is_fitted(self, "booster_")
        _check_atoms(X)
        if len(X) == 0:
            return np.empty(0)
        matrix = self._design(X, base)
        self.booster_.set_param({"nthread": int(self.n_jobs)})
        return np.asarray(self.booster_.inplace_predict(matrix), dtype=np.float64)

    # -- persistence --------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``model.ubj`` (xgboost) and ``model.json`` (everything else) to ``directory``."""
        check_is_fitted(self, "booster_")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        raw = bytes(self.booster_.save_raw(raw_format="ubj"))
        (directory / _MODEL_FILE).write_bytes(raw)
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "class": type(self).__name__,
            "module": type(self).__module__,
            **_versions(),
            "params": self.get_params(),
            "vocabulary": list(self.vocabulary_),
            "base_feature_names": list(self.base_feature_names_),
            "feature_names": list(self.feature_names_),
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "n_train": self.n_train_,
            "model_file": _MODEL_FILE,
            "model_sha256": hashlib.sha256(raw).hexdigest(),
        }
        (directory / _META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, check_version: bool = True) -> CompositionPropertyRegressor:
        """Rebuild a model written by :meth:`save`.

        Raises:
            ModelFileError: files missing, unreadable, altered (hash or feature list do
                not match) or written by another nce version (unless ``check_version``
                is False).
        """
        import xgboost as xgb

        directory = Path(directory)
        meta = _read_json(directory / _META_FILE)
        if meta.get("format") != _FORMAT or meta.get("class") != cls.__name__:
            raise ModelFileError(f"{directory} does not hold a {cls.__name__}")
        if meta.get("format_version") != _FORMAT_VERSION:
            raise ModelFileError(
                f"{directory}: format version {meta.get('format_version')!r}, "
                f"this nce reads {_FORMAT_VERSION}"
            )
        if check_version:
            _check_versions(meta, directory)
        raw = _read_checked(directory / meta.get("model_file", _MODEL_FILE), meta.get("model_sha256"))
        try:
            model = cls(**meta["params"])
            model.vocabulary_ = list(meta["vocabulary"])
            model.base_feature_names_ = list(meta["base_feature_names"])
            model.feature_names_ = list(meta["feature_names"])
            model.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
            model.n_features_in_ = len(model.feature_names_in_)
            model.n_train_ = int(meta["n_train"])
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"{directory / _META_FILE} is incomplete: {exc}") from exc
        expected = [f"frac_{el}" for el in model.vocabulary_] + ["frac_other"]
        expected += model.base_feature_names_
        if expected != model.feature_names_:
            raise ModelFileError(f"{directory}: feature list does not match the vocabulary")
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgb.core.XGBoostError as exc:
            raise ModelFileError(f"{directory / _MODEL_FILE} is not a valid xgboost model") from exc
        if list(booster.feature_names or []) != _xgb_safe(model.feature_names_):
            raise ModelFileError(f"{directory}: booster features differ from model.json")
        model.booster_ = booster
        return model


def _xgb_safe(names: list[str]) -> list[str]:
    """xgboost forbids ``[``, ``]`` and ``<`` in feature names."""
    return [n.replace("[", "(").replace("]", ")").replace("<", "lt") for n in names]


def _versions() -> dict[str, str]:
    import xgboost

    import nce

    return {"nce_version": nce.__version__, "xgboost_version": xgboost.__version__}


def _check_versions(meta: dict, where: Path) -> None:
    import nce

    saved = meta.get("nce_version")
    if saved != nce.__version__:
        raise ModelFileError(
            f"{where} was saved by nce {saved}, this is nce {nce.__version__}; "
            "retrain, or load with check_version=False at your own risk"
        )


def _read_json(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ModelFileError(f"{path} is missing") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not valid JSON (truncated or altered?): {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path} does not hold a JSON object")
    return meta


def _read_checked(path: Path, sha256: str | None) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelFileError(f"{path} is missing") from exc
    if not sha256 or hashlib.sha256(raw).hexdigest() != sha256:
        raise ModelFileError(f"{path} does not match its recorded SHA-256 (truncated or altered)")
    return raw


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
    from nce.data.schema import element_columns, read_table

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
