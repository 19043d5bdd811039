"""Simulated active-learning campaigns: how fast does each strategy find a top conductor?

    python benchmarks/active_learning.py [--repeats 5] [--seed 0] [--no-write]

Every chemical system of the curated data with at least 30 distinct compositions (log10
sigma25 averaged per composition) is a campaign. NCE is trained with the system held out
(systems are split into 4 groups; one model per group never sees its systems). A campaign
starts from 5 random compositions of the system, measures batches of 4 and stops at 40
experiments; the "lab" returns the dataset's value. Strategies, same starts and seeds:
random search; Optuna's TPE through ask-and-tell (model-free: its suggestion is snapped to
the nearest unmeasured composition); NCE (expected improvement on NCE's prediction updated
by the campaign's measurements through the residual GP of ``nce suggest``, batch by local
penalization). Reported: experiments until a top-5 % conductor of the system is measured
(41 = not within budget) per system and in median, and the best value found against the
number of experiments.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import write_section  # noqa: E402

from nce.data.noise_floor import composition_key  # noqa: E402
from nce.data.schema import element_columns  # noqa: E402
from nce.models.nce_model import quantile_column  # noqa: E402
from nce.pipelines.protocols import chemical_system  # noqa: E402
from nce.pipelines.suggest import (  # noqa: E402
    LEVELS,
    MEASUREMENT_SD,
    Belief,
    expected_improvement,
    residual_update,
    select_batch,
)
from nce.pipelines.train import make_model, training_frame  # noqa: E402

MIN_COMPOSITIONS = 30
START, BATCH, BUDGET = 5, 4, 40
N_GROUPS = 4
NOT_FOUND = BUDGET + 1


def campaign_pools(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per system: one row per distinct composition, atomic fractions and mean log10 sigma25."""
    frame = frame[frame["log10_sigma25"].notna()].copy()
    frame["system"] = chemical_system(frame)
    frame["key"] = composition_key(frame)
    counts = frame.groupby("system")["key"].nunique()
    pools = {}
    for system in counts[counts >= MIN_COMPOSITIONS].index:
        rows = frame[frame["system"] == system]
        elements = sorted(system.split("-"))
        pool = (
            rows.groupby("key")
            .agg(y=("log10_sigma25", "mean"), **{e: (e, "mean") for e in elements})
            .reset_index(drop=True)
        )
        pools[system] = pool
    return pools


def first_hit(order_values: np.ndarray, threshold: float) -> int:
    hits = np.flatnonzero(order_values >= threshold)
    return int(hits[0]) + 1 if len(hits) else NOT_FOUND


def run_random(pool: pd.DataFrame, start: np.ndarray, rng: np.random.Generator) -> list[int]:
    rest = np.setdiff1d(np.arange(len(pool)), start)
    return list(start) + list(rng.permutation(rest))[: BUDGET - len(start)]


def run_tpe(pool: pd.DataFrame, start: np.ndarray, seed: int) -> list[int]:
    elements = [c for c in pool.columns if c != "y"]
    X = pool[elements].to_numpy()
    dists = {
        e: optuna.distributions.FloatDistribution(float(X[:, i].min()), float(X[:, i].max()) + 1e-9)
        for i, e in enumerate(elements)
    }
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=START)
    )
    order = list(start)
    for i in start:
        study.add_trial(
            optuna.trial.create_trial(
                params={e: float(X[i, j]) for j, e in enumerate(elements)},
                distributions=dists,
                value=float(pool["y"].iloc[i]),
            )
        )
    while len(order) < min(BUDGET, len(pool)):
        trials = [study.ask(dists) for _ in range(min(BATCH, min(BUDGET, len(pool)) - len(order)))]
        for trial in trials:
            point = np.array([trial.params[e] for e in elements])
            free = np.setdiff1d(np.arange(len(pool)), order)
            j = int(free[np.argmin(((X[free] - point) ** 2).sum(axis=1))])
            order.append(j)
            study.tell(trial, float(pool["y"].iloc[j]))
    return order


def run_nce(pool: pd.DataFrame, start: np.ndarray, prior: Belief) -> list[int]:
    elements = [c for c in pool.columns if c != "y"]
    X = pool[elements].to_numpy()
    y = pool["y"].to_numpy()
    length = 0.15 * float(np.sqrt(((X.max(axis=0) - X.min(axis=0)) ** 2).sum()) or 1.0)
    order = list(start)
    while len(order) < min(BUDGET, len(pool)):
        measured = np.array(order)
        belief = residual_update(prior, X, X[measured], y[measured] - prior.mean[measured], MEASUREMENT_SD)
        acq = expected_improvement(belief, float(y[measured].max()))
        acq[measured] = -np.inf
        free = np.setdiff1d(np.arange(len(pool)), measured)
        take = min(BATCH, min(BUDGET, len(pool)) - len(order))
        picks = select_batch(X[free], acq[free], take, length)
        order.extend(int(free[p]) for p in picks)
    return order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="campaigns per system (different random starts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", module="sklearn.gaussian_process")
    start_time = time.time()

    def step(text: str) -> None:
        print(f"[{time.time() - start_time:6.0f} s] {text}", flush=True)

    frame, _ = training_frame()
    pools = campaign_pools(frame)
    systems = sorted(pools, key=lambda s: -len(pools[s]))
    groups = {s: i % N_GROUPS for i, s in enumerate(systems)}
    step(f"{len(systems)} systems with >= {MIN_COMPOSITIONS} distinct compositions")
    frame_system = chemical_system(frame)
    priors: dict[str, Belief] = {}
    for g in range(N_GROUPS):
        held = [s for s in systems if groups[s] == g]
        train = frame[~np.isin(frame_system, held)].reset_index(drop=True)
        step(f"training NCE without {len(held)} systems ({len(train):,} rows)")
        model = make_model(seed=args.seed).fit(train)
        for s in held:
            pool = pools[s]
            query = pool.drop(columns="y").reindex(columns=element_columns(frame), fill_value=0.0)
            pred = model.predict_table(query, levels=LEVELS)
            quantiles = pred[[quantile_column("log10_sigma25", q) for q in LEVELS]].to_numpy()
            priors[s] = Belief(pred["log10_sigma25"].to_numpy(), quantiles)  # nce suggest's belief
    step("running campaigns")
    records, curves = [], []
    for s in systems:
        pool = pools[s]
        y = pool["y"].to_numpy()
        threshold = np.quantile(y, 0.95)
        for r in range(args.repeats):
            seed = args.seed * 1000 + r
            rng = np.random.default_rng(seed)
            start = rng.choice(len(pool), size=START, replace=False)
            orders = {
                "random": run_random(pool, start, np.random.default_rng(seed + 1)),
                "tpe": run_tpe(pool, start, seed),
                "nce": run_nce(pool, start, priors[s]),
            }
            for method, order in orders.items():
                values = y[np.asarray(order)]
                records.append(
                    {
                        "system": s,
                        "n_compositions": len(pool),
                        "repeat": r,
                        "method": method,
                        "experiments_to_top5": first_hit(values, threshold),
                    }
                )
                best = np.maximum.accumulate(values)
                for k in (5, 10, 20, 30, 40):
                    if k <= len(best):
                        curves.append(
                            {
                                "system": s,
                                "method": method,
                                "experiments": k,
                                "gap_to_best": float(y.max() - best[k - 1]),
                            }
                        )
    res = pd.DataFrame(records)
    per_system = (
        res.groupby(["system", "n_compositions", "method"])["experiments_to_top5"]
        .median()
        .unstack("method")
        .reset_index()
    )
    per_system = per_system.sort_values("n_compositions", ascending=False)
    med = res.groupby(["system", "method"])["experiments_to_top5"].median().unstack().median()
    # the same count without the START random compositions every strategy shares (0 = a start hit)
    chosen = (
        res.assign(chosen=(res["experiments_to_top5"] - START).clip(lower=0))
        .groupby(["system", "method"])["chosen"]
        .median()
        .unstack()
        .median()
    )
    found = res.assign(found=res["experiments_to_top5"] <= BUDGET).groupby("method")["found"].mean()
    curve = pd.DataFrame(curves).groupby(["method", "experiments"])["gap_to_best"].median().unstack("experiments")
    total = time.time() - start_time
    lines = ["| system | compositions | random | TPE | NCE |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r.system} | {r.n_compositions} | {r.random:g} | {r.tpe:g} | {r.nce:g} |" for r in per_system.itertuples()
    ]
    curve_lines = [
        "| method | " + " | ".join(f"after {k}" for k in curve.columns) + " |",
        "|---|" + "---:|" * len(curve.columns),
    ]
    curve_lines += [f"| {m} | " + " | ".join(f"{v:.2f}" for v in curve.loc[m]) + " |" for m in ("random", "tpe", "nce")]
    body = f"""Command: `python benchmarks/active_learning.py` (seed {args.seed}, {args.repeats} campaigns per system, {total:.0f} s on 2 cores).
{len(systems)} chemical systems with >= {MIN_COMPOSITIONS} distinct compositions; each held out of NCE's training ({N_GROUPS} models,
one per group of systems). Start {START} random compositions, batches of {BATCH}, budget {BUDGET}; {NOT_FOUND} = no top-5 % conductor
within budget. The value per system is the median over its campaigns.

Median over systems of the experiments until a top-5 % conductor is measured: random {med["random"]:g}, TPE {med["tpe"]:g},
NCE {med["nce"]:g} (NCE / random = {med["nce"] / med["random"]:.2f}). Found within budget: random {found["random"]:.0%},
TPE {found["tpe"]:.0%}, NCE {found["nce"]:.0%} of campaigns. The count includes the {START} random starts every strategy shares: short
of a lucky start, the smallest possible count is {START + 1}, a top conductor with the first experiment the strategy chose.
Counting only the experiments each strategy chose (0 where a start already was one): random {chosen["random"]:g}, TPE {chosen["tpe"]:g},
NCE {chosen["nce"]:g}.

Best found against experiments (median over systems of the gap to the system's best log10 sigma25, decades):

{chr(10).join(curve_lines)}

Per system (median experiments to a top-5 % conductor):

{chr(10).join(lines)}
"""
    print(body)
    if not args.no_write:
        write_section("Active learning: simulated campaigns on held-out chemical systems", body)
    step("done")


if __name__ == "__main__":
    main()
