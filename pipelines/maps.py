"""``nce map``: predicted log10 sigma (or Ea) across a binary join or a ternary system.

A grid over the mol % simplex of the given components is predicted like any candidate;
the measured glasses of the embedded data that lie in the span of the components (their
atomic fractions are a non-negative mixture of the components' atoms, within a tolerance)
are overlaid at the mol % the mixture gives; the model's ``in_domain`` flag marks where the
applicability domain ends.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from nce.data.arrhenius import K_B_EV_PER_K, LN10
from nce.data.composition import CompositionError, parse_composition
from nce.data.rows import check_option
from nce.pipelines.errors import UserError

METRICS = ("sigma", "Ea")
N_STEPS = 4
#: Largest difference in any atomic fraction between a measured glass and its best mixture
#: of the components for it to count as a glass of the system (0.01 = one atom in 100).
SPAN_TOLERANCE = 0.01


def parse_system(text: str) -> list[str]:
    """``"Li2S-P2S5-LiI"`` -> ``["Li2S", "P2S5", "LiI"]``; 2 or 3 distinct bare formulas."""
    parts = [p.strip() for p in re.split(r"\s*[-\u2013\u2014,]\s*", str(text).strip()) if p.strip()]
    if len(parts) < 2:
        raise UserError(
            f"a map needs 2 or 3 components separated by '-', e.g. 'Li2O-SiO2' or 'Li2S-P2S5-LiI'; got {text!r}"
        )
    if len(parts) > 3:
        raise UserError(f"a map shows 2 or 3 components (a line or a triangle); {text!r} has {len(parts)}")
    for p in parts:
        try:
            parsed = parse_composition(p)
        except CompositionError as exc:
            raise UserError(f"component {p!r}: {exc}") from None
        if parsed.components:
            raise UserError(f"component {p!r} must be a bare formula such as Li2S (no amounts)")
    if len(set(parts)) != len(parts):
        raise UserError(f"components repeat in {text!r}")
    return parts


def component_atoms(components: list[str]) -> pd.DataFrame:
    """Atoms per formula unit of each component (rows components, columns elements)."""
    from pymatgen.core import Composition as PmgComposition

    return pd.DataFrame([PmgComposition(c).get_el_amt_dict() for c in components], index=components).fillna(0.0)


def composition_grid(components: list[str], step: float) -> pd.DataFrame:
    """mol % of every grid point of the simplex (step in mol %), endpoints included."""
    n = int(round(100 / step))
    if n < 2 or abs(n * step - 100) > 1e-9:
        raise UserError(f"--step must divide 100 into at least 2 parts; got {step:g}")
    if len(components) == 2:
        a = np.arange(n + 1) * step
        mol = np.column_stack([a, 100 - a])
    else:
        mol = np.array([[i * step, j * step, 100 - (i + j) * step] for i in range(n + 1) for j in range(n + 1 - i)])
    return pd.DataFrame(np.round(mol, 9), columns=components)


def composition_text(row, components: list[str]) -> str:
    parts = [f"{row[c]:g}{c}" for c in components if row[c] > 1e-9]
    return "-".join(parts)


def measured_in_system(components: list[str], tolerance: float = SPAN_TOLERANCE) -> pd.DataFrame:
    """Curated glasses whose atoms are a mixture of the components: mol % and targets."""
    from nce.data.datasets import load_conductivity
    from nce.data.schema import element_columns

    comp = component_atoms(components)
    cond = load_conductivity(training=True)
    elements = element_columns(cond)
    outside = [e for e in elements if e not in comp.columns]
    atoms = cond[elements].fillna(0.0)
    candidates = cond[
        (atoms[outside].sum(axis=1) <= tolerance).to_numpy() & (atoms[list(comp.columns)].sum(axis=1) > 0).to_numpy()
    ]
    A = comp.to_numpy(dtype=float).T  # elements x components
    rows = []
    for _, r in candidates.iterrows():
        f = r[list(comp.columns)].to_numpy(dtype=float)
        f = f / f.sum()
        w, _ = nnls(A, f)
        if w.sum() <= 0:
            continue
        mix = A @ w
        mix = mix / mix.sum()
        if np.abs(mix - f).max() > tolerance:
            continue
        mol = 100 * w / w.sum()
        rows.append(
            {
                **dict(zip(components, mol)),
                "composition": r["composition"],
                "KOD": r["KOD"],
                "log10_sigma25": r["log10_sigma25"],
                "Ea_eV": r["Ea_eV"],
            }
        )
    return pd.DataFrame(rows, columns=[*components, "composition", "KOD", "log10_sigma25", "Ea_eV"])


def _values(pred: pd.DataFrame, metric: str, temperature_C: float | None) -> pd.DataFrame:
    """Value and 90 % band of the mapped quantity (at T: the two 25 degC intervals combined)."""
    if metric == "Ea":
        return pd.DataFrame({"value": pred["Ea_eV"], "lo": pred["Ea_eV_lo"], "hi": pred["Ea_eV_hi"]})
    if temperature_C is None:
        return pd.DataFrame(
            {"value": pred["log10_sigma25"], "lo": pred["log10_sigma25_lo"], "hi": pred["log10_sigma25_hi"]}
        )
    # log10 sigma(T) = s25 + f * Ea with f = -(1/T - 1/298.15)/(ln10 kB): the band takes the
    # end of the Ea interval that lowers (raises) sigma(T) with the low (high) end of s25
    f = -(1.0 / (temperature_C + 273.15) - 1.0 / 298.15) / (LN10 * K_B_EV_PER_K)
    ea_lo, ea_hi = (pred["Ea_eV_lo"], pred["Ea_eV_hi"]) if f >= 0 else (pred["Ea_eV_hi"], pred["Ea_eV_lo"])
    return pd.DataFrame(
        {
            "value": pred["log10_sigma_T"],
            "lo": pred["log10_sigma25_lo"] + f * ea_lo,
            "hi": pred["log10_sigma25_hi"] + f * ea_hi,
        }
    )


def measured_values(measured: pd.DataFrame, metric: str, temperature_C: float | None) -> pd.Series:
    from nce.data.arrhenius import log10_sigma_at

    if metric == "Ea":
        return measured["Ea_eV"]
    if temperature_C is None:
        return measured["log10_sigma25"]
    return pd.Series(log10_sigma_at(measured["log10_sigma25"], measured["Ea_eV"], temperature_C), index=measured.index)


def value_label(metric: str, temperature_C: float | None) -> str:
    if metric == "Ea":
        return "Ea / eV"
    return "log10 sigma / S cm$^{-1}$ at " + (f"{temperature_C:g} °C" if temperature_C is not None else "25 °C")


def run_map(
    system: str,
    metric: str = "sigma",
    temperature_C: float | None = None,
    output: Path | None = None,
    model_uri: str | None = None,
    step: float | None = None,
    on_step=lambda _msg, _advance=1: None,
) -> dict:
    """Predict the grid, find the measured glasses, draw the figure; returns the tables.

    ``on_step(message, advance)`` is called at the start of each of :data:`N_STEPS` steps."""
    from nce.pipelines import figures
    from nce.pipelines.predict import load_model, predict_frame

    components = parse_system(system)
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    temperature_C = check_option(temperature_C, "--temperature-C", "temperature_C")  # nce.data.rows' range
    output = Path(output) if output is not None else Path(f"map_{'-'.join(components)}.png")
    if not output.parent.exists():
        raise UserError(f"output folder does not exist: {output.parent}")
    step = step if step is not None else (1.0 if len(components) == 2 else 2.0)
    grid = composition_grid(components, step)
    on_step("loading the model")
    model = load_model(model_uri, on_step=lambda msg: on_step(msg, 0))
    on_step(f"predicting {len(grid)} compositions")
    query = pd.DataFrame({"composition": [composition_text(r, components) for _, r in grid.iterrows()]})
    if temperature_C is not None:
        query["temperature_C"] = temperature_C
    pred = predict_frame(model, query)
    bad = pred["error"] != ""
    if bad.all():
        raise UserError(f"no composition of {system!r} can be predicted: {pred['error'].iloc[0]}")
    values = _values(pred, metric, temperature_C)
    grid = pd.concat([grid, values, pred[["composition", "in_domain"]]], axis=1)[~bad.to_numpy()].reset_index(drop=True)
    on_step("finding the measured glasses of the system")
    measured = measured_in_system(components)
    measured["value"] = measured_values(measured, metric, temperature_C).to_numpy(dtype=float) if len(measured) else []
    measured = measured[np.isfinite(measured["value"].to_numpy(dtype=float))].reset_index(drop=True)
    on_step("drawing")
    label = value_label(metric, temperature_C)
    if len(components) == 2:
        grid["x"] = grid[components[0]]
        measured["x"] = measured[components[0]]
        figures.binary_map(grid, measured, components, metric, label, output)
    else:
        figures.ternary_map(grid, measured, components, metric, label, output)
    return {"components": components, "grid": grid, "measured": measured, "output": output, "label": label}
