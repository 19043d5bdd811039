"""Loaders for the rows models train on, and the summary ``nce data info`` prints."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.schema import PROCESSED_DIR, TABLES, read_manifest, read_table

#: Curation's flag columns of the conductivity table (data/DATASET.md): flagged rows are kept
#: in the table but never trained on.
FLAG_COLUMNS = ("suspect_fast_ion", "disagrees_with_other_labs")


def curation_flags(frame: pd.DataFrame) -> np.ndarray:
    """True where curation flagged a row (any of :data:`FLAG_COLUMNS`; a missing column or value,
    as in a user's rows, counts as not flagged)."""
    flagged = np.zeros(len(frame), dtype=bool)
    for column in FLAG_COLUMNS:
        if column in frame:
            flagged |= frame[column].eq(True).to_numpy()
    return flagged


def load_conductivity(training: bool = True) -> pd.DataFrame:
    """The curated conductivity table; with ``training`` the flagged rows are left out."""
    frame = read_table("conductivity")
    if training:
        frame = frame[~curation_flags(frame)].reset_index(drop=True)
    return frame


def flagged_conductivity() -> pd.DataFrame:
    """The conductivity rows curation flagged (scored out of fold by ``nce evaluate``, never trained on)."""
    frame = read_table("conductivity")
    return frame[curation_flags(frame)].reset_index(drop=True)


def _distribution(values: pd.Series) -> dict[str, float]:
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return {}
    q = np.percentile(v, [5, 25, 50, 75, 95])
    return {
        "mean": round(float(v.mean()), 4),
        "std": round(float(v.std()), 4),
        "min": round(float(v.min()), 4),
        "p05": round(float(q[0]), 4),
        "p25": round(float(q[1]), 4),
        "median": round(float(q[2]), 4),
        "p75": round(float(q[3]), 4),
        "p95": round(float(q[4]), 4),
        "max": round(float(v.max()), 4),
    }


def dataset_summary() -> dict:
    """Counts per table (after curation: the rows models train on) and target distributions."""
    manifest = read_manifest(PROCESSED_DIR)
    summary: dict = {}
    for name in TABLES:
        summary[name] = {"rows": int(manifest["tables"][name]["rows"])}
    cond = load_conductivity(training=True)
    all_rows = read_table("conductivity")
    summary["conductivity"] = {
        "rows": int(len(cond)),
        "flagged_suspect_fast_ion": int(all_rows["suspect_fast_ion"].astype(bool).sum()),
        "flagged_disagrees_with_other_labs": int(all_rows["disagrees_with_other_labs"].astype(bool).sum()),
        "with_log10_sigma25": int(cond["log10_sigma25"].notna().sum()),
        "with_Ea_eV": int(cond["Ea_eV"].notna().sum()),
        "with_Li2S": int(cond["has_Li2S"].astype(bool).sum()),
        "publications": int(cond["KOD"].nunique()),
        "by_mobile_ion": {k: int(v) for k, v in cond["mobile_ion"].value_counts().items()},
        "by_anion_family": {k: int(v) for k, v in cond["anion_family"].value_counts().items()},
        "by_sigma25_source": {k: int(v) for k, v in cond["sigma25_source"].value_counts().items()},
        "log10_sigma25": _distribution(cond["log10_sigma25"]),
        "Ea_eV": _distribution(cond["Ea_eV"]),
    }
    from nce.data.literature import literature_summary

    summary["literature"] = literature_summary()
    summary["source"] = manifest["source"]
    return summary
