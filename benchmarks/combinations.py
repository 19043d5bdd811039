"""Cross-fitted combinations (issue 19, build 3): do neighbour targets or a forest blend help NCE?

    python benchmarks/combinations.py [--protocol publication --protocol family] [--no-write]

On the accuracy benchmark's rows and folds (the curated glasses; the rows flagged by curation
never trained on and not scored here), NCE's point regressor on NCE's features (its served
settings; sub-model features cross-fitted by publication, as in ``nce evaluate``) against:

- the same regressor with **out-of-fold neighbour-target features**: the plain kNN's
  prediction (5 neighbours on atomic fractions, distance-weighted, the reference model of
  ``nce evaluate``), the nearest neighbour's distance and the mean distance of the five. For
  the training rows they come from 5 inner folds grouped by publication (a glass never sees
  its own publication's values), or grouped by family (never its own family's), for the
  tested rows from all training rows;
- the same settings in scikit-learn's histogram boosting (``hgb``, NCE's second model family)
  and the equal-weight **blend** of the two families;
- **blends** w NCE + (1 - w) forest, the forest on atomic fractions in ``nce evaluate``'s
  settings (500 trees, p/3 features). Every w is shown on the scored rows: picking the best
  of them there favours the blend, so a blend that loses at every w under a protocol loses.

An addition stays only if it helps under the family protocol (whole glass families held out).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import publish  # noqa: E402

from nce.data.datasets import curation_flags  # noqa: E402
from nce.data.groups import family  # noqa: E402
from nce.models.baselines import plain_models  # noqa: E402
from nce.models.nce_model import TARGETS  # noqa: E402
from nce.pipelines.evaluate import evaluation_frame  # noqa: E402
from nce.pipelines.protocols import atomic_fractions, splits  # noqa: E402
from nce.pipelines.train import make_model  # noqa: E402
from nce.pipelines.validation import frozen_features  # noqa: E402

HEADING = "Cross-fitted combinations: neighbour targets and forest blends"
BLEND_WEIGHTS = (0.9, 0.8, 0.7, 0.6, 0.5)
N_INNER = 5


def _plain(name: str):
    """The regressor inside one of ``nce evaluate``'s plain models on atomic fractions."""
    return clone(plain_models()[name].regressor)


def neighbour_columns(fractions_fit: np.ndarray, y_fit: np.ndarray, fractions_query: np.ndarray) -> np.ndarray:
    """Per queried glass: the plain kNN's prediction from the fitted glasses, the distance to
    the nearest of them and the mean distance of the kNN's neighbours (atomic fractions)."""
    knn = _plain("knn").fit(fractions_fit, y_fit)
    distance, _ = knn.kneighbors(fractions_query)
    return np.column_stack([knn.predict(fractions_query), distance[:, 0], distance.mean(axis=1)])


def cross_fitted_neighbours(
    fractions: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, inner_groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour columns of the training rows, each from the inner folds (grouped by
    ``inner_groups``) it is not in, and of the tested rows from every training row."""
    out = np.empty((len(train), 3))
    for fit, query in GroupKFold(N_INNER).split(train, groups=inner_groups[train]):
        out[query] = neighbour_columns(fractions[train[fit]], y[train[fit]], fractions[train[query]])
    return out, neighbour_columns(fractions[train], y[train], fractions[test])


def out_of_fold(frame: pd.DataFrame, features: np.ndarray, protocol: str, target: str, on_fold) -> dict:
    """Each variant's out-of-fold predictions of ``target`` under ``protocol``."""
    fractions = atomic_fractions(frame)
    y = frame[target].to_numpy(dtype=float)
    inner = {"publication": frame["KOD"].to_numpy(), "family": family(frame)}
    regressor = make_model().regressor
    names = ["nce", "nce + neighbours (by publication)", "nce + neighbours (by family)", "hgb", "forest"]
    pred = {name: np.full(len(frame), np.nan) for name in names}
    for k, (train, test) in enumerate(splits(frame, protocol, scored_only=curation_flags(frame))):
        train = train[np.isfinite(y[train])]
        pred["nce"][test] = clone(regressor).fit(features[train], y[train]).predict(features[test])
        for grouping, groups in inner.items():
            fit_cols, test_cols = cross_fitted_neighbours(fractions, y, train, test, groups)
            model = clone(regressor).fit(np.hstack([features[train], fit_cols]), y[train])
            pred[f"nce + neighbours (by {grouping})"][test] = model.predict(np.hstack([features[test], test_cols]))
        hgb = clone(regressor).set_params(backend="sklearn")
        pred["hgb"][test] = hgb.fit(features[train], y[train]).predict(features[test])
        pred["forest"][test] = _plain("random_forest").fit(fractions[train], y[train]).predict(fractions[test])
        on_fold(k)
    pred["blend 0.5 nce + 0.5 hgb"] = (pred["nce"] + pred["hgb"]) / 2
    for w in BLEND_WEIGHTS:
        pred[f"blend {w:g} nce + {1 - w:.1g} forest"] = w * pred["nce"] + (1 - w) * pred["forest"]
    return pred


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", action="append", default=None, help="default: publication and family")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args(argv)
    protocols = args.protocol or ["publication", "family"]
    start = time.perf_counter()
    frame, _ = evaluation_frame()
    _, features = frozen_features(make_model(), frame)
    features = features.to_numpy(dtype=np.float32)
    scored_rows = ~curation_flags(frame)
    rows = []
    for protocol in protocols:
        for target in TARGETS:
            pred = out_of_fold(
                frame,
                features,
                protocol,
                target,
                lambda k, p=protocol, t=target: print(f"[{time.perf_counter() - start:5.0f} s] {p} {t} fold {k + 1}"),
            )
            y = frame[target].to_numpy(dtype=float)
            scored = scored_rows & np.isfinite(y) & np.isfinite(pred["nce"])
            reference = np.abs(pred["nce"] - y)[scored].mean()
            for name, p in pred.items():
                mae = np.abs(p - y)[scored].mean()
                rows.append(
                    {"variant": name, "column": f"{protocol} {target}", "cell": f"{mae:.4f} ({mae / reference:.3f}x)"}
                )
    wide = pd.DataFrame(rows).pivot(index="variant", columns="column", values="cell")
    wide = wide.loc[list(dict.fromkeys(r["variant"] for r in rows)), list(dict.fromkeys(r["column"] for r in rows))]
    seconds = time.perf_counter() - start
    body = "\n".join(
        [
            f"Command: `python benchmarks/combinations.py` (protocols {', '.join(protocols)}; {seconds:.0f} s on 2 "
            f"cores). {int(scored_rows.sum()):,} curated glasses scored out of fold, the accuracy benchmark's folds "
            "(flagged rows never trained on, not scored here). NCE's point regressor (served settings) on NCE's "
            "features; neighbour columns: the plain kNN's prediction (5 neighbours, atomic fractions), the nearest "
            "and mean distances, cross-fitted on 5 inner folds by publication or by family; hgb: the same settings "
            "in scikit-learn's histogram boosting; the forest is "
            "`nce evaluate`'s. Blend weights are all shown on the scored rows (choosing among them there favours "
            "the blend).",
            "",
            "MAE (ratio to nce):",
            "",
            wide.to_markdown(),
        ]
    )
    publish(HEADING, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
