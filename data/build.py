"""``nce data build``: SciGlass wheel -> the curated tables in ``data/processed``.

Every table and the manifest are first written whole to temporary files beside them, and
only then renamed over the shipped files (manifest last; :func:`nce.data.files.atomic_paths`),
so a build interrupted while writing leaves the shipped files intact; its stale temporary
files are removed by the next build. ``MANIFEST.json`` records the content hash of every
table and the count of every curation rule; ``--check`` rebuilds in memory and compares hashes.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data import curation as cur
from nce.data import sciglass
from nce.data.arrhenius import fit_arrhenius
from nce.data.files import atomic_paths
from nce.data.myega import M_MIN, fit_myega
from nce.data.schema import (
    DEFAULT_ROUTE,
    DEFAULT_STATE,
    PROCESSED_DIR,
    TABLES,
    content_hash,
    element_columns,
    gzip_bytes,
    table_path,
    to_csv_bytes,
)

Progress = Callable[[str], None]


@dataclass
class CurationLog:
    """Counts of rows each rule touched, per table, in the order the rules ran."""

    rules: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, table: str, rule: str, count: int) -> None:
        self.rules.setdefault(table, []).append((rule, int(count)))


def _components_text(components: dict[str, float]) -> str:
    return "-".join(f"{v:.4g}{k}" for k, v in components.items())


def _atoms_text(row: np.ndarray, elements: list[str]) -> str:
    return "".join(f"{e}{v:.4g}" for e, v in zip(elements, row) if v > 0)


def _provenance(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "KOD": frame["KOD"].astype(int),
            "GLASNO": frame["GLASNO"].astype(int),
            "first_author": frame["Author"].fillna("").astype(str).str.strip(),
            "year": pd.to_numeric(frame["Year"], errors="coerce").astype("Int64"),
        },
        index=frame.index,
    )


def load_sources(wheel: Path, log: CurationLog, progress: Progress) -> pd.DataFrame:
    """SciGK joined with atomic fractions and components, duplicate keys resolved."""
    progress("reading SciGK")
    scigk = sciglass.read_scigk(wheel)
    progress("reading AtMol")
    atmol = sciglass.read_atmol(wheel)
    progress("reading Gcomp")
    gcomp = sciglass.read_gcomp(wheel)

    key_counts = scigk.groupby(sciglass.KEY)["KOD"].transform("size")
    duplicated = scigk[key_counts > 1]
    value_cols = [c for c in scigk.columns if c not in ("Author", "Year")]
    identical = duplicated.groupby(sciglass.KEY)[value_cols].nunique(dropna=False).le(1).all(axis=1)
    conflicting_keys = identical.index[~identical.to_numpy()]
    conflicting = scigk.set_index(sciglass.KEY).index.isin(conflicting_keys)
    log.add(
        "all",
        f"rows sharing a (KOD, GLASNO) key: {len(duplicated)} rows, {duplicated.groupby(sciglass.KEY).ngroups} keys",
        len(duplicated),
    )
    log.add("all", "dropped: duplicate keys whose property values disagree (composition ambiguous)", conflicting.sum())
    scigk = scigk[~conflicting].drop_duplicates(subset=sciglass.KEY, keep="first")
    log.add(
        "all",
        "dropped: exact repeats of a duplicate key (one copy kept)",
        len(duplicated) - conflicting.sum() - (len(identical) - len(conflicting_keys)),
    )

    fractions = sciglass.atomic_fractions(atmol)
    zero = fractions.isna().all(axis=1)
    log.add("all", "AtMol rows with every atomic % zero (no usable composition)", zero.sum())
    atoms = pd.concat([atmol[sciglass.KEY], fractions], axis=1)[~zero.to_numpy()]
    merged = scigk.merge(atoms, on=sciglass.KEY, how="inner").merge(gcomp, on=sciglass.KEY, how="left")
    log.add("all", "SciGK rows without a usable atomic composition (dropped)", len(scigk) - len(merged))
    return merged.reset_index(drop=True)


def _composition_columns(frame: pd.DataFrame, elements: list[str]) -> pd.DataFrame:
    values = frame[elements].to_numpy(dtype=float)
    comps = frame["components"]
    text = [
        _components_text(c) if isinstance(c, dict) and c else _atoms_text(v, elements) for c, v in zip(comps, values)
    ]
    return pd.DataFrame({"composition": text}, index=frame.index)


def _present_elements(frame: pd.DataFrame, elements: list[str]) -> list[str]:
    return [e for e in elements if (frame[e] > 0).any()]


def build_conductivity(src: pd.DataFrame, elements: list[str], log: CurationLog) -> pd.DataFrame:
    points = list(cur.RO_COLUMNS) + ["TK100C"]
    frame = src[src[points].notna().any(axis=1)].copy()
    log.add("conductivity", "SciGK rows with a stored resistivity point", len(frame))
    atoms = frame[elements]
    mobile = cur.has_mobile_ion(atoms)
    log.add("conductivity", "dropped: no mobile cation (Li, Na, K, Rb, Cs, Ag, Cu, H)", (~mobile).sum())
    frame = frame[mobile].copy()

    flipped, hopeless = cur.sign_flipped_resistivity(frame)
    ro = frame[list(cur.RO_COLUMNS)].to_numpy(dtype=float)
    ro[flipped] = -ro[flipped]
    log.add(
        "conductivity",
        "corrected: log10 sigma stored as log10 rho (negative, rising with T) - sign flipped",
        flipped.sum(),
    )
    log.add(
        "conductivity", "dropped: negative log10 rho not rising with T (sigma > 1 S/cm or unit error)", hopeless.sum()
    )
    tk = frame["TK100C"].to_numpy(dtype=float)
    tk_out = np.isfinite(tk) & ((tk < cur.TK100C_RANGE_C[0]) | (tk > cur.TK100C_RANGE_C[1]))
    tk_drop = tk_out | flipped  # a flipped row's TK100C came from the wrong-sign line
    log.add("conductivity", f"TK100C point ignored: outside {cur.TK100C_RANGE_C} degC", tk_out.sum())
    tk = np.where(tk_drop, np.nan, tk)

    log10_sigma = -ro
    temps = np.tile(np.array(cur.RO_TEMPERATURES_C), (len(frame), 1))
    temps = np.where(np.isfinite(log10_sigma), temps, np.nan)
    T_all = np.column_stack([temps, tk])
    y_all = np.column_stack([log10_sigma, np.where(np.isfinite(tk), cur.LOG10_SIGMA_AT_TK100C, np.nan)])
    fit = fit_arrhenius(T_all, y_all)

    out = pd.concat([_provenance(frame), _composition_columns(frame, elements)], axis=1)
    out["source"] = "sciglass"
    out["route"] = DEFAULT_ROUTE
    out["state"] = DEFAULT_STATE
    out["heat_treatment_C"] = np.nan
    for col, T in zip(cur.RO_COLUMNS, cur.RO_TEMPERATURES_C):
        out[f"log10_sigma_{int(T)}C"] = log10_sigma[:, cur.RO_COLUMNS.index(col)]
    out["TK100C_C"] = tk
    out["log10_sigma25"] = fit["log10_sigma25"]
    out["sigma25_source"] = fit["source"]
    out["Ea_eV"] = fit["Ea_eV"]
    out["n_points"] = fit["n_points"]
    out["T_min_C"] = fit["T_min_C"]
    out["T_max_C"] = fit["T_max_C"]
    out["Tg_K"] = frame["TG"].to_numpy(dtype=float) + 273.15
    out["mobile_ion"] = cur.dominant_mobile_ion(atoms.loc[frame.index])
    out["anion_family"] = cur.anion_family(frame[elements])
    out["has_Li2S"] = [isinstance(c, dict) and "Li2S" in c for c in frame["components"]]
    out = out[~hopeless]
    frame_atoms = frame.loc[out.index, elements]

    no_target = out["log10_sigma25"].isna()
    log.add("conductivity", "dropped: no derivable sigma25 (a single point away from 20 degC)", no_target.sum())
    out, frame_atoms = out[~no_target], frame_atoms[~no_target]
    lo, hi = cur.LOG10_SIGMA25_RANGE
    bad_sigma = (out["log10_sigma25"] > hi) | (out["log10_sigma25"] < lo)
    log.add("conductivity", f"dropped: log10 sigma25 outside [{lo}, {hi}] (physically impossible)", bad_sigma.sum())
    out, frame_atoms = out[~bad_sigma], frame_atoms[~bad_sigma]
    bad_ea = out["Ea_eV"].notna() & ((out["Ea_eV"] <= cur.EA_RANGE_EV[0]) | (out["Ea_eV"] > cur.EA_RANGE_EV[1]))
    extrapolated_bad = bad_ea & (out["sigma25_source"] == "extrapolated")
    log.add("conductivity", f"Ea removed: Ea <= {cur.EA_RANGE_EV[0]} or > {cur.EA_RANGE_EV[1]} eV", bad_ea.sum())
    log.add("conductivity", "dropped: sigma25 extrapolated along such an impossible Ea", extrapolated_bad.sum())
    out.loc[bad_ea, "Ea_eV"] = np.nan
    out, frame_atoms = out[~extrapolated_bad], frame_atoms[~extrapolated_bad]

    reason = cur.electronic_conductor_reason(frame_atoms)
    for why in sorted(set(reason) - {""}):
        log.add("conductivity", f"excluded (likely electronic conduction): {why}", (reason == why).sum())
    keep = reason == ""
    out, frame_atoms = out[keep], frame_atoms[keep]

    out["suspect_fast_ion"] = out["log10_sigma25"] > cur.FAST_ION_LOG10_SIGMA25
    log.add(
        "conductivity",
        f"flagged suspect_fast_ion: log10 sigma25 > {cur.FAST_ION_LOG10_SIGMA25} (kept, excluded from training)",
        out["suspect_fast_ion"].sum(),
    )
    present = _present_elements(frame_atoms, elements)
    result = pd.concat([out, frame_atoms[present]], axis=1).sort_values(["KOD", "GLASNO"])
    result["disagrees_with_other_labs"] = False
    kept = ~result["suspect_fast_ion"].to_numpy()
    result.loc[kept, "disagrees_with_other_labs"] = cur.disagrees_with_other_labs(result[kept])
    log.add(
        "conductivity",
        f"flagged disagrees_with_other_labs: > {cur.OTHER_LABS_MAX_DEVIATION_DECADES} decades from the median of "
        f">= {cur.OTHER_LABS_MIN_PUBLICATIONS - 1} other publications on the same composition "
        "(kept, excluded from training)",
        result["disagrees_with_other_labs"].sum(),
    )
    log.add("conductivity", "rows in the table", len(result))
    return result.reset_index(drop=True)


def _simple_property_table(
    src: pd.DataFrame,
    elements: list[str],
    column: str,
    name: str,
    unit_col: str,
    lo: float,
    hi: float,
    log: CurationLog,
    offset: float = 0.0,
) -> pd.DataFrame:
    frame = src[src[column].notna()]
    values = frame[column].to_numpy(dtype=float) + offset
    ok = (values >= lo) & (values <= hi)
    log.add(name, f"SciGK rows with {column}", len(frame))
    log.add(name, f"dropped: {unit_col} outside [{lo}, {hi}]", (~ok).sum())
    frame = frame[ok]
    out = pd.concat([_provenance(frame), _composition_columns(frame, elements)], axis=1)
    out[unit_col] = values[ok]
    present = _present_elements(frame, elements)
    result = pd.concat([out, frame[present]], axis=1).sort_values(["KOD", "GLASNO"]).reset_index(drop=True)
    log.add(name, "rows in the table", len(result))
    return result


def build_viscosity(src: pd.DataFrame, elements: list[str], log: CurationLog, progress: Progress) -> pd.DataFrame:
    """Per-glass MYEGA fits of Tg and m from the isokom temperatures and isotherms."""
    t_cols, v_cols = sciglass.VISCOSITY_T_COLUMNS, sciglass.VISCOSITY_V_COLUMNS
    T_K = np.column_stack(
        [src[c].to_numpy(dtype=float) + 273.15 for c in t_cols]
        + [np.full(len(src), t + 273.15) for t in v_cols.values()]
    )
    log_eta = np.column_stack(
        [np.full(len(src), lg) for lg in t_cols.values()] + [src[c].to_numpy(dtype=float) - 1.0 for c in v_cols]
    )  # V columns hold log10(eta / poise); 1 Pa s = 10 poise
    valid = np.isfinite(T_K) & np.isfinite(log_eta) & (T_K > 0) & (log_eta >= -3.0) & (log_eta <= 15.0)
    valid &= np.column_stack([src[c].notna().to_numpy() for c in t_cols] + [src[c].notna().to_numpy() for c in v_cols])
    enough = valid.sum(axis=1) >= 3
    log.add("viscosity", "SciGK rows with >= 3 viscosity points in 1e-3..1e15 Pa s", enough.sum())
    rows = np.flatnonzero(enough)
    Tg = np.full(len(rows), np.nan)
    m = np.full(len(rows), np.nan)
    rmse = np.full(len(rows), np.nan)
    for k, i in enumerate(rows):
        if k % 5000 == 0:
            progress(f"MYEGA fits {k}/{len(rows)}")
        Tg[k], m[k], rmse[k] = fit_myega(T_K[i, valid[i]], log_eta[i, valid[i]])
    frame = src.iloc[rows]
    good = (rmse <= 0.5) & (m > M_MIN + 0.5) & (m < 199.0) & (Tg > 150.0) & (Tg < 2400.0)
    log.add("viscosity", "dropped: MYEGA fit RMSE > 0.5 decades or m/Tg at a bound", (~good).sum())
    out = pd.concat([_provenance(frame), _composition_columns(frame, elements)], axis=1)
    out["Tg_K"] = Tg
    out["fragility_m"] = m
    out["fit_rmse_decades"] = rmse
    out["n_points"] = valid[rows].sum(axis=1)
    out = out[good]
    frame = frame[good]
    present = _present_elements(frame, elements)
    result = pd.concat([out, frame[present]], axis=1).sort_values(["KOD", "GLASNO"]).reset_index(drop=True)
    log.add("viscosity", "rows in the table", len(result))
    return result


def build_tables(wheel: Path, progress: Progress = lambda _: None) -> tuple[dict[str, pd.DataFrame], CurationLog]:
    log = CurationLog()
    src = load_sources(wheel, log, progress)
    elements = element_columns(src)
    progress("conductivity")
    tables = {"conductivity": build_conductivity(src, elements, log)}
    progress("tg, density, shear modulus")
    tables["tg"] = _simple_property_table(src, elements, "TG", "tg", "Tg_K", *cur.TG_RANGE_K, log, offset=273.15)
    tables["density"] = _simple_property_table(
        src, elements, "DENSITY", "density", "density_g_cm3", *cur.DENSITY_RANGE_G_CM3, log
    )
    tables["shear_modulus"] = _simple_property_table(
        src, elements, "MOD_SDV", "shear_modulus", "shear_modulus_GPa", *cur.SHEAR_MODULUS_RANGE_GPA, log
    )
    tables["viscosity"] = build_viscosity(src, elements, log, progress)
    return tables, log


_TMP_PREFIX = ".nce-build-"


def _write_durably(tmp: Path, payload: bytes) -> None:
    """Write ``payload`` whole to ``tmp`` and flush it to disk (before the rename)."""
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def write_tables(tables: dict[str, pd.DataFrame], log: CurationLog, directory: Path = PROCESSED_DIR) -> dict:
    """Write the tables and MANIFEST.json: all staged first, then renamed (manifest last)."""
    manifest = {"source": sciglass.WHEEL_REQUIREMENT, "tables": {}, "curation": log.rules}
    payloads = {}
    for name in TABLES:
        raw = to_csv_bytes(tables[name])
        manifest["tables"][name] = {"rows": len(tables[name]), "sha256": content_hash(raw)}
        payloads[table_path(name, directory)] = gzip_bytes(raw)
    payloads[directory / "MANIFEST.json"] = (json.dumps(manifest, indent=1) + "\n").encode()
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob(f"{_TMP_PREFIX}*.tmp"):  # left by a build that was killed
        stale.unlink(missing_ok=True)
    with atomic_paths(payloads, prefix=_TMP_PREFIX) as staged:
        for tmp, payload in zip(staged, payloads.values()):
            _write_durably(tmp, payload)
    return manifest


#: Columns fitted by least squares (MYEGA): their last printed digit can differ between machines
#: and library builds (on one machine 10 of 20,610 fits, by 1e-6 relative, sat on a rounding edge
#: of the 6 printed digits), so ``--check`` compares them within :data:`FIT_RTOL`; every other
#: column and table must be identical.
FITTED_COLUMNS = {"viscosity": ("Tg_K", "fragility_m", "fit_rmse_decades")}
FIT_RTOL = 1e-5


def check_tables(tables: dict[str, pd.DataFrame], directory: Path = PROCESSED_DIR) -> dict[str, str]:
    """Compare rebuilt tables with the shipped ones: ``identical`` (content hash), a note when
    only fitted values differ in their last digit (within :data:`FIT_RTOL`), else ``DIFFERS``."""
    shipped = json.loads((directory / "MANIFEST.json").read_text())["tables"]
    verdicts = {}
    for name in TABLES:
        rebuilt = to_csv_bytes(tables[name])
        if shipped.get(name, {}).get("sha256") == content_hash(rebuilt):
            verdicts[name] = "identical"
            continue
        verdicts[name] = "DIFFERS"
        fitted = list(FITTED_COLUMNS.get(name, ()))
        if not fitted:
            continue
        old = pd.read_csv(table_path(name, directory), low_memory=False)
        new = pd.read_csv(io.BytesIO(rebuilt), low_memory=False)
        if old.shape != new.shape or list(old.columns) != list(new.columns):
            continue
        if old.drop(columns=fitted).to_csv(index=False) != new.drop(columns=fitted).to_csv(index=False):
            continue
        a, b = old[fitted].to_numpy(dtype=float), new[fitted].to_numpy(dtype=float)
        if np.allclose(a, b, rtol=FIT_RTOL, atol=0.0, equal_nan=True):
            n = int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())
            verdicts[name] = f"identical but the last digit of {n} fitted value(s) (within {FIT_RTOL:g} relative)"
    return verdicts
