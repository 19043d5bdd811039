"""Curation rules for the SciGlass conductivity data, each a small function with a reason.

Every rule returns a boolean mask over rows; the build records how many rows each rule
touched, and the dataset card lists them (data/DATASET.md). The facts behind the rules
are measured traps of the SciGlass files (docs/design.md, "Data facts").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.rows import RANGES
from nce.data.schema import HALIDES, MOBILE_IONS, NETWORK_ANIONS

#: Resistivity columns whose values are log10(rho / ohm cm).
RO_COLUMNS = ("RO20", "RO100", "RO150", "RO300")
RO_TEMPERATURES_C = (20.0, 100.0, 150.0, 300.0)

#: log10 sigma (S/cm) at TK100C, the temperature where the resistivity is 1e8 Ohm cm
LOG10_SIGMA_AT_TK100C = -8.0
#: a glass measured as a solid, below any melt: the one temperature range of nce.data.rows
TK100C_RANGE_C = (RANGES["temperature_C"].low, RANGES["temperature_C"].high)
LOG10_SIGMA25_RANGE = (-20.0, 0.0)  # S/cm; above 1 S/cm no ionic glass conducts
EA_RANGE_EV = (RANGES["Ea_eV"].low, RANGES["Ea_eV"].high)  # exclusive lower bound (nce.data.rows)
FAST_ION_LOG10_SIGMA25 = -1.5  # above this at 25 degC a glass is suspect (unit/sign errors)
#: A publication's value this far (decades) from the median of >= 2 other publications'
#: values for the same composition is a unit or transcription error, not lab scatter (the
#: inter-laboratory median is 0.36 decades): e.g. Zhang 1989 and Kennedy 1991 on Li2S-P2S5.
OTHER_LABS_MAX_DEVIATION_DECADES = 2.5
OTHER_LABS_MIN_PUBLICATIONS = 3

TG_RANGE_K = (100.0, 2000.0)
DENSITY_RANGE_G_CM3 = (1.0, 12.0)
SHEAR_MODULUS_RANGE_GPA = (1.0, 150.0)

#: Transition metals whose mixed valence gives polaron (electronic) hopping in oxides.
HOPPING_METALS = ("V", "Fe", "Mo", "W", "Mn", "Co", "Ni", "Cr")
TM_RICH_CATION_SHARE = 0.20
VANADATE_CATION_SHARE = 0.10


def _col(atoms: pd.DataFrame, element: str) -> np.ndarray:
    return atoms[element].to_numpy(dtype=float) if element in atoms else np.zeros(len(atoms))


def _sum(atoms: pd.DataFrame, elements) -> np.ndarray:
    return sum((_col(atoms, e) for e in elements), np.zeros(len(atoms)))


def cation_share(atoms: pd.DataFrame, elements) -> np.ndarray:
    """Share of the listed elements among all non-anion atoms."""
    anions = _sum(atoms, NETWORK_ANIONS + HALIDES)
    cations = 1.0 - anions
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cations > 0, _sum(atoms, elements) / cations, 0.0)


def has_mobile_ion(atoms: pd.DataFrame) -> np.ndarray:
    return _sum(atoms, MOBILE_IONS) > 0


def sign_flipped_resistivity(ro: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose stored 'resistivity' is really log10 sigma, and rows negative beyond repair.

    A negative log10 rho means sigma above 1 S/cm. When a row has two or more such values
    and they *rise* with temperature, log10 sigma was stored in place of log10 rho
    (517 rows in 83 publications carry RO < 0): the sign is flipped. A negative value that
    falls with temperature, or stands alone, cannot be told apart from a unit error.
    """
    values = ro[list(RO_COLUMNS)].to_numpy(dtype=float)
    negative = np.nanmin(np.where(np.isnan(values), np.inf, values), axis=1) < 0
    n = np.isfinite(values).sum(axis=1)
    first = np.array([row[np.isfinite(row)][0] if k else np.nan for row, k in zip(values, n)])
    last = np.array([row[np.isfinite(row)][-1] if k else np.nan for row, k in zip(values, n)])
    rising = (n >= 2) & (last > first)
    return negative & rising, negative & ~rising


def electronic_conductor_reason(atoms: pd.DataFrame) -> np.ndarray:
    """Reason a glass likely conducts electronically ('' when none applies).

    Resistivity does not separate ionic from electronic transport. Polaron hopping
    between mixed-valence transition-metal ions (Mott 1968, J. Non-Cryst. Solids 1, 1)
    dominates in vanadate and Fe/Mo/W-rich oxide glasses, Cu-As-Se/Te chalcogenides are
    semiconductors, and Bi-Sr-Ca-Cu-O glasses are cuprate precursors.
    """
    halide = _sum(atoms, HALIDES) > 0
    oxygen = _col(atoms, "O") > 0
    cu = _col(atoms, "Cu") > 0
    reason = np.full(len(atoms), "", dtype=object)
    cu_chalcogenide = cu & ~oxygen & ~halide & (_sum(atoms, ("As", "Se", "Te")) > 0)
    cuprate = cu & oxygen & (_col(atoms, "Bi") > 0) & (_sum(atoms, ("Sr", "Ca", "Ba")) > 0)
    vanadate = cation_share(atoms, ("V",)) >= VANADATE_CATION_SHARE
    # Cu counts as a hopping metal only where no halide makes it a Cu(I) conductor (CuI glasses)
    tm_share = np.where(halide, cation_share(atoms, HOPPING_METALS), cation_share(atoms, HOPPING_METALS + ("Cu",)))
    mobile_share = cation_share(atoms, tuple(m for m in MOBILE_IONS if m != "Cu"))
    tm_rich = oxygen & (tm_share >= TM_RICH_CATION_SHARE) & (mobile_share < tm_share)
    for mask, why in (
        (tm_rich, "transition-metal-rich oxide"),
        (vanadate, "vanadate"),
        (cuprate, "cuprate"),
        (cu_chalcogenide, "Cu chalcogenide"),
    ):
        reason[mask] = why
    return reason


def anion_family(atoms: pd.DataFrame, min_share: float = 0.05) -> np.ndarray:
    """oxide, sulfide, chalcogenide (Se/Te), halide or mixed, from anion shares >= 5 %."""
    anions = NETWORK_ANIONS + HALIDES
    total = _sum(atoms, anions)
    present = {a: (_col(atoms, a) >= min_share * total) & (total > 0) for a in anions}
    n_present = sum(present[a].astype(int) for a in anions)
    halide_only = ~np.any([present[a] for a in NETWORK_ANIONS], axis=0) & (n_present > 0)
    family = np.full(len(atoms), "mixed", dtype=object)
    family[(n_present == 1) & present["O"]] = "oxide"
    family[(n_present == 1) & present["S"]] = "sulfide"
    family[(n_present >= 1) & ~present["O"] & ~present["S"] & ~present["N"] & ~halide_only] = "chalcogenide"
    family[halide_only] = "halide"
    family[total == 0] = "none"
    return family


def dominant_mobile_ion(atoms: pd.DataFrame) -> np.ndarray:
    values = np.column_stack([_col(atoms, m) for m in MOBILE_IONS])
    out = np.array(MOBILE_IONS, dtype=object)[values.argmax(axis=1)]
    out[values.max(axis=1) <= 0] = ""
    return out


def disagrees_with_other_labs(frame: pd.DataFrame, target: str = "log10_sigma25") -> np.ndarray:
    """Rows whose publication's mean value for a composition lies more than
    :data:`OTHER_LABS_MAX_DEVIATION_DECADES` from the median of the other publications'
    means, where at least :data:`OTHER_LABS_MIN_PUBLICATIONS` publications measured it
    (compositions keyed as in the noise floor: atomic fractions rounded to 0.005)."""
    from nce.data.noise_floor import composition_key

    data = pd.DataFrame(
        {
            "key": composition_key(frame).to_numpy(),
            "KOD": frame["KOD"].to_numpy(),
            "value": frame[target].to_numpy(dtype=float),
        }
    )
    per_pub = data.dropna(subset=["value"]).groupby(["key", "KOD"], sort=True)["value"].mean().reset_index()
    per_pub = per_pub[per_pub.groupby("key")["KOD"].transform("size") >= OTHER_LABS_MIN_PUBLICATIONS]
    deviation = []
    for _, group in per_pub.groupby("key", sort=False):
        values = group["value"].to_numpy()
        deviation.extend(values[i] - np.median(np.delete(values, i)) for i in range(len(values)))
    per_pub["deviation"] = deviation
    bad = per_pub[np.abs(per_pub["deviation"]) > OTHER_LABS_MAX_DEVIATION_DECADES]
    flagged = set(zip(bad["key"], bad["KOD"]))
    return np.array([(k, kod) in flagged for k, kod in zip(data["key"], data["KOD"])], dtype=bool)
