"""The embedded literature set: processing-labelled conductivities with one citation per row.

SciGlass holds melt-quenched glasses only; ``literature/processing_literature.csv`` (card:
``literature/README.md``) is the embedded source of processing variation: milled, solution,
sputtered and deposited electrolytes, glass- and amorphous-ceramics, crystalline references.
It is validated on load like a user's file (:func:`nce.data.extra.measurement_rows`, with the
row rules of :mod:`nce.data.rows`): a composition that does not parse, a route or state
outside the vocabulary or a value out of range is an error naming the row, never a dropped row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nce.data.extra import ExtraData, ExtraDataError, measurement_rows
from nce.data.rows import missing, raise_first, shown

LITERATURE_CSV = Path(__file__).resolve().parent / "literature" / "processing_literature.csv"
CONFIDENCE = ("reported", "inferred")
HEAT_TREATED = ("yes", "no", "yes, temperature not reported", "unknown")


def load_literature(path: Path = LITERATURE_CSV) -> ExtraData:
    """Rows of the literature table (``source = literature``, ``KOD`` = the citation)."""
    frame = pd.read_csv(path)
    lines = range(2, len(frame) + 2)  # the header is line 1
    for column, vocabulary in (("confidence", CONFIDENCE), ("heat_treated", HEAT_TREATED)):
        errors = [
            "" if v in vocabulary else f"{column} {shown(v)} is not one of {', '.join(vocabulary)}"
            for v in frame[column]
        ]
        raise_first(errors, lines, path.name, ExtraDataError)
    raise_first(
        ["every row needs a citation" if missing(c) else "" for c in frame["citation"]],
        lines,
        path.name,
        ExtraDataError,
    )
    return measurement_rows(
        frame, path.name, "literature", keep=("confidence", "heat_treated", "citation", "measurement")
    )


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
