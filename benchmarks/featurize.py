"""Featurization throughput: GlassFeaturizer.transform vs plain matminer, in one run.

Draws random compositions from the component space of the conductivity table (a random
glass's components with every amount scaled by a log-normal factor, or a random mixture of
two glasses), then times

- parsing the texts (``atoms_frame``),
- ``GlassFeaturizer.transform`` on the parsed atomic fractions (featurization only),
- ``GlassFeaturizer.transform`` on the texts (parse + featurize),
- matminer's ElementProperty("magpie") + Stoichiometry + ValenceOrbital with
  ``set_n_jobs(1)`` on a smaller sample (146 features; the featurizer also runs the four
  property sub-models and the physics and processing features),

and prints a markdown table. The property sub-models are trained on the full tables first
(timed and reported) unless ``--submodels DIR`` points at saved ones.

    python benchmarks/featurize.py [--n 100000] [--matminer-n 500] [--submodels DIR]
                                   [--cv] [--write-results]

``--cv`` adds the grouped 5-fold CV of the four sub-models on the full tables (minutes);
``--write-results`` puts everything under "## Featurization and physics sub-models" in
benchmarks/RESULTS.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd


def random_compositions(n: int, seed: int = 0) -> list[str]:
    """``n`` composition texts from the conductivity table's component space."""
    from nce.data.schema import read_table
    from nce.featurize import format_components, parse_many

    texts = read_table("conductivity")["composition"].dropna().unique().tolist()
    parsed = [p for p in parse_many(texts) if not isinstance(p, Exception) and p.components]
    pool = [dict(p.components) for p in parsed]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = pool[rng.integers(len(pool))]
        if rng.random() < 0.5:
            b = pool[rng.integers(len(pool))]
            w = rng.random()
            mix = {k: w * v for k, v in a.items()}
            for k, v in b.items():
                mix[k] = mix.get(k, 0.0) + (1 - w) * v
        else:
            mix = dict(a)
        mix = {k: v * rng.lognormal(0.0, 0.25) for k, v in mix.items()}
        total = sum(mix.values())
        mix = {k: 100 * v / total for k, v in mix.items() if 100 * v / total >= 0.01}
        out.append(format_components(mix))
    return out


def matminer_rate(atoms: pd.DataFrame) -> tuple[float, int]:
    """(seconds, n_features) of plain matminer on the rows of ``atoms``."""
    from matminer.featurizers.composition import ElementProperty, Stoichiometry, ValenceOrbital
    from pymatgen.core import Composition

    comps = [Composition({el: x for el, x in row.items() if x > 0}) for row in atoms.to_dict(orient="records")]
    with warnings.catch_warnings():
        # matminer warns that impute_nan will change its default; NCE matches the current one
        warnings.simplefilter("ignore")
        featurizers = [ElementProperty.from_preset("magpie"), Stoichiometry(), ValenceOrbital()]
        for f in featurizers:
            f.set_n_jobs(1)
        n_features = sum(len(f.feature_labels()) for f in featurizers)
        start = time.perf_counter()
        for f in featurizers:
            f.featurize_many(comps, pbar=False)
        seconds = time.perf_counter() - start
    return seconds, n_features


def _clear_parse_cache() -> None:
    from nce.data import composition

    cached = getattr(composition, "_parse_cached", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def cross_validation_rows(n_jobs: int) -> list[tuple]:
    """Grouped 5-fold CV (GroupKFold by KOD) of the four sub-models on the full tables."""
    from nce.data.schema import read_table
    from nce.models.property_models import (
        DEFAULT_HYPERPARAMS,
        PROPERTY_TABLES,
        CompositionPropertyRegressor,
        grouped_oof_predictions,
    )

    out = []
    for target, table_name in PROPERTY_TABLES.items():
        table = read_table(table_name)
        estimator = CompositionPropertyRegressor.for_target(target, n_jobs=n_jobs)
        start = time.perf_counter()
        y, oof = grouped_oof_predictions(table, target, 5, estimator)
        seconds = time.perf_counter() - start
        err = np.abs(y - oof)
        out.append(
            (
                target,
                table_name,
                len(y),
                table["KOD"].nunique(),
                err.mean(),
                np.median(err),
                np.mean(np.abs(y - y.mean())),
                seconds,
                DEFAULT_HYPERPARAMS[target],
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    from nce.data.schema import read_table
    from nce.featurize.atoms import atoms_frame
    from nce.models import io
    from nce.models.featurizer import GlassFeaturizer
    from nce.models.property_models import PropertySubmodels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="compositions to featurize")
    parser.add_argument("--matminer-n", type=int, default=500, help="rows for matminer")
    parser.add_argument("--submodels", help="folder of saved PropertySubmodels (skip training)")
    parser.add_argument("--save-submodels", help="save the trained sub-models here")
    parser.add_argument("--cv", action="store_true", help="also run grouped 5-fold CV of the sub-models (slow)")
    parser.add_argument("--write-results", action="store_true", help="write the section of benchmarks/RESULTS.md")
    parser.add_argument("--n-jobs", type=int, default=2, help="xgboost threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rows = []
    if args.submodels:
        submodels = io.load(args.submodels, expect=PropertySubmodels)
        for model in submodels.full.values():
            model.set_params(n_jobs=args.n_jobs)
    else:
        start = time.perf_counter()
        submodels = PropertySubmodels.train(with_folds=False, n_jobs=args.n_jobs)
        seconds = time.perf_counter() - start
        n_train = sum(m.n_train_ for m in submodels.full.values())
        rows.append(("train the 4 sub-models (full tables, no fold models)", n_train, seconds))
        if args.save_submodels:
            io.save(submodels, args.save_submodels)

    texts = random_compositions(args.n, args.seed)
    conductivity = read_table("conductivity")
    featurizer = GlassFeaturizer(submodels=submodels, n_jobs=args.n_jobs).fit(conductivity)

    _clear_parse_cache()
    start = time.perf_counter()
    atoms, errors = atoms_frame(texts)
    rows.append(("parse texts (atoms_frame)", args.n, time.perf_counter() - start))
    bad = sum(e is not None for e in errors)
    if bad:
        print(f"{bad} generated compositions failed to parse", file=sys.stderr)
        atoms = atoms[[e is None for e in errors]]

    start = time.perf_counter()
    features = featurizer.transform(atoms)
    rows.append(("GlassFeaturizer.transform, atomic fractions", len(atoms), time.perf_counter() - start))

    _clear_parse_cache()
    frame = pd.DataFrame({"composition": [t for t, e in zip(texts, errors) if e is None]})
    start = time.perf_counter()
    featurizer.transform(frame)
    text_seconds = time.perf_counter() - start
    rows.append(("GlassFeaturizer.transform, text (parse + featurize)", len(frame), text_seconds))

    sample = atoms.sample(min(args.matminer_n, len(atoms)), random_state=args.seed)
    seconds, n_matminer = matminer_rate(sample)
    rows.append(
        (
            f"matminer ElementProperty(magpie) + Stoichiometry + ValenceOrbital, n_jobs=1 ({n_matminer} features)",
            len(sample),
            seconds,
        )
    )

    lines = [
        f"Featurization: {args.n:,} random compositions from the conductivity table's "
        f"component space; {os.cpu_count()} CPUs, xgboost threads {args.n_jobs}; "
        f"GlassFeaturizer gives {features.shape[1]} features. "
        "(`python benchmarks/featurize.py --cv --write-results`)",
        "",
        "| step | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {n:,} | {s:.2f} | {n / s:,.0f} |" for name, n, s in rows]
    text_rate = len(frame) / text_seconds
    mm_rate = rows[-1][1] / rows[-1][2]
    lines += [
        "",
        f"GlassFeaturizer from text: {text_rate / mm_rate:,.0f}x matminer's rate per "
        f"composition; {len(frame):,} compositions in {text_seconds:.1f} s (target <= 20 s).",
    ]
    if args.cv:
        lines += [
            "",
            "Property sub-models, grouped 5-fold CV (GroupKFold by publication KOD), full tables:",
            "",
            "| target | table | rows | publications | MAE | median AE | MAE of the mean | CV seconds |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        cv = cross_validation_rows(args.n_jobs)
        lines += [
            f"| {t} | {tab} | {n:,} | {p:,} | {mae:.4g} | {med:.4g} | {base:.4g} | {s:.0f} |"
            for t, tab, n, p, mae, med, base, s, _ in cv
        ]
        lines += ["", "Hyperparameters (`DEFAULT_HYPERPARAMS`; all `tree_method=hist`):", ""]
        lines += [f"- {t}: `{params}`" for t, *_, params in cv]
    body = "\n".join(lines)
    print("\n" + body)
    if args.write_results:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from results_md import write_section

        write_section("Featurization and physics sub-models", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
