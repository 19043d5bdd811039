"""Processing descriptors: synthesis route, solid state and heat treatment.

Values are read and checked by the one row validator, :mod:`nce.data.rows`: vocabularies
``ROUTES``/``STATES`` of :mod:`nce.data.schema`, case-insensitive with spaces and hyphens as
underscores (``"Melt-quench"`` -> ``melt_quench``); a missing route or state (absent column,
NaN, empty text) means the SciGlass default, a melt-quenched glass; ``heat_treatment_C``
within ``nce.data.rows.RANGES``. Anything else is an error naming the row.

Columns: ``route_<r>`` and ``state_<s>`` one-hots (0/1), ``heat_treatment_C`` (°C, NaN when
none) and ``heat_treatment_over_Tg`` = (heat_treatment_C + 273.15) / Tg_K, the annealing or
crystallization temperature as a fraction of the glass transition (NaN without a heat
treatment or Tg).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.rows import DEFAULTS, RowError, number_column, raise_first, row_label, word_column
from nce.data.schema import ROUTES, STATES

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


class ProcessingError(RowError):
    """A processing value outside the vocabulary or its range; names the row."""


def vocabulary_column(
    frame: pd.DataFrame, column: str, vocabulary: tuple[str, ...] | None = None, default: str | None = None
) -> np.ndarray:
    """Canonical values of ``frame[column]`` (``default`` where missing or absent); the
    vocabulary and default are those of :mod:`nce.data.rows` unless given.

    Raises:
        ProcessingError: a value outside ``vocabulary``; the message names the row index.
    """
    default = DEFAULTS[column] if default is None else default
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    words, errors = word_column(frame[column], column, vocabulary, default)
    raise_first(errors, [row_label(i) for i in frame.index], error=ProcessingError)
    return words


def heat_treatment_column(frame: pd.DataFrame, column: str = "heat_treatment_C") -> np.ndarray:
    """Heat-treatment temperature in °C, NaN where none.

    Raises:
        ProcessingError: a value that is not a number or outside its range; names the row.
    """
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values, errors = number_column(frame[column], "heat_treatment_C")
    raise_first(errors, [row_label(i) for i in frame.index], error=ProcessingError)
    return values


def processing_features(frame: pd.DataFrame, Tg_K: np.ndarray | None = None) -> pd.DataFrame:
    """One-hot route and state, heat-treatment temperature and its ratio to Tg.

    Args:
        frame: table with optional ``route``, ``state`` and ``heat_treatment_C`` columns.
        Tg_K: glass transition temperature per row (K), for ``heat_treatment_over_Tg``.

    Raises:
        ProcessingError: unknown route or state, or a bad heat-treatment value; the
            message names the row index and the value.
    """
    route = vocabulary_column(frame, "route")
    state = vocabulary_column(frame, "state")
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
