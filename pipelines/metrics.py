"""Regression and interval metrics reported by ``nce evaluate``."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def interval_score(y_true, lo, hi, alpha: float = 0.1) -> np.ndarray:
    """The interval score of each row (Winkler 1972; Gneiting & Raftery 2007, eq. 43): the
    width, plus 2/alpha times the distance by which the value falls outside the interval."""
    y, lo, hi = (np.asarray(a, dtype=float) for a in (y_true, lo, hi))
    return (hi - lo) + (2.0 / alpha) * (np.maximum(lo - y, 0.0) + np.maximum(y - hi, 0.0))


def regression_metrics(y_true, y_pred, lo=None, hi=None, within: float = 1.0) -> dict[str, float]:
    """MAE, median AE, RMSE, R2, Spearman, share within ``within``; with an interval its
    coverage, mean and median width and mean interval score (90 %: alpha = 0.1)."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    err = p - y
    out = {"n": int(ok.sum())}
    if out["n"] == 0:
        return out
    ss_tot = float(((y - y.mean()) ** 2).sum())
    out.update(
        mae=float(np.abs(err).mean()),
        median_ae=float(np.median(np.abs(err))),
        rmse=float(np.sqrt((err**2).mean())),
        r2=float(1 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
        spearman=float(spearmanr(y, p).statistic) if out["n"] > 2 else float("nan"),
        within=float((np.abs(err) <= within).mean()),
        bias=float(err.mean()),
    )
    if lo is not None and hi is not None:
        lo_, hi_ = np.asarray(lo, dtype=float)[ok], np.asarray(hi, dtype=float)[ok]
        out["coverage"] = float(((y >= lo_) & (y <= hi_)).mean())
        out["width"] = float((hi_ - lo_).mean())
        out["median_width"] = float(np.median(hi_ - lo_))
        out["interval_score"] = float(interval_score(y, lo_, hi_).mean())
    return out
