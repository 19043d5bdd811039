"""Conductivity at the temperatures that were measured: NCE's Arrhenius line against a model per
temperature, on the same publication folds.

    python benchmarks/temperatures.py [--seed 0] [--no-write]

Every curated glass keeps its stored points (SciGlass log10 sigma at 20, 100, 150 and 300 degC
and sigma = 1e-8 S/cm at TK100C). On 5 publication-grouped folds, each model predicts log10
sigma at 20, 100, 150 and 300 degC for the held-out glasses and is scored against the points
stored there; sigma25 is scored against every label and against the interpolated ones alone (25
degC inside the measured range: the labels that are measurements, not extrapolations), Ea
against the slopes. Models (the point regressor NCE ships, its settings, on the same cross-fitted
features unless said):

- ``nce``: NCE as shipped, log10 sigma25 and Ea, sigma(T) through the Arrhenius relation;
- ``nce_source_hint``: NCE as it was before issue 19, with the label's derivation
  (``sigma25_source``: extrapolated / from 20 degC) as two input features, scored the way its
  cross-validation scored it (each test row told how its own label was derived);
- ``nce_source_as_served``: the same model asked, as ``nce predict`` asked it, for an
  interpolated value (what a user got);
- ``arrhenius_points``: a loss on every stored point through the Arrhenius line, by one round
  of alternating fits: sigma25 refitted on each glass's points moved to 25 degC along the
  predicted Ea (their mean), then Ea on the slope that carries that sigma25 through the glass's
  points (least squares in 1/T); tried for issue 19, not shipped;
- ``per_temperature``: one regressor per temperature on the glasses with a point there (no
  Arrhenius constraint; sigma25 and Ea from NCE's models);
- ``per_temperature_atoms``: the same on atomic fractions alone (the plain reference of
  benchmarks/glassnet.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import publish  # noqa: E402

from nce.data.arrhenius import log10_sigma_at  # noqa: E402
from nce.data.curation import LOG10_SIGMA_AT_TK100C, RO_TEMPERATURES_C  # noqa: E402
from nce.data.schema import element_columns  # noqa: E402
from nce.models.conformal import BoostedRegressor  # noqa: E402
from nce.pipelines.protocols import splits  # noqa: E402
from nce.pipelines.train import DEFAULT_MODEL_PARAMS, make_model, training_frame  # noqa: E402
from nce.pipelines.validation import frozen_features  # noqa: E402

HEADING = "Temperatures: the Arrhenius line against a model per temperature"


def stored_points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(temperature_C, log10 sigma) of each glass's stored points, NaN where none: the RO
    temperatures, then TK100C."""
    sigma = np.column_stack([frame[f"log10_sigma_{int(t)}C"].to_numpy(dtype=float) for t in RO_TEMPERATURES_C])
    tk = frame["TK100C_C"].to_numpy(dtype=float)
    T = np.column_stack([np.where(np.isfinite(sigma), RO_TEMPERATURES_C, np.nan), tk])
    return T, np.column_stack([sigma, np.where(np.isfinite(tk), LOG10_SIGMA_AT_TK100C, np.nan)])


def arrhenius_points_fit(regressor, X, T_C, log10_sigma, Ea_eV, rows):
    """One round of alternating fits of (sigma25, Ea) to every stored point of ``rows``:
    sigma25 on the points moved to 25 degC along the Ea model's values, then Ea on the
    least-squares slope (in 1/T) that carries that sigma25 through the points."""
    fin = np.isfinite(log10_sigma[rows])
    lever = np.where(fin, log10_sigma_at(0.0, 1.0, np.where(fin, T_C[rows], 25.0)), np.nan)  # per eV
    ea_rows = rows[np.isfinite(Ea_eV[rows])]
    ea_model = clone(regressor).fit(X[ea_rows], Ea_eV[ea_rows])
    moved = log10_sigma[rows] - ea_model.predict(X[rows])[:, None] * lever
    sigma_model = clone(regressor).fit(X[rows], np.nanmean(moved, axis=1))
    two = np.isfinite(Ea_eV[rows])  # glasses with a slope: two or more temperatures
    residual = log10_sigma[rows][two] - sigma_model.predict(X[rows][two])[:, None]
    slope = np.nansum(lever[two] * residual, axis=1) / np.nansum(lever[two] ** 2, axis=1)
    return sigma_model, clone(regressor).fit(X[rows][two], slope)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    frame, _ = training_frame()
    _, features = frozen_features(make_model(seed=args.seed), frame)  # sub-models cross-fitted by publication
    X = features.to_numpy(dtype=np.float32)
    source = frame["sigma25_source"].astype(str).to_numpy()
    hint = np.column_stack([source == "extrapolated", source == "from_20C"]).astype(np.float32)
    atoms = frame[element_columns(frame)].to_numpy(dtype=np.float32)
    T_C, log10_sigma = stored_points(frame)
    sigma25, Ea = frame["log10_sigma25"].to_numpy(dtype=float), frame["Ea_eV"].to_numpy(dtype=float)
    regressor = BoostedRegressor(**{**DEFAULT_MODEL_PARAMS, "random_state": args.seed})
    names = ("nce", "nce_source_hint", "nce_source_as_served", "arrhenius_points", "per_temperature")
    names += ("per_temperature_atoms",)
    at = {n: np.full((len(frame), len(RO_TEMPERATURES_C)), np.nan) for n in names}
    s25 = {n: np.full(len(frame), np.nan) for n in names}
    ea = {n: np.full(len(frame), np.nan) for n in names}

    def line(name, test, sigma_pred, ea_pred):
        s25[name][test], ea[name][test] = sigma_pred, ea_pred
        at[name][test] = log10_sigma_at(sigma_pred[:, None], ea_pred[:, None], np.array(RO_TEMPERATURES_C)[None, :])

    folds = list(splits(frame, "publication"))
    for k, (train, test) in enumerate(folds):
        print(f"[{time.perf_counter() - start:5.0f} s] fold {k + 1}/{len(folds)}", flush=True)
        has_s, has_e = train[np.isfinite(sigma25[train])], train[np.isfinite(Ea[train])]
        m_s, m_e = clone(regressor).fit(X[has_s], sigma25[has_s]), clone(regressor).fit(X[has_e], Ea[has_e])
        line("nce", test, m_s.predict(X[test]), m_e.predict(X[test]))
        Xh = np.hstack([X, hint])
        h_s, h_e = clone(regressor).fit(Xh[has_s], sigma25[has_s]), clone(regressor).fit(Xh[has_e], Ea[has_e])
        line("nce_source_hint", test, h_s.predict(Xh[test]), h_e.predict(Xh[test]))
        served = np.hstack([X[test], np.zeros_like(hint[test])])
        line("nce_source_as_served", test, h_s.predict(served), h_e.predict(served))
        j_s, j_e = arrhenius_points_fit(regressor, X, T_C, log10_sigma, Ea, train)
        line("arrhenius_points", test, j_s.predict(X[test]), j_e.predict(X[test]))
        for name, inputs in (("per_temperature", X), ("per_temperature_atoms", atoms)):
            s25[name][test], ea[name][test] = s25["nce"][test], ea["nce"][test]
            for j in range(len(RO_TEMPERATURES_C)):
                rows = train[np.isfinite(log10_sigma[train, j])]
                at[name][test, j] = clone(regressor).fit(inputs[rows], log10_sigma[rows, j]).predict(inputs[test])

    def mae(pred, truth, mask=True):
        ok = np.isfinite(pred) & np.isfinite(truth) & mask
        return float(np.mean(np.abs(pred[ok] - truth[ok]))), int(ok.sum())

    interpolated = source == "interpolated"
    records = []
    for name in names:
        points = [mae(at[name][:, j], log10_sigma[:, j]) for j in range(len(RO_TEMPERATURES_C))]
        pooled = sum(m * n for m, n in points) / sum(n for _, n in points)
        records.append(
            {
                "model": name,
                "sigma25 (all labels)": mae(s25[name], sigma25)[0],
                "sigma25 (interpolated labels)": mae(s25[name], sigma25, interpolated)[0],
                "Ea eV": mae(ea[name], Ea)[0],
                **{f"{int(t)} °C": m for t, (m, _) in zip(RO_TEMPERATURES_C, points)},
                "stored points pooled": pooled,
            }
        )
    table = pd.DataFrame(records)
    counts = ", ".join(
        f"{int(t)} °C {int(np.isfinite(log10_sigma[:, j]).sum()):,}" for j, t in enumerate(RO_TEMPERATURES_C)
    )
    seconds = time.perf_counter() - start
    body = "\n".join(
        [
            f"Command: `python benchmarks/temperatures.py` (seed {args.seed}, {seconds:.0f} s on 2 cores). "
            f"{len(frame):,} curated glasses, 5 publication-grouped folds; MAE in decades (Ea in eV). Stored points "
            f"scored: {counts}; interpolated sigma25 labels: {int(interpolated.sum()):,}. `per_temperature*` rows "
            "take sigma25 and Ea from `nce`.",
            "",
            table.to_markdown(index=False, floatfmt=".3f"),
        ]
    )
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
