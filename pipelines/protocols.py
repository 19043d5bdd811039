"""Cross-validation protocols that tell the truth about new glasses.

(a) ``publication``: 5-fold grouped by KOD, no paper on both sides;
(b) ``chemical_system``: grouped by the set of elements;
(c) ``family``: grouped by dominant mobile ion | dominant anion | dominant other element
    (e.g. ``Li|S|P``), the harsh one;
(d) ``temporal``: train on older publications, test on the newest fifth.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from nce.data.groups import chemical_system, family

PROTOCOLS = ("publication", "chemical_system", "family", "temporal")
N_SPLITS = 5


def groups_for(frame: pd.DataFrame, protocol: str) -> np.ndarray:
    if protocol in ("publication", "temporal"):
        return frame["KOD"].to_numpy()
    if protocol == "chemical_system":
        return chemical_system(frame)
    if protocol == "family":
        return family(frame)
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def splits(frame: pd.DataFrame, protocol: str, n_splits: int = N_SPLITS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Train/test row indices for a protocol; groups never straddle a split."""
    groups = groups_for(frame, protocol)
    if protocol == "temporal":
        year = frame["year"].astype(float).fillna(frame["year"].astype(float).median()).to_numpy()
        pub_year = pd.Series(year).groupby(groups).transform("max").to_numpy()
        cutoff = np.quantile(pd.Series(year).groupby(groups).max().to_numpy(), 0.8)
        test = pub_year > cutoff
        yield np.flatnonzero(~test), np.flatnonzero(test)
        return
    yield from GroupKFold(n_splits=n_splits).split(np.zeros(len(frame)), groups=groups)
