"""A user's own measurements in the dataset schema, turned into training rows.

Columns: ``composition`` (required), ``route``, ``state``, ``heat_treatment_C`` (optional
processing), ``temperature_C`` with ``sigma_S_cm`` and/or ``Ea_eV``. Sigma measured within
5 degC of 25 degC is taken as sigma25; away from it the row's own Ea shifts it along the
Arrhenius line. A row that cannot become a target is reported, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.arrhenius import log10_sigma_at
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.composition import parse_many

NEAR_25C = 5.0


class ExtraDataError(ValueError):
    """The file or one of its rows cannot be used; the message names the row."""


@dataclass
class ExtraData:
    rows: pd.DataFrame  # training rows with element columns and targets
    skipped: list[str]  # one line per row that gave no target, with the reason


def read_table_file(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ExtraDataError(f"file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # pandas raises many types for a broken file
        raise ExtraDataError(f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def load_extra(path: Path, source: str = "user") -> ExtraData:
    frame = read_table_file(path)
    if "composition" not in frame.columns:
        raise ExtraDataError(f"{path}: required column 'composition' is missing")
    if not {"sigma_S_cm", "Ea_eV"} & set(frame.columns):
        raise ExtraDataError(f"{path}: needs a 'sigma_S_cm' (with 'temperature_C') or an 'Ea_eV' column")
    parsed = parse_many(frame["composition"].tolist())
    rows, skipped = [], []
    for i, comp in enumerate(parsed):
        line = i + 2  # header is line 1
        raw = frame.iloc[i]
        if isinstance(comp, Exception):
            raise ExtraDataError(f"{path} row {line}: {comp}")
        route = raw.get("route") if isinstance(raw.get("route"), str) and raw.get("route") else DEFAULT_ROUTE
        state = raw.get("state") if isinstance(raw.get("state"), str) and raw.get("state") else DEFAULT_STATE
        if route not in ROUTES:
            raise ExtraDataError(f"{path} row {line}: unknown route {route!r} (one of {', '.join(ROUTES)})")
        if state not in STATES:
            raise ExtraDataError(f"{path} row {line}: unknown state {state!r} (one of {', '.join(STATES)})")
        sigma = pd.to_numeric(raw.get("sigma_S_cm"), errors="coerce")
        T = pd.to_numeric(raw.get("temperature_C"), errors="coerce")
        ea = pd.to_numeric(raw.get("Ea_eV"), errors="coerce")
        ht = pd.to_numeric(raw.get("heat_treatment_C"), errors="coerce")
        if np.isfinite(sigma) and sigma <= 0:
            raise ExtraDataError(f"{path} row {line}: sigma_S_cm must be positive, got {sigma}")
        if np.isfinite(ea) and not 0 < ea <= 3:
            raise ExtraDataError(f"{path} row {line}: Ea_eV {ea} outside (0, 3] eV")
        if np.isfinite(T) and T <= -273.15:
            raise ExtraDataError(f"{path} row {line}: temperature_C {T} is below absolute zero")
        log10_sigma25 = np.nan
        if np.isfinite(sigma):
            if not np.isfinite(T):
                raise ExtraDataError(f"{path} row {line}: sigma_S_cm needs temperature_C")
            if abs(T - 25.0) <= NEAR_25C:
                log10_sigma25 = float(np.log10(sigma))
            elif np.isfinite(ea):
                log10_sigma25 = float(np.log10(sigma) - log10_sigma_at(0.0, ea, T))  # back along the line
            else:
                skipped.append(f"row {line}: sigma at {T:g} degC without Ea cannot be moved to 25 degC")
        if not np.isfinite(log10_sigma25) and not np.isfinite(ea):
            if not skipped or not skipped[-1].startswith(f"row {line}:"):
                skipped.append(f"row {line}: no usable sigma or Ea")
            continue
        rows.append({
            "KOD": f"{source}:{Path(path).name}:{raw.get('citation', line) if isinstance(raw.get('citation'), str) else line}",
            "GLASNO": line, "first_author": "", "year": np.nan, "composition": comp.normalized,
            "source": source, "route": route, "state": state, "heat_treatment_C": ht,
            "log10_sigma25": log10_sigma25, "sigma25_source": "interpolated" if np.isfinite(log10_sigma25) else "",
            "Ea_eV": ea if np.isfinite(ea) else np.nan, **comp.atoms,
        })
    out = pd.DataFrame(rows)
    return ExtraData(out, skipped)
