"""Arrhenius relations between conductivity, temperature and activation energy.

sigma(T) = sigma_0 exp(-Ea / (k_B T)), so log10 sigma is linear in 1/T with slope
-Ea / (ln(10) k_B). NCE reports log10 sigma at 25 degC and Ea; sigma at any other
temperature follows from the two (docs/design.md, "Targets").
"""

from __future__ import annotations

import numpy as np

K_B_EV_PER_K = 8.617333262e-5
LN10 = np.log(10.0)
T_REFERENCE_K = 298.15
ZERO_C_IN_K = 273.15


def log10_sigma_at(log10_sigma25_S_cm, Ea_eV, temperature_C):
    """log10 sigma(T) from log10 sigma(25 degC) and Ea (vectorized)."""
    T_K = np.asarray(temperature_C, dtype=float) + ZERO_C_IN_K
    return np.asarray(log10_sigma25_S_cm, dtype=float) - np.asarray(Ea_eV, dtype=float) / (LN10 * K_B_EV_PER_K) * (
        1.0 / T_K - 1.0 / T_REFERENCE_K
    )


def fit_arrhenius(temperature_C: np.ndarray, log10_sigma_S_cm: np.ndarray) -> dict[str, np.ndarray]:
    """Least-squares Arrhenius lines, one per row, ignoring NaN points.

    ``temperature_C`` and ``log10_sigma_S_cm`` are (n_rows, n_points) arrays. Returns
    arrays ``log10_sigma25`` and ``Ea_eV`` (NaN where fewer than two distinct
    temperatures), ``n_points``, ``T_min_C``, ``T_max_C`` and ``source``:
    ``interpolated`` when 25 degC lies within the points' range, ``extrapolated``
    otherwise, ``from_20C`` for a single 20 degC point (taken unshifted) and ``""``
    where nothing can be derived.
    """
    T_C = np.asarray(temperature_C, dtype=float)
    y = np.asarray(log10_sigma_S_cm, dtype=float)
    valid = np.isfinite(T_C) & np.isfinite(y)
    n = valid.sum(axis=1)
    x = np.where(valid, 1.0 / (T_C + ZERO_C_IN_K), 0.0)
    yv = np.where(valid, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = x.sum(axis=1) / n
        y_mean = yv.sum(axis=1) / n
        dx = np.where(valid, x - x_mean[:, None], 0.0)
        sxx = (dx**2).sum(axis=1)
        sxy = (dx * (yv - y_mean[:, None])).sum(axis=1)
        slope = np.where(sxx > 1e-14, sxy / sxx, np.nan)
        log10_sigma25 = y_mean + slope * (1.0 / T_REFERENCE_K - x_mean)
        T_min = np.where(valid, T_C, np.inf).min(axis=1)
        T_max = np.where(valid, T_C, -np.inf).max(axis=1)
    Ea = -LN10 * K_B_EV_PER_K * slope
    at_20C = valid & np.isclose(T_C, 20.0)
    single_20C = (n == 1) & at_20C.any(axis=1)
    y_20C = np.fmax.reduce(np.where(at_20C, y, np.nan), axis=1)
    fitted = np.isfinite(slope)
    log10_sigma25 = np.where(fitted, log10_sigma25, np.where(single_20C, y_20C, np.nan))
    inside = (T_min <= 25.0) & (T_max >= 25.0)
    source = np.where(fitted, np.where(inside, "interpolated", "extrapolated"), np.where(single_20C, "from_20C", ""))
    return {
        "log10_sigma25": log10_sigma25,
        "Ea_eV": np.where(fitted, Ea, np.nan),
        "n_points": n,
        "T_min_C": np.where(n > 0, T_min, np.nan),
        "T_max_C": np.where(n > 0, T_max, np.nan),
        "source": source,
    }
