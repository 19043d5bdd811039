"""Processing descriptors: synthesis route, solid state and heat treatment.

Vocabularies are those of :mod:`nce.data.schema` (``ROUTES``, ``STATES``). A missing route or
state (absent column, NaN, empty text) means the SciGlass default, a melt-quenched glass.
Text is read case-insensitively with spaces and hyphens taken as underscores
(``"Melt-quench"`` -> ``melt_quench``); anything else outside the vocabulary is an error
naming the row.

Columns: ``route_<r>`` and ``state_<s>`` one-hots (0/1), ``heat_treatment_C`` (°C, NaN when
none) and ``heat_treatment_over_Tg`` = (heat_treatment_C + 273.15) / Tg_K, the annealing or
crystallization temperature as a fraction of the glass transition (NaN without a heat
treatment or Tg).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES

__all__ = [
    "PROCESSING_FEATURES",
    "ProcessingError",
    "heat_treatment_column",
    "processing_features",
    "row_label",
    "vocabulary_column",
]

#: Output columns of :func:`processing_features`, in order.
PROCESSING_FEATURES: tuple[str, ...] = (
    *(f"route_{r}" for r in ROUTES),
    *(f"state_{s}" for s in STATES),
    "heat_treatment_C",
    "heat_treatment_over_Tg",
)

ABSOLUTE_ZERO_C = -273.15


class ProcessingError(ValueError):
    """A processing value outside the vocabulary or not a temperature; names the row."""


def row_label(label) -> str:
    """repr of an index label without numpy's type wrapper (``7``, not ``np.int64(7)``)."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def _missing(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip()
    return (values.isna() | (text == "")).to_numpy(dtype=bool)


def vocabulary_column(
    frame: pd.DataFrame, column: str, vocabulary: tuple[str, ...], default: str
) -> np.ndarray:
    """Validated values of ``frame[column]`` (``default`` where missing or absent).

    Raises:
        ProcessingError: a value outside ``vocabulary``; the message names the row index.
    """
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    raw = frame[column]
    missing = _missing(raw)
    norm = (
        raw.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    )
    norm = norm.where(~missing, default).astype(object).to_numpy()
    bad = ~np.isin(norm, np.asarray(vocabulary, dtype=object))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProcessingError(
            f"row {row_label(frame.index[i])}: unknown {column} {raw.iloc[i]!r}; "
            f"choose from {', '.join(vocabulary)} ({int(bad.sum())} row(s) affected)"
        )
    return norm


def heat_treatment_column(frame: pd.DataFrame, column: str = "heat_treatment_C") -> np.ndarray:
    """Heat-treatment temperature in °C, NaN where none.

    Raises:
        ProcessingError: a value that is not a number, or below absolute zero.
    """
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    missing = _missing(raw)
    bad = (~missing & ~np.isfinite(values)) | (np.isfinite(values) & (values < ABSOLUTE_ZERO_C))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProcessingError(
            f"row {row_label(frame.index[i])}: {column} {raw.iloc[i]!r} is not a temperature "
            f"in °C (a number above {ABSOLUTE_ZERO_C}); leave it empty for no heat treatment"
        )
    return np.where(missing, np.nan, values)


def processing_features(frame: pd.DataFrame, Tg_K: np.ndarray | None = None) -> pd.DataFrame:
    """One-hot route and state, heat-treatment temperature and its ratio to Tg.

    Args:
        frame: table with optional ``route``, ``state`` and ``heat_treatment_C`` columns.
        Tg_K: glass transition temperature per row (K), for ``heat_treatment_over_Tg``.

    Raises:
        ProcessingError: unknown route or state, or a bad heat-treatment value; the
            message names the row index and the value.
    """
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    heat = heat_treatment_column(frame)
    out: dict[str, np.ndarray] = {}
    for r in ROUTES:
        out[f"route_{r}"] = (route == r).astype(np.float64)
    for s in STATES:
        out[f"state_{s}"] = (state == s).astype(np.float64)
    out["heat_treatment_C"] = heat
    if Tg_K is None:
        ratio = np.full(len(frame), np.nan)
    else:
        Tg = np.asarray(Tg_K, dtype=np.float64).reshape(len(frame))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(Tg > 0, (heat - ABSOLUTE_ZERO_C) / np.where(Tg > 0, Tg, 1.0), np.nan)
    out["heat_treatment_over_Tg"] = ratio
    return pd.DataFrame(out, index=frame.index)[list(PROCESSING_FEATURES)]
