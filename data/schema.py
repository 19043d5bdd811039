"""Names shared by every table: vocabularies, mobile ions, element columns, loaders."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
from pymatgen.core.periodic_table import Element

PROCESSED_DIR = Path(__file__).resolve().parent / "processed"
TABLES = ("conductivity", "tg", "viscosity", "density", "shear_modulus")

ROUTES = ("melt_quench", "ball_mill", "solution", "sputter", "other")
STATES = ("glass", "amorphous", "glass_ceramic", "amorphous_ceramic", "crystalline")
DEFAULT_ROUTE, DEFAULT_STATE = "melt_quench", "glass"

#: Cations that carry the ionic current in glassy electrolytes (Cu as Cu(I)).
MOBILE_IONS = ("Li", "Na", "K", "Rb", "Cs", "Ag", "Cu", "H")
NETWORK_ANIONS = ("O", "S", "Se", "Te", "N")
HALIDES = ("F", "Cl", "Br", "I")

ELEMENT_SYMBOLS = frozenset(Element.from_Z(z).symbol for z in range(1, 104))


def element_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that hold atomic fractions (named by element symbol)."""
    return [c for c in frame.columns if c in ELEMENT_SYMBOLS]


def table_path(name: str, directory: Path = PROCESSED_DIR) -> Path:
    return directory / f"{name}.csv.gz"


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Deterministic CSV text of a table: zeros in element columns left empty."""
    out = frame.copy()
    for col in element_columns(out):
        out[col] = out[col].where(out[col] != 0)
    return out.to_csv(index=False, float_format="%.6g", lineterminator="\n").encode()


def content_hash(csv_bytes: bytes) -> str:
    return hashlib.sha256(csv_bytes).hexdigest()


def gzip_bytes(raw: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        fh.write(raw)
    return buffer.getvalue()


def read_table(name: str, directory: Path = PROCESSED_DIR) -> pd.DataFrame:
    """Load one processed table; element columns come back as floats with zeros."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose from {', '.join(TABLES)}")
    path = table_path(name, directory)
    frame = pd.read_csv(path, low_memory=False, keep_default_na=True)
    cols = element_columns(frame)
    frame[cols] = frame[cols].fillna(0.0)
    return frame


def read_manifest(directory: Path = PROCESSED_DIR) -> dict:
    return json.loads((directory / "MANIFEST.json").read_text())
