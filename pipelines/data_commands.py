"""Pipelines behind ``nce data build`` and ``nce data info``."""

from __future__ import annotations

from pathlib import Path

from nce.data.build import build_tables, check_tables, write_tables
from nce.data.datasets import dataset_summary
from nce.data.sciglass import locate_wheel


def build(wheel: Path | None = None, check: bool = False, progress=lambda _: None) -> dict:
    """Rebuild the processed tables from the glasspy wheel; with ``check`` compare only."""
    path = locate_wheel(wheel)  # SciGlassSourceError is an NCEError: the command line reports it
    tables, log = build_tables(path, progress=progress)
    if check:
        return {"check": check_tables(tables)}
    return write_tables(tables, log)


def info() -> dict:
    return dataset_summary()
