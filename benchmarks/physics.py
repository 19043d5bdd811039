"""The relaxation relation of Wilkinson et al. (2020) tested as published, within families.

    python benchmarks/physics.py [--min-glasses 10] [--no-write]

Wilkinson et al. (J. Phys. Chem. B 124 (2020) 1099, eq. 9 as the seed review states it):
Ea / Ea_r = Tg_r m_r / (Tg m) relative to a reference glass r of the same family. On the
curated conductivity rows with a measured Tg and an Arrhenius Ea (not a single 20 degC
point), with m from the fragility sub-model (cross-fitted by publication, as NCE's features
are), every family (and, separately, every chemical system) with at least ``--min-glasses``
such glasses is tested with its median-Ea glass as the reference:

- the direction: Spearman rho of Ea against 1/(Tg m) within the group, and against 1/Tg
  alone (what the fragility adds);
- the magnitude: the slope of log(Ea/Ea_r) against log(Tg_r m_r / (Tg m)), 1 as published;
- the prediction: median |Ea - Ea_r Tg_r m_r / (Tg m)| against the reference's Ea alone
  (median |Ea - Ea_r|), both in eV.

The per-protocol ablation of the physics features (NCE with and without them, same folds)
is in the accuracy section (benchmarks/accuracy.py, model ``nce_xgb_no_physics``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import publish  # noqa: E402

from nce.data.groups import chemical_system, family  # noqa: E402
from nce.featurize.physics import wilkinson_Ea_ratio  # noqa: E402
from nce.pipelines.train import make_model, training_frame  # noqa: E402
from nce.pipelines.validation import frozen_features  # noqa: E402

HEADING = "Physics: the Wilkinson relation within families"


def wilkinson_table(glasses: pd.DataFrame, by: str, min_glasses: int) -> pd.DataFrame:
    """One row per group of ``glasses`` (columns Ea_eV, Tg_K, fragility_m, ``by``) with at
    least ``min_glasses`` glasses: the direction, slope and prediction error of the relation."""
    rows = []
    for group, g in glasses.groupby(by):
        if len(g) < min_glasses:
            continue
        ref = g.iloc[np.argsort(g["Ea_eV"].to_numpy(), kind="stable")[len(g) // 2]]
        ratio = wilkinson_Ea_ratio(g["Tg_K"], g["fragility_m"], ref["Tg_K"], ref["fragility_m"])
        rows.append(
            {
                by: group,
                "n": len(g),
                "rho_inv_Tg_m": spearmanr(1 / (g["Tg_K"] * g["fragility_m"]), g["Ea_eV"])[0],
                "rho_inv_Tg": spearmanr(1 / g["Tg_K"], g["Ea_eV"])[0],
                "slope": np.polyfit(np.log(ratio), np.log(g["Ea_eV"] / ref["Ea_eV"]), 1)[0],
                "err_relation_eV": float(np.median(np.abs(g["Ea_eV"] - ref["Ea_eV"] * ratio))),
                "err_reference_eV": float(np.median(np.abs(g["Ea_eV"] - ref["Ea_eV"]))),
            }
        )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, by: str) -> dict:
    """The groups' medians, formatted for the printed table."""
    return {
        "grouping": by,
        "groups": f"{len(table)}",
        "glasses": f"{int(table['n'].sum()):,}",
        "median rho of Ea with 1/(Tg m)": f"{table['rho_inv_Tg_m'].median():+.3f}",
        "share of groups with rho > 0": f"{(table['rho_inv_Tg_m'] > 0).mean():.3f}",
        "median rho of Ea with 1/Tg alone": f"{table['rho_inv_Tg'].median():+.3f}",
        "median slope (published: 1)": f"{table['slope'].median():.3f}",
        "median abs. error of the relation, eV": f"{table['err_relation_eV'].median():.3f}",
        "median abs. error of the reference's Ea, eV": f"{table['err_reference_eV'].median():.3f}",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-glasses", type=int, default=10)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    frame, _ = training_frame()
    _, features = frozen_features(make_model(), frame)  # sub-models cross-fitted by publication
    glasses = pd.DataFrame(
        {
            "Ea_eV": frame["Ea_eV"],
            "Tg_K": frame["Tg_K"],  # measured, as published
            "fragility_m": features["fragility_m"].to_numpy(),
            "family": family(frame),
            "chemical_system": chemical_system(frame),
        }
    )
    positive = glasses[["Tg_K", "Ea_eV", "fragility_m"]].gt(0).all(axis=1)
    glasses = glasses[positive.to_numpy() & frame["sigma25_source"].ne("from_20C").to_numpy()]
    tables = {by: wilkinson_table(glasses, by, args.min_glasses) for by in ("family", "chemical_system")}
    overall = pd.DataFrame([summary(t, by) for by, t in tables.items()]).set_index("grouping").T
    largest = tables["family"].sort_values("n", ascending=False).head(8)
    seconds = time.perf_counter() - start
    body = "\n".join(
        [
            f"Command: `python benchmarks/physics.py` ({seconds:.0f} s on 2 cores). {len(glasses):,} curated glasses "
            "with a measured Tg and an Arrhenius Ea; m from the fragility sub-model (cross-fitted by publication); "
            f"groups with at least {args.min_glasses} such glasses; the reference glass of each group is its "
            "median-Ea glass. Relation: Ea/Ea_r = Tg_r m_r/(Tg m) (Wilkinson et al., J. Phys. Chem. B 124 (2020) "
            "1099, eq. 9 as the seed review states it).",
            "",
            overall.to_markdown(disable_numparse=True),
            "",
            "Largest families:",
            "",
            largest.to_markdown(index=False, floatfmt=".3f"),
        ]
    )
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
