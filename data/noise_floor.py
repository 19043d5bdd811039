"""Inter-laboratory scatter: the error floor no model can beat on new publications.

docs/design.md, "Noise floor": key each glass by its atomic fractions rounded to 0.005,
average within a publication, keep compositions measured by >= 2 publications, and for
each publication take |its value - mean of the other publications' values|.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.schema import element_columns

ROUND_TO = 0.005


def composition_key(frame: pd.DataFrame, round_to: float = ROUND_TO) -> pd.Series:
    """A hashable key per row: the atomic fractions rounded to ``round_to``."""
    elements = element_columns(frame)
    rounded = np.round(frame[elements].to_numpy(dtype=float) / round_to).astype(np.int64)
    names = np.array(elements)
    keys = [" ".join(f"{e}{v}" for e, v in zip(names[row > 0], row[row > 0])) for row in rounded]
    return pd.Series(keys, index=frame.index, name="composition_key")


def leave_one_publication_out(frame: pd.DataFrame, target: str, group: str = "KOD") -> pd.DataFrame:
    """Per (composition, publication): its mean value and the mean of the other publications.

    Returns columns ``composition_key``, ``KOD``, ``value``, ``others_mean``, ``abs_error``.
    """
    data = frame[frame[target].notna()]
    per_pub = (
        data.assign(composition_key=composition_key(data))
        .groupby(["composition_key", group], sort=True)[target]
        .mean()
        .rename("value")
        .reset_index()
    )
    stats = per_pub.groupby("composition_key")["value"].agg(["sum", "count"])
    per_pub = per_pub.join(stats, on="composition_key")
    per_pub = per_pub[per_pub["count"] >= 2].copy()
    per_pub["others_mean"] = (per_pub["sum"] - per_pub["value"]) / (per_pub["count"] - 1)
    per_pub["abs_error"] = (per_pub["value"] - per_pub["others_mean"]).abs()
    return per_pub.drop(columns=["sum", "count"]).reset_index(drop=True)


def noise_floor(frame: pd.DataFrame, target: str) -> dict[str, float]:
    """MAE and median absolute deviation of leave-one-publication-out, with counts."""
    table = leave_one_publication_out(frame, target)
    return {
        "mae": float(table["abs_error"].mean()) if len(table) else float("nan"),
        "median": float(table["abs_error"].median()) if len(table) else float("nan"),
        "n_pairs": int(len(table)),
        "n_compositions": int(table["composition_key"].nunique()),
    }
