"""Derived physics features of glassy electrolytes, each a small function with its source.

Inputs are whole columns (numpy arrays or an atomic-fraction DataFrame), never single rows.
The glass properties they need (Tg, fragility m, density, shear modulus) come from the
composition sub-models of :mod:`nce.models.property_models`; :func:`physics_features`
assembles everything from those four predictions and the atomic fractions.

Output columns (units in the names):

==============================  ===========================================================
``Tg_K``                        glass transition temperature (sub-model), K
``fragility_m``                 MYEGA fragility index (sub-model), dimensionless
``density_g_cm3``               density (sub-model), g/cm^3
``shear_modulus_GPa``           shear modulus (sub-model), GPa
``log10_carrier_density_cm3``   log10 of mobile cations per cm^3 (NaN without mobile ions)
``inv_Tg_m_1_per_K``            1/(Tg m), 1/K (Wilkinson et al. 2020)
``anion_radius_A``              share-weighted Shannon radius of the anions, Angstrom
``doorway_radius_A``            Anderson-Stuart doorway radius proxy, Angstrom
``dielectric_constant_est``     Clausius-Mossotti estimate from anion polarizability
``as_coulomb_eV``               Anderson-Stuart binding (Coulomb) term, eV
``as_strain_eV``                Anderson-Stuart strain term, eV
==============================  ===========================================================

The Anderson-Stuart terms are proxies with unit prefactors (beta = 1) and geometric
estimates for the doorway and the dielectric constant; they rank glasses, they do not
predict Ea by themselves. Each choice is stated in the function that makes it.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from nce.featurize.glass_chemistry import ANION_CHARGE, ANIONS, GlassChemistry

__all__ = [
    "ANION_CHARGE_MAGNITUDE",
    "ANION_RADIUS_A",
    "AVOGADRO",
    "COULOMB_EV_A",
    "GPA_A3_TO_EV",
    "PHYSICS_FEATURES",
    "anderson_stuart_coulomb_eV",
    "anderson_stuart_strain_eV",
    "anion_number_density_A3",
    "carrier_density_cm3",
    "clausius_mossotti_dielectric",
    "doorway_radius_A",
    "inv_Tg_m",
    "wilkinson_Ea_ratio",
    "log10_carrier_density_cm3",
    "mean_atomic_mass_amu",
    "physics_features",
]

#: Avogadro constant, 1/mol (CODATA 2018, exact).
AVOGADRO = 6.02214076e23
#: e^2 / (4 pi eps0) in eV * Angstrom (CODATA 2018).
COULOMB_EV_A = 14.3996454784
#: 1 GPa * 1 Angstrom^3 = 1e9 Pa * 1e-30 m^3 = 1e-21 J, in eV.
GPA_A3_TO_EV = 1e-21 / 1.602176634e-19
#: Nearest-neighbour distance of a close-packed (fcc) array per n^(-1/3) of its number density:
#: a/sqrt(2) with n = 4/a^3 gives 2^(1/6) = 1.1225.
CLOSE_PACKED_NN_FACTOR = 2.0 ** (1.0 / 6.0)
#: Largest Clausius-Mossotti (4 pi/3) N alpha accepted (eps = 28); beyond it the formula
#: diverges (polarization catastrophe) and says nothing about a real glass.
MAX_CM_TERM = 0.9

#: Shannon (1976) ionic radii of the anions, Angstrom (six-fold coordination; N3- has only
#: a four-fold value), as tabulated in pymatgen.
ANION_RADIUS_A: dict[str, float] = {
    "O": 1.40,
    "S": 1.84,
    "Se": 1.98,
    "Te": 2.21,
    "N": 1.46,
    "F": 1.33,
    "Cl": 1.81,
    "Br": 1.96,
    "I": 2.20,
}
#: Formal charge magnitude of each anion (glass_chemistry's table, one copy).
ANION_CHARGE_MAGNITUDE: dict[str, float] = ANION_CHARGE

#: Names of the columns of :func:`physics_features`, in order.
PHYSICS_FEATURES: tuple[str, ...] = (
    "Tg_K",
    "fragility_m",
    "density_g_cm3",
    "shear_modulus_GPa",
    "log10_carrier_density_cm3",
    "inv_Tg_m_1_per_K",
    "anion_radius_A",
    "doorway_radius_A",
    "dielectric_constant_est",
    "as_coulomb_eV",
    "as_strain_eV",
)

CITATIONS = {
    "wilkinson2020": (
        "Wilkinson, C. J. et al. J. Phys. Chem. B 124 (2020) 1099: the activation energy of "
        "ionic conduction relative to a reference glass of the same family, "
        "Ea/Ea_r = Tg_r m_r/(Tg m) (eq. 9 as the seed review states it)."
    ),
    "anderson_stuart1954": (
        "Anderson, O. L.; Stuart, D. A. Calculation of activation energy of ionic "
        "conductivity in silica glasses by classical methods. J. Am. Ceram. Soc. 37 (1954) "
        "573-580."
    ),
    "shannon1976": (
        "Shannon, R. D. Revised effective ionic radii and systematic studies of interatomic "
        "distances in halides and chalcogenides. Acta Cryst. A32 (1976) 751-767."
    ),
    "codata2018": "CODATA 2018 recommended values of the fundamental physical constants.",
}


# --- carrier density -------------------------------------------------------------------------


@cache
def _atomic_mass(symbol: str) -> float:
    from pymatgen.core.periodic_table import Element

    return float(Element(symbol).atomic_mass)


def mean_atomic_mass_amu(atoms: pd.DataFrame) -> np.ndarray:
    """Mean atomic mass per atom, g/mol (pymatgen atomic masses), of each row of
    atomic fractions (rows are normalized first)."""
    values = atoms.to_numpy(dtype=np.float64)
    masses = np.array([_atomic_mass(str(c)) for c in atoms.columns])
    total = values.sum(axis=1)
    return np.divide(values @ masses, total, out=np.full(len(atoms), np.nan), where=total > 0)


def carrier_density_cm3(
    mobile_fraction: np.ndarray, density_g_cm3: np.ndarray, mean_mass_amu: np.ndarray
) -> np.ndarray:
    """Mobile cations per cm^3: n = x_mobile * rho * N_A / M_atom.

    ``rho * N_A / M_atom`` is the number of atoms per cm^3 (M_atom = mean atomic mass per
    atom, g/mol) and ``x_mobile`` the atomic fraction of mobile cations. E.g. Li2O.2SiO2
    (x_Li = 2/9, M_atom = 16.68 g/mol) at 2.35 g/cm^3 holds 1.89e22 Li+/cm^3.
    """
    x = np.asarray(mobile_fraction, dtype=np.float64)
    rho = np.asarray(density_g_cm3, dtype=np.float64)
    m = np.asarray(mean_mass_amu, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x * rho * AVOGADRO / m


def log10_carrier_density_cm3(n_cm3: np.ndarray) -> np.ndarray:
    """log10 of the carrier density; NaN where there are no carriers (or no density)."""
    n = np.asarray(n_cm3, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.log10(np.where(n > 0, n, 1.0)), np.nan)


# --- Wilkinson relaxation term ---------------------------------------------------------------


def inv_Tg_m(Tg_K: np.ndarray, fragility_m: np.ndarray) -> np.ndarray:
    """1 / (Tg * m) in 1/K, the relaxation term of Wilkinson et al. (2020): Ea ~ 1/(Tg m).

    NaN where Tg or m is not positive.
    """
    Tg = np.asarray(Tg_K, dtype=np.float64)
    m = np.asarray(fragility_m, dtype=np.float64)
    product = Tg * m
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(product > 0, 1.0 / np.where(product > 0, product, 1.0), np.nan)


def wilkinson_Ea_ratio(Tg_K, fragility_m, Tg_ref_K, fragility_m_ref) -> np.ndarray:
    """Ea / Ea_r = Tg_r m_r / (Tg m), Wilkinson et al. (2020) eq. 9, relative to a reference
    glass r of the same family (tested as published in benchmarks/physics.py)."""
    return np.asarray(Tg_ref_K, dtype=float) * np.asarray(fragility_m_ref, dtype=float) * inv_Tg_m(Tg_K, fragility_m)


# --- Anderson-Stuart -------------------------------------------------------------------------


def anion_number_density_A3(
    anion_fraction: np.ndarray, density_g_cm3: np.ndarray, mean_mass_amu: np.ndarray
) -> np.ndarray:
    """Anions per Angstrom^3: x_anion * rho * N_A / M_atom * 1e-24."""
    return carrier_density_cm3(anion_fraction, density_g_cm3, mean_mass_amu) * 1e-24


def clausius_mossotti_dielectric(anion_density_A3: np.ndarray, anion_polarizability_A3: np.ndarray) -> np.ndarray:
    """High-frequency dielectric constant from the Clausius-Mossotti relation,
    (eps - 1)/(eps + 2) = (4 pi / 3) N alpha, counting only the anions.

    Anions carry most of the electronic polarizability of these glasses, so the cations
    are left out; the crystal anion polarizabilities of ANION_POLARIZABILITY_A3 then give
    eps = 3.4 for SiO2 at 2.2 g/cm^3, where the measured eps_inf = n^2 = 2.1. Treat it as
    a relative polarizability scale, not a measured dielectric constant. The term
    (4 pi/3) N alpha is capped at MAX_CM_TERM (eps <= 28). 1 where there are no anions.
    """
    term = (4.0 * np.pi / 3.0) * np.asarray(anion_density_A3) * np.asarray(anion_polarizability_A3)
    term = np.clip(np.nan_to_num(term, nan=0.0), 0.0, MAX_CM_TERM)
    return (1.0 + 2.0 * term) / (1.0 - term)


def doorway_radius_A(anion_radius: np.ndarray, anion_density_A3: np.ndarray) -> np.ndarray:
    """Doorway radius proxy r_D: the hole at the centre of a triangle of three anions.

    Choice (documented proxy, not a fitted structure): the anions sit at the nearest-
    neighbour distance of a close-packed array of the glass's anion number density,
    d = 2^(1/6) N^(-1/3), but never closer than touching (d >= 2 r_anion). The largest
    sphere through the centre of an equilateral triangle of side d is then
    r_D = d / sqrt(3) - r_anion, so touching anions give r_D = (2/sqrt(3) - 1) r_anion
    = 0.155 r_anion and open (low-density) networks larger doorways. Real glasses have
    a distribution of windows; this is its density-informed centre. NaN without anions.
    """
    r_a = np.asarray(anion_radius, dtype=np.float64)
    N = np.asarray(anion_density_A3, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = CLOSE_PACKED_NN_FACTOR * np.where(N > 0, N, np.nan) ** (-1.0 / 3.0)
    d = np.maximum(d, 2.0 * r_a)
    return np.where((r_a > 0) & (N > 0), d / np.sqrt(3.0) - r_a, np.nan)


def anderson_stuart_coulomb_eV(
    cation_radius_A: np.ndarray,
    cation_charge: np.ndarray,
    anion_radius: np.ndarray,
    anion_charge: np.ndarray,
    dielectric_constant: np.ndarray,
    beta: float = 1.0,
) -> np.ndarray:
    """Binding (Coulomb) term of Anderson & Stuart (1954):
    E_b = beta z z0 e^2 / (4 pi eps0 eps (r + r0)).

    The jump-distance correction -2/lambda of the original is dropped (as in the usual
    simplified form), which makes E_b an upper estimate; beta = 1. NaN without mobile ion
    or anion.
    """
    r = np.asarray(cation_radius_A, dtype=np.float64)
    r0 = np.asarray(anion_radius, dtype=np.float64)
    z = np.asarray(cation_charge, dtype=np.float64)
    z0 = np.asarray(anion_charge, dtype=np.float64)
    eps = np.asarray(dielectric_constant, dtype=np.float64)
    ok = (z > 0) & (z0 > 0) & (r + r0 > 0) & (eps > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = beta * COULOMB_EV_A * z * z0 / (eps * (r + r0))
    return np.where(ok, value, np.nan)


def anderson_stuart_strain_eV(
    cation_radius_A: np.ndarray, doorway_radius: np.ndarray, shear_modulus_GPa: np.ndarray
) -> np.ndarray:
    """Strain term of Anderson & Stuart (1954): E_s = 4 pi G r_D (r - r_D)^2.

    The energy to dilate a doorway of radius r_D in a medium of shear modulus G to let an
    ion of radius r through (Frenkel's elastic cavity). 0 when the ion fits (r <= r_D);
    NaN without mobile ion, doorway or modulus. G in GPa, radii in Angstrom.
    """
    r = np.asarray(cation_radius_A, dtype=np.float64)
    r_d = np.asarray(doorway_radius, dtype=np.float64)
    G = np.asarray(shear_modulus_GPa, dtype=np.float64)
    strain = np.clip(r - r_d, 0.0, None)
    value = 4.0 * np.pi * np.clip(G, 0.0, None) * r_d * strain**2 * GPA_A3_TO_EV
    return np.where((r > 0) & np.isfinite(r_d) & np.isfinite(G), value, np.nan)


# --- assembly --------------------------------------------------------------------------------


def physics_features(
    atoms: pd.DataFrame,
    Tg_K: np.ndarray,
    fragility_m: np.ndarray,
    density_g_cm3: np.ndarray,
    shear_modulus_GPa: np.ndarray,
    chemistry: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All :data:`PHYSICS_FEATURES` of a table of atomic fractions.

    Args:
        atoms: atomic fractions, columns named by element symbol.
        Tg_K, fragility_m, density_g_cm3, shear_modulus_GPa: predicted properties, one
            per row of ``atoms``.
        chemistry: :class:`nce.featurize.glass_chemistry.GlassChemistry` output of
            ``atoms`` if already computed (mobile-ion fraction, radius, charge; anion
            shares and polarizability).
    """
    if chemistry is None:
        chemistry = GlassChemistry().transform(atoms)
    n = len(atoms)
    Tg = np.asarray(Tg_K, dtype=np.float64).reshape(n)
    m = np.asarray(fragility_m, dtype=np.float64).reshape(n)
    rho = np.asarray(density_g_cm3, dtype=np.float64).reshape(n)
    G = np.asarray(shear_modulus_GPa, dtype=np.float64).reshape(n)

    mass = mean_atomic_mass_amu(atoms)
    carriers = carrier_density_cm3(chemistry["mobile_ion_fraction"].to_numpy(), rho, mass)

    shares = {el: chemistry[f"anion_{el}_share"].to_numpy() for el in ANIONS}
    r_anion = sum(ANION_RADIUS_A[el] * s for el, s in shares.items())
    z_anion = sum(ANION_CHARGE_MAGNITUDE[el] * s for el, s in shares.items())
    anion_fraction = chemistry["network_anion_fraction"].to_numpy() + chemistry["halide_fraction"].to_numpy()
    N_anion = anion_number_density_A3(anion_fraction, rho, mass)
    eps = clausius_mossotti_dielectric(N_anion, chemistry["anion_polarizability_A3"].to_numpy())
    r_door = doorway_radius_A(r_anion, N_anion)
    r_ion = chemistry["mobile_ion_radius_A"].to_numpy()
    z_ion = chemistry["mobile_ion_charge"].to_numpy()
    no_anion = ~(anion_fraction > 0)

    out = {
        "Tg_K": Tg,
        "fragility_m": m,
        "density_g_cm3": rho,
        "shear_modulus_GPa": G,
        "log10_carrier_density_cm3": log10_carrier_density_cm3(carriers),
        "inv_Tg_m_1_per_K": inv_Tg_m(Tg, m),
        "anion_radius_A": np.where(no_anion, np.nan, r_anion),
        "doorway_radius_A": r_door,
        "dielectric_constant_est": np.where(no_anion, np.nan, eps),
        "as_coulomb_eV": anderson_stuart_coulomb_eV(r_ion, z_ion, r_anion, z_anion, eps),
        "as_strain_eV": np.where(z_ion > 0, anderson_stuart_strain_eV(r_ion, r_door, G), np.nan),
    }
    return pd.DataFrame(out, index=atoms.index)[list(PHYSICS_FEATURES)]
