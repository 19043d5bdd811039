"""Measurements in the dataset schema (a user's file or the literature table) as rows.

Columns: ``composition`` (required), ``route``, ``state``, ``heat_treatment_C`` (optional
processing), ``temperature_C`` with ``sigma_S_cm`` and/or ``Ea_eV``. Every row keeps its
observation as ``log10_sigma_T`` at ``temperature_C``. It also becomes a 25 degC target
``log10_sigma25`` when sigma was measured within 5 degC of 25 degC, or when the row's own
Ea moves it there along the Arrhenius line; a sigma measured elsewhere without Ea stays a
sigma(T) observation only (the processing model compares it with the model's own sigma at
that temperature; the glass model cannot use it). A row with neither sigma nor Ea is
reported, never silently dropped; a row that is wrong is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.arrhenius import log10_sigma_at
from nce.data.composition import parse_many
from nce.data.errors import NCEError
from nce.data.rows import DEFAULTS, check_rows, raise_first
from nce.data.schema import element_columns

NEAR_25C = 5.0
#: Checked by :mod:`nce.data.rows` (vocabularies and one range per quantity).
CHECKED = ("route", "state", "heat_treatment_C", "temperature_C", "sigma_S_cm", "Ea_eV")


class ExtraDataError(NCEError, ValueError):
    """The file or one of its rows cannot be used; the message names the row."""


@dataclass
class ExtraData:
    rows: pd.DataFrame  # one row per usable measurement, with element columns and targets
    skipped: list[str]  # one line per row that gave no observation, or only sigma(T), with the reason


def read_table_file(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ExtraDataError(f"file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # pandas raises many types for a broken file
        raise ExtraDataError(
            f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


def _text(raw: pd.Series, column: str) -> str:
    value = raw.get(column)
    return value.strip() if isinstance(value, str) else ""


def measurement_rows(frame: pd.DataFrame, where: str, source: str, keep: tuple[str, ...] = ()) -> ExtraData:
    """Validated observation rows of ``frame``; ``where`` names the file in messages.

    ``keep`` lists extra columns copied through (e.g. the literature's ``confidence``).
    The publication key ``KOD`` is ``source:citation`` when a ``citation`` column exists,
    else ``source:file:line``, so grouped cross-validation keeps a paper on one side.
    """
    if "composition" not in frame.columns:
        raise ExtraDataError(f"{where}: required column 'composition' is missing")
    if not {"sigma_S_cm", "Ea_eV"} & set(frame.columns):
        raise ExtraDataError(f"{where}: needs a 'sigma_S_cm' (with 'temperature_C') or an 'Ea_eV' column")
    parsed = parse_many([str(c) if pd.notna(c) else "" for c in frame["composition"]])
    checked = check_rows(frame, CHECKED)
    values = checked.values.reindex(columns=list(CHECKED))
    for column, default in DEFAULTS.items():
        values[column] = values[column].fillna(default)
    errors = []
    for comp, problem, (_, row) in zip(parsed, checked.errors, values.iterrows()):
        if isinstance(comp, Exception):
            problem = "; ".join(filter(None, (str(comp), problem)))
        elif not problem and np.isfinite(row["sigma_S_cm"]) and not np.isfinite(row["temperature_C"]):
            problem = "sigma_S_cm needs temperature_C"
        errors.append(problem)
    lines = range(2, len(frame) + 2)  # the header is line 1
    raise_first(errors, lines, where, ExtraDataError)
    rows, skipped = [], []
    for i, (comp, line) in enumerate(zip(parsed, lines)):
        raw, v = frame.iloc[i], values.iloc[i]
        sigma, T, ea, ht = (float(v[c]) for c in ("sigma_S_cm", "temperature_C", "Ea_eV", "heat_treatment_C"))
        log10_sigma_T = float(np.log10(sigma)) if np.isfinite(sigma) else np.nan
        log10_sigma25 = np.nan
        if np.isfinite(sigma):
            if abs(T - 25.0) <= NEAR_25C:
                log10_sigma25 = log10_sigma_T
            elif np.isfinite(ea):
                log10_sigma25 = float(log10_sigma_T - log10_sigma_at(0.0, ea, T))  # back along the line
            else:
                skipped.append(
                    f"row {line}: sigma at {T:g} degC without Ea is kept as a sigma(T) "
                    "observation, not a 25 degC target"
                )
        elif not np.isfinite(ea):
            skipped.append(f"row {line}: no usable sigma or Ea")
            continue
        citation = _text(raw, "citation")
        rows.append(
            {
                "KOD": f"{source}:{citation}" if citation else f"{source}:{Path(where).name}:{line}",
                "GLASNO": line,
                "first_author": citation.split(" ")[0] if citation else "",
                "year": np.nan,
                "composition": comp.normalized,
                "source": source,
                "route": v["route"],
                "state": v["state"],
                "heat_treatment_C": ht,
                "temperature_C": T if np.isfinite(sigma) else np.nan,
                "log10_sigma_T": log10_sigma_T,
                "log10_sigma25": log10_sigma25,
                "sigma25_source": "interpolated" if np.isfinite(log10_sigma25) else "",
                "Ea_eV": ea,
                **{k: raw.get(k) for k in keep},
                **comp.atoms,
            }
        )
    out = pd.DataFrame(rows)
    elements = element_columns(out)
    out[elements] = out[elements].fillna(0.0)
    return ExtraData(out, skipped)


def load_extra(path: Path, source: str = "user") -> ExtraData:
    """A user's measurement file (CSV or Parquet) as validated rows."""
    return measurement_rows(read_table_file(path), str(path), source)
