"""Regression and interval metrics reported by ``nce evaluate``."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def regression_metrics(y_true, y_pred, lo=None, hi=None, within: float = 1.0) -> dict[str, float]:
    """MAE, median AE, RMSE, R2, Spearman, share within ``within`` and interval coverage/width."""
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
    return out
