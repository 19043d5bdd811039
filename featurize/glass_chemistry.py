"""Glass-chemistry descriptors from atomic fractions: network connectivity, mobile ion, anions.

Input (shared by all NCE featurizers): a DataFrame of atomic fractions whose columns are
element symbols (any subset; absent elements count as zero) and whose rows sum to 1.
Every function here works on whole columns with numpy, never row by row.

Network connectivity (docs/design.md, "Physics features") follows the charge-and-bond counting
of Zachariasen's random-network picture: network formers T_i make c_i bonds to network
anions, A = O + S + Se + Te (as anion) + N, and each anion can bridge two formers. With
N_t = sum_i c_i n_i:

    bridging  b = clip(N_t - A, 0, A)      free  f = max(A - N_t, 0)
    non-bridging = A - b - f               mean Q^n = 2 b / sum_i n_i

Halides (F, Cl, Br, I) are a dissolved salt and never enter the network. The fraction of
four-coordinated boron follows Dell, Bray & Xiao (1983).

Known simplifications: N is counted like a two-fold bridging anion (its three-fold Nt
sites in LiPON are not resolved); homopolar chalcogen chains of chalcogen-rich glasses
(GeSe4, As2Se3 with extra Se) count as non-bridging or free anions; Sn, Zn, Pb and Fe are
modifiers, never formers.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "ANION_CHARGE",
    "ANION_POLARIZABILITY_A3",
    "CHALCOGENIDE_METALLOIDS",
    "FORMER_COORDINATION",
    "FORMER_VALENCE",
    "HALIDES",
    "MOBILE_IONS",
    "NETWORK_ANIONS",
    "TRANSITION_METALS",
    "GlassChemistry",
    "anion_polarizability",
    "borate_n4_fraction",
    "electronic_risk",
    "glass_fractions",
    "mobile_ion_features",
    "network_connectivity",
]

# --- constant tables -----------------------------------------------------------------------

# Anion coordination c_i (bonds to network anions) of each network former, as used for
# bond counting. B is 3 + N4 (Dell-Bray, see borate_n4_fraction) and Te is a former only
# in oxides (see TE_FORMER_NEEDS_OXYGEN); the remaining values are the dominant unit in
# glasses.
FORMER_COORDINATION: dict[str, float] = {
    "Si": 4.0,  # SiO4 / SiS4 tetrahedra
    "Ge": 4.0,  # GeO4 / GeS4 tetrahedra (GeO5/GeO6 of the germanate anomaly neglected)
    "P": 4.0,  # PO4 / PS4 tetrahedra, including the terminal P=O / P=S
    "Al": 4.0,  # AlO4- tetrahedra, charge-compensated by a modifier cation
    "Ga": 4.0,  # GaO4- / GaS4 tetrahedra, as Al
    "B": 3.0,  # BO3 triangles; raised to 3 + N4 by the Dell-Bray rule
    "As": 3.0,  # AsO3 / AsS3 / AsSe3 trigonal pyramids
    "Sb": 3.0,  # SbO3 / SbS3 trigonal pyramids
    "Bi": 3.0,  # BiO3 pyramids of bismuthate glasses (conditional former)
    "Ti": 4.0,  # TiO4 at low TiO2 in silicates and phosphates (TiO5/TiO6 also occur)
    "Zr": 6.0,  # ZrO6 octahedra in silicate glasses
    "V": 4.0,  # VO4 tetrahedra of alkali vanadate and vanadophosphate glasses (VO5 in V2O5)
    "Mo": 4.0,  # MoO4 tetrahedra, as in AgI-Ag2O-MoO3 fast-ion glasses
    "W": 6.0,  # WO6 octahedra of tungstate and tungstophosphate glasses
    "Te": 4.0,  # TeO4 disphenoids of tellurite glasses (TeO3 grows with modifier)
}

# Formal valence of each former, used only to find the modifier charge that the
# Dell-Bray rule needs (charge balance with the network anions).
FORMER_VALENCE: dict[str, float] = {
    "Si": 4.0,
    "Ge": 4.0,
    "P": 5.0,
    "Al": 3.0,
    "Ga": 3.0,
    "B": 3.0,
    "As": 3.0,
    "Sb": 3.0,
    "Bi": 3.0,
    "Ti": 4.0,
    "Zr": 4.0,
    "V": 5.0,
    "Mo": 6.0,
    "W": 6.0,
    "Te": 4.0,
}

# Tetrahedral formers whose negative unit (AlO4-, GaO4-) takes one modifier charge each,
# before any is left for BO4- units.
CHARGE_COMPENSATED_FORMERS: tuple[str, ...] = ("Al", "Ga")

# Te is a network former (TeO4) when oxygen is present and a network anion (telluride,
# Te2-) in oxygen-free chalcogenide glasses.
TE_FORMER_NEEDS_OXYGEN = True

# Network anions and their formal charges. Te counts only when it is an anion.
ANION_CHARGE: dict[str, float] = {
    "O": 2.0,
    "S": 2.0,
    "Se": 2.0,
    "Te": 2.0,
    "N": 3.0,
    "F": 1.0,
    "Cl": 1.0,
    "Br": 1.0,
    "I": 1.0,
}
NETWORK_ANIONS: tuple[str, ...] = ("O", "S", "Se", "Te", "N")
HALIDES: tuple[str, ...] = ("F", "Cl", "Br", "I")
ANIONS: tuple[str, ...] = NETWORK_ANIONS + HALIDES

# Mobile monovalent cations (Cu taken as Cu+). Order breaks ties for the dominant ion.
MOBILE_IONS: tuple[str, ...] = ("Li", "Na", "K", "Rb", "Cs", "Ag", "Cu", "H")
MOBILE_ION_CHARGE = 1.0

# Electronic polarizabilities of anions in crystals, Angstrom^3 (= 1e-24 cm^3), as tabulated
# by Kittel (Introduction to Solid State Physics, 8th ed., ch. 16, Table 1): halides from
# Jaswal & Sharma (1973), chalcogenides from Tessman, Kahn & Shockley (1953; approximate,
# O2- varies 0.5-3.2 between crystals). N3- is not tabulated there: its value is an
# estimate, the F- -> O2- step (0.858 -> 2.4) extended once more along the isoelectronic
# series.
ANION_POLARIZABILITY_A3: dict[str, float] = {
    "O": 2.4,
    "S": 5.5,
    "Se": 7.0,
    "Te": 9.0,
    "N": 3.9,  # estimate, see above
    "F": 0.858,
    "Cl": 2.947,
    "Br": 4.091,
    "I": 6.116,
}

# Elements whose presence signals possible electronic (polaron or band) conduction.
TRANSITION_METALS: tuple[str, ...] = ("V", "Fe", "Mo", "W", "Cu", "Ti", "Mn", "Co", "Ni", "Cr")
CHALCOGENIDE_METALLOIDS: tuple[str, ...] = ("As", "Se", "Te", "Sb", "Bi")

# Upper bound of modifier_to_former_ratio (reached by glasses with almost no former).
MAX_MODIFIER_TO_FORMER_RATIO = 100.0

_EPS = 1e-12

# --- citations -----------------------------------------------------------------------------

_CITATIONS: dict[str, str] = {
    "zachariasen1932": (
        "@article{zachariasen1932,\n"
        "  author = {Zachariasen, W. H.},\n"
        "  title = {The Atomic Arrangement in Glass},\n"
        "  journal = {Journal of the American Chemical Society},\n"
        "  volume = {54}, number = {10}, pages = {3841--3851}, year = {1932},\n"
        "  doi = {10.1021/ja01349a006}\n}"
    ),
    "dell1983": (
        "@article{dell1983,\n"
        "  author = {Dell, W. J. and Bray, P. J. and Xiao, S. Z.},\n"
        "  title = {{11B} {NMR} studies and structural modeling of {Na2O-B2O3-SiO2} glasses"
        " of high soda content},\n"
        "  journal = {Journal of Non-Crystalline Solids},\n"
        "  volume = {58}, number = {1}, pages = {1--16}, year = {1983},\n"
        "  doi = {10.1016/0022-3093(83)90097-2}\n}"
    ),
    "shannon1976": (
        "@article{shannon1976,\n"
        "  author = {Shannon, R. D.},\n"
        "  title = {Revised effective ionic radii and systematic studies of interatomic"
        " distances in halides and chalcogenides},\n"
        "  journal = {Acta Crystallographica Section A},\n"
        "  volume = {32}, number = {5}, pages = {751--767}, year = {1976},\n"
        "  doi = {10.1107/S0567739476001551}\n}"
    ),
    "tessman1953": (
        "@article{tessman1953,\n"
        "  author = {Tessman, J. R. and Kahn, A. H. and Shockley, W.},\n"
        "  title = {Electronic Polarizabilities of Ions in Crystals},\n"
        "  journal = {Physical Review},\n"
        "  volume = {92}, number = {4}, pages = {890--895}, year = {1953},\n"
        "  doi = {10.1103/PhysRev.92.890}\n}"
    ),
    "jaswal1973": (
        "@article{jaswal1973,\n"
        "  author = {Jaswal, S. S. and Sharma, T. P.},\n"
        "  title = {Electronic polarisabilities of ions in alkali halide crystals},\n"
        "  journal = {Journal of Physics and Chemistry of Solids},\n"
        "  volume = {34}, number = {3}, pages = {509--511}, year = {1973},\n"
        "  doi = {10.1016/0022-3697(73)90045-1}\n}"
    ),
    "ong2013": (
        "@article{ong2013,\n"
        "  author = {Ong, S. P. and Richards, W. D. and Jain, A. and Hautier, G. and"
        " Kocher, M. and Cholia, S. and Gunter, D. and Chevrier, V. L. and Persson, K. A."
        " and Ceder, G.},\n"
        "  title = {Python Materials Genomics (pymatgen): A robust, open-source python"
        " library for materials analysis},\n"
        "  journal = {Computational Materials Science},\n"
        "  volume = {68}, pages = {314--319}, year = {2013},\n"
        "  doi = {10.1016/j.commatsci.2012.10.028}\n}"
    ),
}

# --- input handling ------------------------------------------------------------------------


class _Atoms:
    """Row-normalized atomic fractions with zero columns for absent elements."""

    def __init__(self, atoms: pd.DataFrame) -> None:
        if not isinstance(atoms, pd.DataFrame):
            raise TypeError("atoms must be a pandas DataFrame of atomic fractions")
        _check_symbols(atoms.columns)
        values = atoms.to_numpy(dtype=float, copy=True)
        if values.size and not np.isfinite(values).all():
            raise ValueError("atoms contain NaN or infinite fractions")
        if (values < 0).any():
            raise ValueError("atoms contain negative fractions")
        total = values.sum(axis=1)
        if (total <= 0).any():
            raise ValueError("every row of atoms needs a positive sum")
        self.values = values / total[:, None]
        self.index = atoms.index
        self.n = len(atoms)
        self._column = {str(c): i for i, c in enumerate(atoms.columns)}

    def __getitem__(self, element: str) -> np.ndarray:
        i = self._column.get(element)
        return self.values[:, i] if i is not None else np.zeros(self.n)

    def total(self, elements) -> np.ndarray:
        cols = [self._column[e] for e in elements if e in self._column]
        return self.values[:, cols].sum(axis=1) if cols else np.zeros(self.n)


def _check_symbols(columns) -> None:
    from pymatgen.core.periodic_table import Element

    bad = [c for c in columns if not (isinstance(c, str) and Element.is_valid_symbol(c))]
    if bad:
        raise ValueError(f"atoms columns must be element symbols, got {bad!r}")


def _as_atoms(atoms: pd.DataFrame | _Atoms) -> _Atoms:
    return atoms if isinstance(atoms, _Atoms) else _Atoms(atoms)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, and 0 where den is 0."""
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > _EPS)


def _te_is_anion(a: _Atoms) -> np.ndarray:
    return a["O"] <= _EPS if TE_FORMER_NEEDS_OXYGEN else np.ones(a.n, dtype=bool)


def _network_anion_amounts(a: _Atoms) -> dict[str, np.ndarray]:
    te_anion = _te_is_anion(a)
    out = {el: a[el] for el in NETWORK_ANIONS}
    out["Te"] = np.where(te_anion, a["Te"], 0.0)
    return out


def _former_amounts(a: _Atoms) -> dict[str, np.ndarray]:
    out = {el: a[el] for el in FORMER_COORDINATION}
    out["Te"] = np.where(_te_is_anion(a), 0.0, a["Te"])
    return out


# --- descriptors ---------------------------------------------------------------------------


def borate_n4_fraction(R: np.ndarray, K: np.ndarray | float = 0.0) -> np.ndarray:
    """Fraction N4 of boron in BO4 units, Dell, Bray & Xiao (1983).

    ``R`` = modifier oxide / B2O3 and ``K`` = SiO2 / B2O3 (molar). N4 = R up to
    R_max = 1/2 + K/16, stays at R_max up to R_d1 = 1/2 + K/4, then falls linearly,
    N4 = (8 + K)/12 * (1 - R/(2 + K)), to zero at R_d3 = 2 + K. For K = 0 this is the
    binary alkali borate curve, N4 = R (R <= 1/2) and (2 - R)/3 beyond.
    """
    R = np.clip(np.asarray(R, dtype=float), 0.0, None)
    K = np.clip(np.asarray(K, dtype=float), 0.0, None)
    R_max = 0.5 + K / 16.0
    R_d1 = 0.5 + K / 4.0
    falling = (8.0 + K) / 12.0 * (1.0 - R / (2.0 + K))
    n4 = np.where(R <= R_max, R, np.where(R <= R_d1, R_max, falling))
    return np.clip(n4, 0.0, 1.0)


def _borate_n4(formers: dict[str, np.ndarray], anions: dict[str, np.ndarray]) -> np.ndarray:
    """Dell-Bray N4 with R from charge balance.

    The modifier charge is the network-anion charge not neutralized by the formers'
    valences nor spent on AlO4-/GaO4- units. Cations balanced by halide (the Li of LiI in
    a borate) are not modifier oxide and drop out, since halides carry no network charge.
    """
    anion_charge = sum(ANION_CHARGE[el] * n for el, n in anions.items())
    former_charge = sum(FORMER_VALENCE[el] * n for el, n in formers.items())
    compensation = sum(formers[el] for el in CHARGE_COMPENSATED_FORMERS)
    modifier_charge = np.clip(anion_charge - former_charge - compensation, 0.0, None)
    n_B = formers["B"]
    # R = M2O / B2O3 = (modifier charge / 2) / (n_B / 2); K = SiO2 / B2O3 = n_Si / (n_B / 2)
    R = _safe_div(modifier_charge, n_B)
    K = _safe_div(2.0 * formers["Si"], n_B)
    return np.where(n_B > _EPS, borate_n4_fraction(R, K), 0.0)


def network_connectivity(atoms: pd.DataFrame) -> pd.DataFrame:
    """Bridging, non-bridging and free network anions and mean Q^n by bond counting.

    Columns: ``nbo_fraction``, ``bridging_fraction``, ``free_anion_fraction`` (each per
    network anion), ``mean_Qn`` (bridging anions per former, in [0, 4]),
    ``borate_N4_fraction`` (BO4 share of boron, Dell et al. 1983) and ``has_network``
    (1 when there are both network anions and formers). Without network anions every
    fraction is 0; anions with no former (pure Li2S) are all free.
    """
    a = _as_atoms(atoms)
    formers = _former_amounts(a)
    anions = _network_anion_amounts(a)
    A = sum(anions.values())
    n4 = _borate_n4(formers, anions)
    coordination = {el: np.full(a.n, c) for el, c in FORMER_COORDINATION.items()}
    coordination["B"] = FORMER_COORDINATION["B"] + n4
    N_t = sum(coordination[el] * n for el, n in formers.items())
    n_formers = sum(formers.values())

    bridging = np.clip(N_t - A, 0.0, A)
    free = np.clip(A - N_t, 0.0, None)
    nonbridging = np.clip(A - bridging - free, 0.0, None)
    return pd.DataFrame(
        {
            "nbo_fraction": _safe_div(nonbridging, A),
            "bridging_fraction": _safe_div(bridging, A),
            "free_anion_fraction": _safe_div(free, A),
            "mean_Qn": np.clip(_safe_div(2.0 * bridging, n_formers), 0.0, 4.0),
            "borate_N4_fraction": n4,
            "has_network": ((A > _EPS) & (n_formers > _EPS)).astype(float),
        },
        index=a.index,
    )


def glass_fractions(atoms: pd.DataFrame) -> pd.DataFrame:
    """Atomic fractions of formers, modifiers, network anions and halides; anion shares.

    Modifiers are all cations that are not network formers (alkali, alkaline earth,
    transition metals, H, ...). ``anion_X_share`` is X's share of all anions (network
    anions plus halides); Te counts as an anion only in oxygen-free glasses.
    ``modifier_to_former_ratio`` is capped at MAX_MODIFIER_TO_FORMER_RATIO.
    """
    a = _as_atoms(atoms)
    formers = sum(_former_amounts(a).values())
    anions = _network_anion_amounts(a)
    network_anions = sum(anions.values())
    halides = a.total(HALIDES)
    modifiers = np.clip(1.0 - formers - network_anions - halides, 0.0, None)
    all_anions = network_anions + halides
    ratio = np.divide(modifiers, formers, out=np.full(a.n, MAX_MODIFIER_TO_FORMER_RATIO), where=formers > _EPS)
    ratio = np.where(modifiers > _EPS, np.minimum(ratio, MAX_MODIFIER_TO_FORMER_RATIO), 0.0)
    out = {
        "network_former_fraction": formers,
        "modifier_fraction": modifiers,
        "network_anion_fraction": network_anions,
        "halide_fraction": halides,
        "modifier_to_former_ratio": ratio,
    }
    amounts = {**anions, **{el: a[el] for el in HALIDES}}
    for el in ANIONS:
        out[f"anion_{el}_share"] = _safe_div(amounts[el], all_anions)
    return pd.DataFrame(out, index=a.index)


# Roman coordination numbers as pymatgen keys them (suffixes SQ square, PY pyramidal).
_ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV")


@cache
def _shannon_radius_A(element: str, coordination: str) -> float:
    """Shannon (1976) ionic radius of the +1 ion from pymatgen's tables.

    Falls back to the nearest tabulated coordination (Rb+, Cs+ have no IV; H+ has only
    I and II, with Shannon's negative radius for H bonded inside the O electron cloud).
    """
    from pymatgen.core.periodic_table import Element

    radii = Element(element).data["Shannon radii"][str(int(MOBILE_ION_CHARGE))]
    if coordination in radii:
        key = coordination
    else:
        target = _ROMAN.index(coordination)

        def distance(k: str) -> tuple[int, str]:
            return abs(_ROMAN.index(k.removesuffix("SQ").removesuffix("PY")) - target), k

        key = min(radii, key=distance)
    entry = radii[key]
    return float(next(iter(entry.values()))["ionic_radius"])


@cache
def _atomic_mass_amu(element: str) -> float:
    from pymatgen.core.periodic_table import Element

    return float(Element(element).atomic_mass)


def mobile_ion_features(atoms: pd.DataFrame, radius_coordination: Literal["IV", "VI"] = "VI") -> pd.DataFrame:
    """Mobile-cation amount, identity, size, charge and mass; mixed-mobile-ion share.

    Mobile ions are Li, Na, K, Rb, Cs, Ag, Cu (as Cu+) and H. Radius (Shannon 1976, via
    pymatgen), charge and mass are averages weighted by each ion's share of the mobile
    ions, 0 without mobile ions. ``mixed_mobile_ion`` = 1 - share of the dominant ion
    (0 for a single mobile ion; the mixed-alkali effect).
    """
    a = _as_atoms(atoms)
    amounts = np.column_stack([a[el] for el in MOBILE_IONS])
    total = amounts.sum(axis=1)
    share = amounts / np.where(total > _EPS, total, 1.0)[:, None]
    present = total > _EPS
    dominant = np.argmax(amounts, axis=1)
    radius = np.array([_shannon_radius_A(el, radius_coordination) for el in MOBILE_IONS])
    mass = np.array([_atomic_mass_amu(el) for el in MOBILE_IONS])

    out: dict[str, np.ndarray] = {"mobile_ion_fraction": total}
    for j, el in enumerate(MOBILE_IONS):
        out[f"mobile_is_{el}"] = (present & (dominant == j)).astype(float)
    out["mobile_ion_radius_A"] = share @ radius
    out["mobile_ion_charge"] = np.where(present, MOBILE_ION_CHARGE, 0.0)
    out["mobile_ion_mass_amu"] = share @ mass
    out["mixed_mobile_ion"] = np.where(present, 1.0 - share.max(axis=1), 0.0)
    return pd.DataFrame(out, index=a.index)


def anion_polarizability(atoms: pd.DataFrame) -> pd.DataFrame:
    """Anion-share-weighted electronic polarizability ``anion_polarizability_A3`` (Angstrom^3).

    Values from ANION_POLARIZABILITY_A3 (Tessman, Kahn & Shockley 1953; Jaswal & Sharma
    1973); Te counts only as telluride. 0 when the glass has no anions.
    """
    a = _as_atoms(atoms)
    amounts = {**_network_anion_amounts(a), **{el: a[el] for el in HALIDES}}
    total = sum(amounts.values())
    weighted = sum(ANION_POLARIZABILITY_A3[el] * n for el, n in amounts.items())
    return pd.DataFrame({"anion_polarizability_A3": _safe_div(weighted, total)}, index=a.index)


def electronic_risk(atoms: pd.DataFrame) -> pd.DataFrame:
    """Atomic fractions of elements that point to electronic conduction.

    ``tm_fraction``: V, Fe, Mo, W, Cu, Ti, Mn, Co, Ni, Cr (polaron hopping in TM oxides,
    Cu in cuprates and Cu-As-Se/Te); ``chalcogenide_metalloid_fraction``: As, Se, Te,
    Sb, Bi (semiconducting chalcogenide glasses).
    """
    a = _as_atoms(atoms)
    return pd.DataFrame(
        {
            "tm_fraction": a.total(TRANSITION_METALS),
            "chalcogenide_metalloid_fraction": a.total(CHALCOGENIDE_METALLOIDS),
        },
        index=a.index,
    )


# --- featurizer ----------------------------------------------------------------------------


class GlassChemistry(TransformerMixin, BaseEstimator):
    """All glass-chemistry descriptors of this module for a table of atomic fractions.

    Stateless and batch: ``transform`` works on the whole DataFrame at once. ``fit`` only
    exists for scikit-learn pipelines.

    Args:
        radius_coordination: Shannon coordination used for ``mobile_ion_radius_A``.
    """

    def __init__(self, radius_coordination: Literal["IV", "VI"] = "VI") -> None:
        self.radius_coordination = radius_coordination

    def fit(self, atoms: pd.DataFrame, y=None) -> GlassChemistry:
        """No-op; returns self."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def transform(self, atoms: pd.DataFrame) -> pd.DataFrame:
        """Feature table with the index of ``atoms`` and the columns of ``feature_labels()``."""
        if self.radius_coordination not in ("IV", "VI"):
            raise ValueError(f"radius_coordination must be 'IV' or 'VI', got {self.radius_coordination!r}")
        a = _Atoms(atoms)
        parts = [
            network_connectivity(a),
            glass_fractions(a),
            mobile_ion_features(a, self.radius_coordination),
            anion_polarizability(a),
            electronic_risk(a),
        ]
        return pd.concat(parts, axis=1).astype(float)

    featurize_dataframe_fast = transform

    def feature_labels(self) -> list[str]:
        """Names of the output columns, in order."""
        return (
            ["nbo_fraction", "bridging_fraction", "free_anion_fraction", "mean_Qn", "borate_N4_fraction", "has_network"]
            + [
                "network_former_fraction",
                "modifier_fraction",
                "network_anion_fraction",
                "halide_fraction",
                "modifier_to_former_ratio",
            ]
            + [f"anion_{el}_share" for el in ANIONS]
            + ["mobile_ion_fraction"]
            + [f"mobile_is_{el}" for el in MOBILE_IONS]
            + ["mobile_ion_radius_A", "mobile_ion_charge", "mobile_ion_mass_amu", "mixed_mobile_ion"]
            + ["anion_polarizability_A3", "tm_fraction", "chalcogenide_metalloid_fraction"]
        )

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """scikit-learn alias of ``feature_labels``."""
        return np.asarray(self.feature_labels(), dtype=object)

    def citations(self) -> list[str]:
        """BibTeX entries for the models and data tables used."""
        return list(_CITATIONS.values())

    def implementors(self) -> list[str]:
        """Who wrote this featurizer."""
        return ["NCE developers"]
