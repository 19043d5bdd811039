"""Vectorized Magpie element-property, stoichiometry and valence-orbital features.

A batch equivalent of three matminer composition featurizers:

- ``ElementProperty.from_preset("magpie")``: 22 Magpie element properties, each summarized by
  minimum, maximum, range, mean, avg_dev and mode (132 features);
- ``Stoichiometry()``: the 0, 2, 3, 5, 7 and 10 p-norms of the atomic fractions (6 features);
- ``ValenceOrbital()``: mean number of s/p/d/f valence electrons and their fractions of the
  mean total valence (8 features).

matminer featurizes one pymatgen ``Composition`` at a time (about 1 ms each); this module
reads the same ``matminer.utils.data.MagpieData`` tables once and computes all rows of an
atomic-fraction DataFrame with array operations. Feature names are matminer's own labels,
and values equal matminer's to floating-point rounding (checked in
``tests/test_element_properties.py``).

Semantics copied from matminer 0.9.x / pymatgen, so that results agree element for element:

- Amounts are weights. Each row is used the way ``Composition(dict(row))`` would be: entries
  with ``abs(x) < 1e-8`` (pymatgen's ``Composition.amount_tolerance``) are absent, the rest
  are relative amounts (rows need not sum exactly to 1; every statistic normalizes).
- Missing element data (NaN) is *not* imputed: matminer's default is ``impute_nan=False`` for
  both ``ElementProperty.from_preset`` and ``ValenceOrbital``. A NaN property of any element
  present in a row makes that row's minimum, maximum, range, mean and avg_dev of the property
  NaN. ``mode`` is NaN only if a NaN-valued element is among the most abundant ones. Among the
  elements NCE sees in glasses, Magpie data is complete; NaNs occur e.g. for the
  electronegativity of He, Ne, Ar, Rn and Lr, the melting point of He and Fr, the covalent
  radius of Bk-Lr and the space group of At, Rn, Fr and Es-Lr.
- ``avg_dev`` is the fraction-weighted mean absolute deviation from the fraction-weighted mean,
  ``sum_i x_i |v_i - mean| / sum_i x_i``.
- ``mode`` is the property value of the most abundant element; elements whose amount is
  ``np.isclose`` (rtol 1e-5, atol 1e-8) to the largest amount count as tied, and the smallest
  of the tied values is returned (``PropertyStats.mode``).
- The 0-norm is the number of elements present; the p-norm is ``(sum_i f_i**p)**(1/p)`` of the
  normalized fractions ``f_i``.
- ``frac {orb} valence electrons`` is ``avg {orb} valence electrons`` divided by the mean of
  ``NValence``.

Elements H (Z=1) to Lr (Z=103) are supported; a column naming anything else raises
``ValueError``. (The Magpie files list up to Cn, Z=112, but most properties are missing past
Lr and no glass contains such elements.)
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "FastElementFeatures",
    "MAGPIE_PROPERTIES",
    "MAGPIE_STATS",
    "P_NORMS",
    "ORBITALS",
    "magpie_table",
]

#: Properties of matminer's ``ElementProperty.from_preset("magpie")``, in matminer's order.
MAGPIE_PROPERTIES: tuple[str, ...] = (
    "Number",
    "MendeleevNumber",
    "AtomicWeight",
    "MeltingT",
    "Column",
    "Row",
    "CovalentRadius",
    "Electronegativity",
    "NsValence",
    "NpValence",
    "NdValence",
    "NfValence",
    "NValence",
    "NsUnfilled",
    "NpUnfilled",
    "NdUnfilled",
    "NfUnfilled",
    "NUnfilled",
    "GSvolume_pa",
    "GSbandgap",
    "GSmagmom",
    "SpaceGroupNumber",
)
#: Statistics of the magpie preset, in matminer's order.
MAGPIE_STATS: tuple[str, ...] = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
#: p values of matminer's ``Stoichiometry()`` default.
P_NORMS: tuple[int, ...] = (0, 2, 3, 5, 7, 10)
#: Orbitals of matminer's ``ValenceOrbital()`` default.
ORBITALS: tuple[str, ...] = ("s", "p", "d", "f")

MAX_Z = 103
# pymatgen drops Composition entries with abs(amount) < Composition.amount_tolerance.
AMOUNT_TOLERANCE = 1e-8
# PropertyStats.mode uses np.isclose(weights, weights.max()) with numpy's default tolerances.
MODE_RTOL, MODE_ATOL = 1e-5, 1e-8
# Size (in float64 values) of the largest (rows x elements x properties) temporary per chunk.
_CHUNK_VALUES = 2**21

_WARD_2016 = (
    "@article{ward_agrawal_choudhary_wolverton_2016, title={A general-purpose machine learning "
    "framework for predicting properties of inorganic materials}, volume={2}, pages={16028}, "
    "DOI={10.1038/npjcompumats.2016.28}, journal={npj Computational Materials}, "
    "author={Ward, Logan and Agrawal, Ankit and Choudhary, Alok and Wolverton, Christopher}, "
    "year={2016}}"
)
_MATMINER_2018 = (
    "@article{ward_matminer_2018, title={Matminer: An open source toolkit for materials data "
    "mining}, volume={152}, pages={60--69}, DOI={10.1016/j.commatsci.2018.05.018}, "
    "journal={Computational Materials Science}, author={Ward, Logan and Dunn, Alexander and "
    "Faghaninia, Alireza and Zimmermann, Nils E. R. and Bajaj, Saurabh and Wang, Qi and "
    "Montoya, Joseph and Chen, Jiming and Bystrom, Kyle and Dylla, Maxwell and Chard, Kyle and "
    "Asta, Mark and Persson, Kristin A. and Snyder, G. Jeffrey and Foster, Ian and Jain, "
    "Anubhav}, year={2018}}"
)
_DEML_2016 = (
    "@article{deml_ohayre_wolverton_stevanovic_2016, title={Predicting density functional "
    "theory total energies and enthalpies of formation of metal-nonmetal compounds by linear "
    "regression}, volume={93}, pages={085142}, DOI={10.1103/PhysRevB.93.085142}, "
    "journal={Physical Review B}, author={Deml, Ann M. and O'Hayre, Ryan and Wolverton, Chris "
    "and Stevanovi{\\'c}, Vladan}, year={2016}}"
)


@cache
def magpie_table() -> tuple[tuple[str, ...], np.ndarray]:
    """Element symbols (H..Lr) and their ``MAGPIE_PROPERTIES`` values, read from matminer.

    Returns:
        ``(symbols, table)`` where ``table[i, j]`` is property ``MAGPIE_PROPERTIES[j]`` of
        ``symbols[i]`` (float64, NaN where Magpie has no value, read-only).
    """
    from matminer.utils.data import MagpieData
    from pymatgen.core import Element

    with warnings.catch_warnings():
        # MagpieData(impute_nan=False) warns that NaNs are kept; keeping them is the point.
        warnings.simplefilter("ignore")
        source = MagpieData(impute_nan=False)
    symbols = tuple(Element.from_Z(z).symbol for z in range(1, MAX_Z + 1))
    table = np.array(
        [[source.all_elemental_props[p][s] for p in MAGPIE_PROPERTIES] for s in symbols],
        dtype=np.float64,
    )
    table.setflags(write=False)
    return symbols, table


@cache
def _symbol_rows() -> dict[str, int]:
    return {s: i for i, s in enumerate(magpie_table()[0])}


class FastElementFeatures(TransformerMixin, BaseEstimator):
    """Magpie ElementProperty + Stoichiometry + ValenceOrbital features of atomic fractions.

    Stateless: ``transform`` works without ``fit`` (``fit`` only records the input columns, as
    every scikit-learn transformer does). Output columns are matminer's ``feature_labels()``
    of ``ElementProperty.from_preset("magpie")``, ``Stoichiometry()`` and ``ValenceOrbital()``,
    in that order (146 features). See the module docstring for the exact semantics.
    """

    def fit(self, atoms: pd.DataFrame, y=None) -> FastElementFeatures:
        """Check ``atoms`` and record its columns; there is nothing to learn.

        Args:
            atoms: atomic fractions, one column per element symbol.
            y: ignored.
        """
        _fraction_matrix(atoms)
        self.feature_names_in_ = np.asarray(atoms.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, atoms: pd.DataFrame) -> pd.DataFrame:
        """Featurize every row of an atomic-fraction table.

        Args:
            atoms: atomic fractions; columns are element symbols (any subset of H..Lr, any
                order), rows are compositions summing to 1 (zeros allowed).

        Returns:
            DataFrame with the index of ``atoms`` and the columns of ``feature_labels()``.

        Raises:
            ValueError: a column is not an element symbol of H..Lr, a value is negative or not
                finite, or a row has no element.
        """
        amounts, rows = _fraction_matrix(atoms)
        values = _featurize(amounts, rows, magpie_table()[1])
        return pd.DataFrame(values, index=atoms.index, columns=self.feature_labels())

    def feature_labels(self) -> list[str]:
        """matminer's labels, e.g. ``"MagpieData mean Electronegativity"``, ``"2-norm"``."""
        labels = [f"MagpieData {s} {p}" for p in MAGPIE_PROPERTIES for s in MAGPIE_STATS]
        labels += [f"{p}-norm" for p in P_NORMS]
        labels += [f"{kind} {o} valence electrons" for kind in ("avg", "frac") for o in ORBITALS]
        return labels

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """scikit-learn name of ``feature_labels()``; ``input_features`` is ignored."""
        return np.asarray(self.feature_labels(), dtype=object)

    def citations(self) -> list[str]:
        """BibTeX of the Magpie features (Ward 2016), matminer (Ward 2018) and the valence
        orbital features (Deml 2016, cited by matminer's ValenceOrbital)."""
        return [_WARD_2016, _MATMINER_2018, _DEML_2016]

    def implementors(self) -> list[str]:
        """Authors of the matminer featurizers reproduced here, and of this port."""
        return [
            "Jiming Chen",
            "Logan Ward",
            "Anubhav Jain",
            "Alex Dunn",
            "Guillaume Brunin (Matgenix)",
            "NCE contributors (vectorized port)",
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_fit": False, "stateless": True}


def _fraction_matrix(atoms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Validated float amounts (absent entries set to 0) and the table row of each column."""
    if not isinstance(atoms, pd.DataFrame):
        raise TypeError(f"atoms must be a pandas DataFrame, got {type(atoms).__name__}")
    symbol_rows = _symbol_rows()
    unknown = [c for c in atoms.columns if not isinstance(c, str) or c not in symbol_rows]
    if unknown:
        raise ValueError(f"columns {unknown!r} are not element symbols with Magpie data (H..Lr, Z 1-{MAX_Z})")
    if atoms.columns.has_duplicates:
        dup = sorted(set(atoms.columns[atoms.columns.duplicated()]))
        raise ValueError(f"duplicated element columns {dup!r}")
    rows = np.array([symbol_rows[c] for c in atoms.columns], dtype=np.intp)
    amounts = atoms.to_numpy(dtype=np.float64, copy=True)

    def _first_bad(mask: np.ndarray) -> str:
        r, c = np.argwhere(mask)[0]
        return f"row {atoms.index[r]!r}, element {atoms.columns[c]!r}: {amounts[r, c]!r}"

    bad = ~np.isfinite(amounts)
    if bad.any():
        raise ValueError(f"non-finite atomic fraction at {_first_bad(bad)}")
    bad = amounts <= -AMOUNT_TOLERANCE
    if bad.any():
        raise ValueError(f"negative atomic fraction at {_first_bad(bad)}")
    amounts[np.abs(amounts) < AMOUNT_TOLERANCE] = 0.0
    empty = ~(amounts > 0).any(axis=1)
    if empty.any():
        raise ValueError(f"rows without any element: {list(atoms.index[empty][:10])!r}")
    return amounts, rows


def _featurize(amounts: np.ndarray, rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Features of every row of ``amounts`` (n x columns, zero = absent)."""
    n = amounts.shape[0]
    n_prop = table.shape[1]
    n_out = n_prop * len(MAGPIE_STATS) + len(P_NORMS) + 2 * len(ORBITALS)
    out = np.empty((n, n_out), dtype=np.float64)
    if n == 0:
        return out

    # Compact each row to its present elements, keeping column order: (n, k_max) slots.
    present = amounts > 0
    k_max = int(present.sum(axis=1).max())
    order = np.argsort(~present, axis=1, kind="stable")[:, :k_max]
    valid = np.take_along_axis(present, order, axis=1)
    weights = np.where(valid, np.take_along_axis(amounts, order, axis=1), 0.0)
    elements = rows[order]

    step = max(1, _CHUNK_VALUES // (k_max * n_prop))
    for start in range(0, n, step):
        sl = slice(start, start + step)
        out[sl] = _featurize_compact(weights[sl], valid[sl], table[elements[sl]])
    return out


def _featurize_compact(w: np.ndarray, valid: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Features from slot weights ``w`` (n, k), slot mask ``valid`` (n, k) and slot property
    values ``v`` (n, k, p). Padding slots have weight 0 and are masked out of every statistic;
    NaN values of present elements propagate as in matminer's PropertyStats."""
    n = w.shape[0]
    valid3 = valid[:, :, None]
    w3 = w[:, :, None]
    total = w.sum(axis=1)[:, None]

    v0 = np.where(valid3, v, 0.0)
    mean = (w3 * v0).sum(axis=1) / total
    minimum = np.where(valid3, v, np.inf).min(axis=1)  # np.min propagates NaN, like matminer
    maximum = np.where(valid3, v, -np.inf).max(axis=1)
    avg_dev = (w3 * np.abs(v0 - mean[:, None, :])).sum(axis=1) / total
    w_max = w.max(axis=1, keepdims=True)
    tied = valid & (np.abs(w - w_max) <= MODE_ATOL + MODE_RTOL * np.abs(w_max))
    mode = np.where(tied[:, :, None], v, np.inf).min(axis=1)
    stats = {
        "minimum": minimum,
        "maximum": maximum,
        "range": maximum - minimum,
        "mean": mean,
        "avg_dev": avg_dev,
        "mode": mode,
    }
    element_property = np.stack([stats[s] for s in MAGPIE_STATS], axis=2).reshape(n, -1)

    f = w / total
    norms = [valid.sum(axis=1).astype(np.float64) if p == 0 else (f**p).sum(axis=1) ** (1.0 / p) for p in P_NORMS]

    avg = mean[:, [MAGPIE_PROPERTIES.index(f"N{o}Valence") for o in ORBITALS]]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = avg / mean[:, [MAGPIE_PROPERTIES.index("NValence")]]

    return np.hstack([element_property, np.column_stack(norms), avg, frac])
