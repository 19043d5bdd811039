"""MYEGA viscosity model and per-glass fits of Tg and fragility.

Mauro, Yue, Ellison, Gupta, Allan (2009) PNAS 106, 19780:
log10 eta = log10 eta_inf + (12 - log10 eta_inf) (Tg/T) exp[(m / (12 - log10 eta_inf) - 1)(Tg/T - 1)],
with eta in Pa s and log10 eta_inf = -2.97 (Zheng et al. 2011, J. Chem. Phys. 135, 244508).
Tg is the temperature of eta = 10^12 Pa s; m is the fragility index.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

LOG10_ETA_INF_PA_S = -2.97
M_MIN = 12.0 - LOG10_ETA_INF_PA_S  # the strong limit of MYEGA


def myega_log10_viscosity(T_K, Tg_K, m):
    """log10(viscosity / Pa s) at T from Tg and fragility m."""
    span = 12.0 - LOG10_ETA_INF_PA_S
    ratio = np.asarray(Tg_K, dtype=float) / np.asarray(T_K, dtype=float)
    return LOG10_ETA_INF_PA_S + span * ratio * np.exp((np.asarray(m) / span - 1.0) * (ratio - 1.0))


def fit_myega(T_K: np.ndarray, log10_eta_Pa_s: np.ndarray) -> tuple[float, float, float]:
    """Fit Tg (K) and m to one glass's viscosity points; returns (Tg_K, m, rmse_decades).

    Needs at least three points; m is bounded to [M_MIN, 200], Tg to [100, 2500] K.
    """
    T = np.asarray(T_K, dtype=float)
    y = np.asarray(log10_eta_Pa_s, dtype=float)
    if T.size < 3:
        raise ValueError("MYEGA fit needs at least three viscosity points")
    # start: Tg from the point nearest 10^12 Pa s by a strong-liquid scaling
    i = int(np.argmin(np.abs(y - 12.0)))
    Tg0 = float(np.clip(T[i] * (1.0 + (y[i] - 12.0) / 60.0), 150.0, 2400.0))

    def residual(p):
        return myega_log10_viscosity(T, p[0], p[1]) - y

    # tolerances far below the data precision: the result is the optimum, not the solver's path to it,
    # so the shipped table rebuilds bit for bit across SciPy releases
    fit = least_squares(
        residual,
        x0=[Tg0, 40.0],
        bounds=([100.0, M_MIN + 1e-6], [2500.0, 200.0]),
        method="trf",
        ftol=1e-14,
        xtol=1e-14,
        gtol=1e-14,
    )
    rmse = float(np.sqrt(np.mean(fit.fun**2)))
    return float(fit.x[0]), float(fit.x[1]), rmse
