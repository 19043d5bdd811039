"""How glasses are grouped: by chemical system (element set) and by family.

The groups of the cross-validation protocols (docs/design.md) and of the interval
calibration (nce.models.uncertainty), which holds out whole families to learn how NCE errs
on glasses it has not seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.schema import HALIDES, MOBILE_IONS, NETWORK_ANIONS, element_columns

__all__ = ["chemical_system", "family"]


def chemical_system(frame: pd.DataFrame) -> np.ndarray:
    elements = np.array(element_columns(frame))
    present = frame[elements].to_numpy() > 0
    return np.array(["-".join(sorted(elements[row])) for row in present], dtype=object)


def _dominant(frame: pd.DataFrame, candidates) -> np.ndarray:
    cols = [c for c in candidates if c in frame.columns]
    if not cols:
        return np.full(len(frame), "none", dtype=object)
    values = frame[cols].to_numpy(dtype=float)
    out = np.array(cols, dtype=object)[values.argmax(axis=1)]
    out[values.max(axis=1) <= 0] = "none"
    return out


def family(frame: pd.DataFrame) -> np.ndarray:
    """``mobile|anion|other``: the dominant mobile ion, network anion (or halide) and other element."""
    elements = element_columns(frame)
    others = [e for e in elements if e not in MOBILE_IONS + NETWORK_ANIONS + HALIDES]
    mobile = _dominant(frame, MOBILE_IONS)
    anion = _dominant(frame, NETWORK_ANIONS + HALIDES)
    other = _dominant(frame, others)
    return np.array([f"{m}|{a}|{o}" for m, a, o in zip(mobile, anion, other)], dtype=object)
