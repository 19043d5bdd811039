"""Figures a paper would show: parity with interval bars, residuals by family, importances."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

UNITS = {"log10_sigma25": "log10 sigma25 / S cm$^{-1}$", "Ea_eV": "Ea / eV"}


def parity_plot(y, pred, lo, hi, target: str, path: Path, title: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    y, pred = np.asarray(y), np.asarray(pred)
    if lo is not None:
        err = np.vstack([pred - np.asarray(lo), np.asarray(hi) - pred])
        ax.errorbar(y, pred, yerr=err, fmt="none", ecolor="0.8", elinewidth=0.5, zorder=1)
    ax.scatter(y, pred, s=4, alpha=0.5, zorder=2)
    lims = [np.nanmin([y.min(), pred.min()]), np.nanmax([y.max(), pred.max()])]
    ax.plot(lims, lims, "k--", lw=1)
    ax.set_xlabel(f"measured {UNITS.get(target, target)}")
    ax.set_ylabel(f"predicted {UNITS.get(target, target)}")
    mae = np.nanmean(np.abs(pred - y))
    ax.set_title(title or f"{target}: MAE {mae:.3f} (n={len(y)})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def residuals_by_family(residual, family, target: str, path: Path, top: int = 15) -> Path:
    frame = pd.DataFrame({"residual": np.asarray(residual), "family": np.asarray(family)})
    order = frame["family"].value_counts().index[:top]
    data = [frame.loc[frame["family"] == f, "residual"].to_numpy() for f in order]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(order) + 1), order, rotation=60, ha="right", fontsize=8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(f"predicted - measured ({UNITS.get(target, target)})")
    ax.set_title(f"{target}: residuals by family (largest {len(order)})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def importance_plot(names, importances, path: Path, top: int = 25, title: str = "feature importance (gain)") -> Path:
    series = pd.Series(np.asarray(importances, dtype=float), index=list(names)).sort_values().tail(top)
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(series) + 1.2), dpi=110)
    ax.barh(series.index, series.to_numpy())
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
