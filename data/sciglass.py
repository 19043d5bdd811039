"""Read the SciGlass tables shipped inside the ``glasspy==0.4.0`` wheel.

SciGlass (ODbL 1.0) is read straight from the wheel's zip files; glasspy itself is
never imported. Later glasspy releases download data at run time, which cannot work
offline, so 0.4.0 is the pinned source.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Element

from nce.data.errors import NCEError

WHEEL_NAME = "glasspy-0.4.0-py3-none-any.whl"
WHEEL_REQUIREMENT = "glasspy==0.4.0"
_INNER = "glasspy/data/datafiles/select_{}.csv.zip"

#: SciGK columns NCE reads (units in docs/design.md, "Data"): resistivities, TK100C, Tg,
#: viscosity points, density, moduli and provenance.
RESISTIVITY_COLUMNS = {"RO20": 20.0, "RO100": 100.0, "RO150": 150.0, "RO300": 300.0}
VISCOSITY_T_COLUMNS = {f"T{n}": float(n - 1) for n in range(1, 14)}  # T_n: eta = 10^(n-1) Pa s
VISCOSITY_V_COLUMNS = {
    f"V{t}": float(t) for t in (500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1800, 2000, 2200)
}
SCIGK_COLUMNS = (
    ["KOD", "GLASNO", "Author", "Year", "TG", "TK100C", "DENSITY", "MOD_SDV", "MOD_UNG"]
    + list(RESISTIVITY_COLUMNS)
    + list(VISCOSITY_T_COLUMNS)
    + list(VISCOSITY_V_COLUMNS)
)
KEY = ["KOD", "GLASNO"]


class SciGlassSourceError(NCEError, RuntimeError):
    """The glasspy wheel could not be found or fetched."""


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "nce"


def locate_wheel(wheel: str | Path | None = None, cache_dir: Path | None = None) -> Path:
    """Return the path of the glasspy 0.4.0 wheel, downloading it with pip if needed."""
    if wheel is not None:
        path = Path(wheel)
        if not path.is_file():
            raise SciGlassSourceError(f"wheel not found: {path}")
        return path
    cache = cache_dir or default_cache_dir()
    path = cache / WHEEL_NAME
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache), WHEEL_REQUIREMENT]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not path.is_file():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SciGlassSourceError(f"could not download {WHEEL_REQUIREMENT} with pip: {last}")
    return path


def _read_inner(wheel: Path, table: str, **read_csv_kwargs) -> pd.DataFrame:
    with zipfile.ZipFile(wheel) as outer:
        inner_bytes = outer.read(_INNER.format(table))
    with zipfile.ZipFile(io.BytesIO(inner_bytes)) as inner:
        name = inner.namelist()[0]
        with inner.open(name) as fh:
            return pd.read_csv(fh, sep="\t", **read_csv_kwargs)


def read_scigk(wheel: Path) -> pd.DataFrame:
    """Property table: one row per (KOD, GLASNO) - except the duplicated keys."""
    return _read_inner(wheel, "SciGK", usecols=SCIGK_COLUMNS, low_memory=False)


def read_atmol(wheel: Path) -> pd.DataFrame:
    """Atomic composition (atomic %), columns renamed from atomic numbers to symbols."""
    frame = _read_inner(wheel, "AtMol").rename(columns={"Kod": "KOD", "GlasNo": "GLASNO"})
    rename = {c: Element.from_Z(int(c)).symbol for c in frame.columns if c.isdigit()}
    return frame.rename(columns=rename)


def read_gcomp(wheel: Path) -> pd.DataFrame:
    """Component table: KOD, GLASNO and ``components`` (compound -> mol %).

    ``Composition`` holds records separated by byte 0x7F: compound, molar mass, wt %, mol %.
    A lumped compound such as ``Al2O3+Fe2O3`` has molar mass 0 and zero mol % throughout
    its glass; such glasses get an empty component mapping.
    """
    frame = _read_inner(wheel, "Gcomp").rename(columns={"Kod": "KOD", "GlasNo": "GLASNO"})
    frame["components"] = [_parse_gcomp_record(text) for text in frame.pop("Composition")]
    return frame


def _parse_gcomp_record(text: str) -> dict[str, float]:
    parts = str(text).split("\x7f")[1:-1]
    out: dict[str, float] = {}
    for i in range(0, len(parts) - 3, 4):
        name, mol = parts[i], parts[i + 3]
        try:
            value = float(mol)
        except ValueError:
            continue
        if name and value > 0:
            out[name] = out.get(name, 0.0) + value
    return out


def atomic_fractions(atmol: pd.DataFrame) -> pd.DataFrame:
    """Atomic % -> fractions summing to 1; rows that are all zero become NaN."""
    elements = [c for c in atmol.columns if c not in KEY]
    values = atmol[elements].to_numpy(dtype=float)
    total = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(total > 0, values / total, np.nan)
    return pd.DataFrame(fractions, columns=elements, index=atmol.index)
