"""Atomic-fraction tables: parse compositions into them, and the descriptors every model shares.

An atomic-fraction table has one column per element symbol (``nce.data.schema.element_columns``)
and one row per glass, each row summing to 1. Everything here is stateless.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from pymatgen.core.periodic_table import Element
from sklearn.base import BaseEstimator, TransformerMixin

from nce.data.composition import CompositionError, parse_many
from nce.data.schema import ELEMENT_SYMBOLS, element_columns
from nce.featurize.element_properties import FastElementFeatures
from nce.featurize.glass_chemistry import GlassChemistry

__all__ = ["AtomicFractions", "atomic_fraction_block", "atoms_frame", "base_features", "z_order"]


def z_order(symbols: Iterable[str]) -> list[str]:
    """Element symbols sorted by atomic number."""
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
    columns = z_order(symbols)
    position = {el: j for j, el in enumerate(columns)}
    values = np.zeros((n, len(columns)))
    for i, p in enumerate(parsed):
        if errors[i] is not None:
            values[i] = np.nan
            continue
        for el, x in p.atoms.items():
            values[i, position[el]] = x
    return pd.DataFrame(values, index=index, columns=columns), errors


def check_atoms(atoms: pd.DataFrame) -> None:
    """Raise unless ``atoms`` is a DataFrame of element-symbol columns only."""
    if not isinstance(atoms, pd.DataFrame):
        raise TypeError(f"atoms must be a pandas DataFrame, got {type(atoms).__name__}")
    bad = [c for c in atoms.columns if c not in ELEMENT_SYMBOLS]
    if bad:
        raise ValueError(
            f"atoms must hold only atomic-fraction columns named by element symbol; got "
            f"{bad[:10]!r} (select them with nce.data.schema.element_columns)"
        )


def base_features(atoms: pd.DataFrame) -> pd.DataFrame:
    """The vocabulary-independent descriptors: FastElementFeatures + GlassChemistry.

    Computed once per table and shared by every model that reads compositions.
    """
    check_atoms(atoms)
    return pd.concat([FastElementFeatures().transform(atoms), GlassChemistry().transform(atoms)], axis=1)


def atomic_fraction_block(atoms: pd.DataFrame, vocabulary: list[str] | tuple[str, ...]) -> np.ndarray:
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


class AtomicFractions(TransformerMixin, BaseEstimator):
    """A glass table -> its atomic fractions over the elements seen in ``fit``.

    The input of the plain reference models (DESIGN: "xgboost on atomic fractions"): the
    element columns of the table, zeros for elements absent from a row; elements not seen in
    ``fit`` are dropped (a plain model has no column for them).
    """

    def fit(self, X: pd.DataFrame, y=None):
        self.elements_ = element_columns(X)
        if not self.elements_:
            raise ValueError("X has no atomic-fraction columns (named by element symbol)")
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return X.reindex(columns=self.elements_, fill_value=0.0).to_numpy(dtype=np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.elements_, dtype=object)
