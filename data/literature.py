"""The embedded literature set: processing-labelled conductivities with one citation per row.

SciGlass holds melt-quenched glasses only; ``literature/processing_literature.csv`` (card:
``literature/README.md``) is the embedded source of processing variation: milled, solution,
sputtered and deposited electrolytes, glass- and amorphous-ceramics, crystalline references.
It is validated on load like a user's file (:func:`nce.data.extra.measurement_rows`): a
composition that does not parse, a route or state outside the vocabulary or a value out of
range is an error naming the row, never a dropped row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nce.data.extra import ExtraData, ExtraDataError, measurement_rows

LITERATURE_CSV = Path(__file__).resolve().parent / "literature" / "processing_literature.csv"
CONFIDENCE = ("reported", "inferred")
HEAT_TREATED = ("yes", "no", "yes, temperature not reported", "unknown")


def load_literature(path: Path = LITERATURE_CSV) -> ExtraData:
    """Rows of the literature table (``source = literature``, ``KOD`` = the citation)."""
    frame = pd.read_csv(path)
    for column, vocabulary in (("confidence", CONFIDENCE), ("heat_treated", HEAT_TREATED)):
        bad = ~frame[column].isin(vocabulary)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ExtraDataError(f"{path.name} row {i + 2}: {column} {frame[column].iloc[i]!r} is not one of {', '.join(vocabulary)}")
    missing = frame["citation"].isna() | (frame["citation"].astype(str).str.strip() == "")
    if missing.any():
        raise ExtraDataError(f"{path.name} row {int(missing.to_numpy().nonzero()[0][0]) + 2}: every row needs a citation")
    return measurement_rows(frame, path.name, "literature", keep=("confidence", "heat_treated", "citation", "measurement"))


def literature_summary() -> dict:
    """Counts for ``nce data info``."""
    rows = load_literature().rows
    return {
        "rows": int(len(rows)),
        "papers": int(rows["KOD"].nunique()),
        "with_log10_sigma25": int(rows["log10_sigma25"].notna().sum()),
        "with_Ea_eV": int(rows["Ea_eV"].notna().sum()),
        "by_state": {k: int(v) for k, v in rows["state"].value_counts().items()},
        "by_route": {k: int(v) for k, v in rows["route"].value_counts().items()},
        "by_confidence": {k: int(v) for k, v in rows["confidence"].value_counts().items()},
    }
