"""Figures of ``nce report``, ``nce map`` and ``nce explain`` (matplotlib, Agg backend).

Every function draws one figure and writes it atomically (a temporary file in the target
folder, then ``os.replace``), so a half-written PNG never appears under the final name.
Companion of :mod:`nce.pipelines.plots` (the figures ``nce train`` logs).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nce.data.files import atomic_path  # noqa: E402
from nce.pipelines.plots import UNITS  # noqa: E402

METRIC_LABEL = {
    "sigma": "predicted log10 sigma / S cm$^{-1}$",
    "Ea": "predicted Ea / eV",
}


def save_figure(fig, path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically and close it."""
    path = Path(path)
    try:
        with atomic_path(path, suffix=".tmp.png") as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


# --- report ----------------------------------------------------------------------------------


def dataset_overview(frame: pd.DataFrame, family: np.ndarray, path) -> Path:
    """Counts by mobile ion, anion family and chemical family; histograms of both targets."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for ax, column, title in (
        (axes[0, 0], "mobile_ion", "glasses by mobile ion"),
        (axes[0, 1], "anion_family", "glasses by anion family"),
    ):
        counts = frame[column].astype(str).value_counts()
        ax.bar(counts.index, counts.to_numpy(), color="tab:blue")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=45)
        for i, v in enumerate(counts.to_numpy()):
            ax.text(i, v, f"{v}", ha="center", va="bottom", fontsize=7)
    for ax, target in ((axes[1, 0], "log10_sigma25"), (axes[1, 1], "Ea_eV")):
        values = frame[target].dropna().to_numpy(dtype=float)
        ax.hist(values, bins=60, color="tab:green")
        ax.set_xlabel(UNITS[target])
        ax.set_ylabel("glasses")
        ax.set_title(f"{target}: n={values.size}, median {np.median(values):.2f}")
    fig.suptitle(
        f"curated SciGlass training rows: {len(frame)} glasses, {frame['KOD'].nunique()} publications, "
        f"{len(set(family))} chemical families"
    )
    fig.tight_layout()
    return save_figure(fig, path)


def family_counts(family: np.ndarray, path, top: int = 20) -> Path:
    counts = pd.Series(family).value_counts().head(top)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(counts) + 1.2))
    ax.barh(counts.index, counts.to_numpy(), color="tab:blue")
    ax.set_xlabel("glasses")
    ax.set_title(f"largest {len(counts)} families (mobile ion | anion | other element)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


#: Central-interval levels of the calibration curve and the quantiles they need.
CALIBRATION_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CALIBRATION_QUANTILES = tuple(sorted({round(x, 4) for c in CALIBRATION_LEVELS for x in ((1 - c) / 2, (1 + c) / 2)}))


def calibration_curve(y: dict, quantiles: dict, lo: dict, hi: dict, path) -> tuple[Path, pd.DataFrame]:
    """Nominal against observed coverage of the predictive distribution's central intervals.

    ``quantiles[target][level]`` holds each glass's quantile at the levels of
    :data:`CALIBRATION_QUANTILES`; the printed 90 % interval (``lo``, ``hi``) is marked separately.
    """
    rows = []
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="ideal")
    for target, color in (("log10_sigma25", "tab:blue"), ("Ea_eV", "tab:orange")):
        yt, low, high = (np.asarray(d[target], dtype=float) for d in (y, lo, hi))
        q = quantiles[target]
        observed = [
            float(np.mean((yt >= q[round((1 - c) / 2, 4)]) & (yt <= q[round((1 + c) / 2, 4)])))
            for c in CALIBRATION_LEVELS
        ]
        printed = float(np.mean((yt >= low) & (yt <= high)))
        rows += [{"target": target, "nominal": float(c), "observed": o} for c, o in zip(CALIBRATION_LEVELS, observed)]
        rows.append({"target": target, "nominal": 0.9, "observed": printed, "interval": "printed 90 %"})
        ax.plot(CALIBRATION_LEVELS, observed, "o-", color=color, ms=4, label=f"{target} (predictive distribution)")
        ax.plot([0.9], [printed], "*", color=color, ms=14, mec="k", label=f"{target} printed 90 %: {printed:.3f}")
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage (out of fold)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("calibration of the intervals")
    fig.tight_layout()
    table = pd.DataFrame(rows)
    table["interval"] = table.get("interval", pd.Series(dtype=object)).fillna("distribution")
    return save_figure(fig, path), table


def shap_summary(contribs: np.ndarray, values: np.ndarray, names: list[str], path, title: str, top: int = 15) -> Path:
    """Beeswarm-style SHAP summary: one row per feature, one dot per glass, colour = the
    feature's value (rank within the sample, low blue to high red)."""
    mean_abs = np.abs(contribs).mean(axis=0)
    order = np.argsort(mean_abs)[::-1][:top][::-1]
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(order) + 1.5))
    for row, j in enumerate(order):
        v = values[:, j]
        finite = np.isfinite(v)
        rank = np.full(len(v), 0.5)
        if finite.sum() > 1:
            rank[finite] = pd.Series(v[finite]).rank(pct=True).to_numpy()
        jitter = rng.uniform(-0.3, 0.3, len(v))
        sc = ax.scatter(
            contribs[:, j], row + jitter, c=rank, cmap="coolwarm", s=5, alpha=0.7, vmin=0, vmax=1, linewidths=0
        )
    ax.set_yticks(range(len(order)), [f"{names[j]}  ({mean_abs[j]:.3f})" for j in order], fontsize=7)
    ax.axvline(0, color="k", lw=0.7)
    ax.set_xlabel("SHAP contribution to the prediction (TreeSHAP)")
    ax.set_title(title)
    cb = fig.colorbar(sc, ax=ax, pad=0.01)
    cb.set_label("feature value (rank in sample)")
    fig.tight_layout()
    return save_figure(fig, path)


def wilkinson_plot(inv_tg_m: np.ndarray, ea: np.ndarray, mobile_ion: np.ndarray, path) -> tuple[Path, dict]:
    """Ea against 1/(Tg m) with Wilkinson et al. (2020)'s proportionality Ea = k/(Tg m),
    k fitted through the origin (least squares) on the rows shown."""
    x, y = np.asarray(inv_tg_m, dtype=float), np.asarray(ea, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y, ion = x[ok], y[ok], np.asarray(mobile_ion)[ok]
    k = float((x * y).sum() / (x * x).sum())
    rho = float(pd.Series(x).corr(pd.Series(y), method="spearman"))
    fig, ax = plt.subplots(figsize=(6.5, 5))
    scale = 1e5
    for name in pd.Series(ion).value_counts().index[:6]:
        sel = ion == name
        ax.scatter(x[sel] * scale, y[sel], s=5, alpha=0.5, label=f"{name} ({sel.sum()})")
    grid = np.linspace(0, x.max(), 50)
    ax.plot(grid * scale, k * grid, "k-", lw=1.5, label=f"Ea = k/(Tg m), k = {k:.0f} eV K")
    ax.set_xlabel("1/(Tg m)  / 10$^{-5}$ K$^{-1}$  (Tg, m from NCE's property sub-models)")
    ax.set_ylabel("measured Ea / eV")
    ax.set_title(f"Wilkinson et al. 2020 relaxation term: Spearman rho {rho:.2f} (n={len(x)})")
    ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    return save_figure(fig, path), {"k_eV_K": k, "spearman": rho, "n": int(len(x))}


def campaign_plot(rounds: pd.DataFrame, latest: pd.DataFrame, path, value: str = "log10_sigma25") -> Path:
    """Active-learning progress: the latest batch with its intervals, and per round the best
    predicted suggestion and the best measured value so far."""
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.3, 1]})
    order = np.arange(len(latest))
    y = latest[value].to_numpy(dtype=float)
    lo, hi = (latest.get(f"{value}_lo"), latest.get(f"{value}_hi"))
    if lo is not None and hi is not None:
        ax0.errorbar(
            order, y, yerr=np.vstack([y - lo.to_numpy(dtype=float), hi.to_numpy(dtype=float) - y]), fmt="o", capsize=3
        )
    else:
        ax0.plot(order, y, "o")
    dom = (
        latest["in_domain"].astype(str).str.lower().isin(("true", "1")).to_numpy()
        if "in_domain" in latest
        else np.ones(len(latest), bool)
    )
    ax0.scatter(order[~dom], y[~dom], marker="x", color="red", s=60, zorder=3, label="outside the domain")
    ax0.set_xticks(order, latest["composition"].astype(str), rotation=60, ha="right", fontsize=7)
    ax0.set_ylabel(f"{value} (90 % interval)")
    ax0.set_title("latest batch of suggestions")
    if (~dom).any():
        ax0.legend(fontsize=7)
    ax1.plot(rounds["round"], rounds["best_predicted"], "o-", label="best suggested (predicted)")
    if rounds["best_measured"].notna().any():
        ax1.plot(rounds["round"], rounds["best_measured"], "s-", label="best measured so far")
    ax1.set_xlabel("round (suggest runs of this space, oldest first)")
    ax1.set_ylabel(value)
    ax1.set_xticks(rounds["round"])
    ax1.set_title("campaign progress")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


# --- explain ---------------------------------------------------------------------------------


def waterfall(panels: list[dict], path, top: int = 12) -> Path:
    """One waterfall per target: base value, the largest contributions, the rest, prediction.

    Each panel: ``target``, ``base`` (expected value), ``contribs`` (Series by feature),
    ``values`` (feature values), ``prediction``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5 * len(panels), 0.38 * (top + 3) + 1.5), squeeze=False)
    for ax, p in zip(axes[0], panels):
        c = p["contribs"]
        idx = c.abs().sort_values(ascending=False).index
        shown, rest = list(idx[:top]), c[idx[top:]].sum()
        labels, deltas = [], []
        for name in shown:
            v = p["values"].get(name, np.nan)
            labels.append(f"{name} = {v:.3g}" if isinstance(v, (float, int, np.floating)) and np.isfinite(v) else name)
            deltas.append(float(c[name]))
        labels.append(f"{len(idx) - len(shown)} other features")
        deltas.append(float(rest))
        start = p["base"]
        y = np.arange(len(deltas))[::-1]
        for yi, d in zip(y, deltas):
            ax.barh(yi, d, left=start, color="tab:red" if d > 0 else "tab:blue", height=0.7)
            ax.text(
                start + d,
                yi,
                f" {d:+.3f}" if d >= 0 else f"{d:+.3f} ",
                va="center",
                ha="left" if d >= 0 else "right",
                fontsize=7,
            )
            start += d
        ax.axvline(p["base"], color="0.5", ls=":", lw=1)
        ax.axvline(start, color="k", lw=1)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xlabel(f"{UNITS.get(p['target'], p['target'])}")
        ax.set_title(f"{p['target']}: base {p['base']:.3f} -> prediction {start:.3f}", fontsize=9)
        lo, hi = (
            min(p["base"], start, *(p["base"] + np.cumsum(deltas))),
            max(p["base"], start, *(p["base"] + np.cumsum(deltas))),
        )
        pad = 0.25 * (hi - lo or 1.0)
        ax.set_xlim(lo - pad, hi + pad)
    fig.suptitle(panels[0].get("title", ""), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


# --- maps ------------------------------------------------------------------------------------


def binary_map(
    grid: pd.DataFrame, measured: pd.DataFrame, components: list[str], metric: str, value_label: str, path
) -> Path:
    """Line plot along the join A-B: prediction with the 90 % band, measured glasses, the
    out-of-domain stretches hatched; the interval width in a second panel."""
    x = grid["x"].to_numpy()
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    ax0.fill_between(x, grid["lo"], grid["hi"], color="tab:blue", alpha=0.25, label="90 % interval")
    ax0.plot(x, grid["value"], color="tab:blue", lw=2, label="prediction")
    if len(measured):
        ax0.scatter(
            measured["x"], measured["value"], s=14, color="k", zorder=3, label=f"measured ({len(measured)} glasses)"
        )
    out = ~grid["in_domain"].to_numpy(dtype=bool)
    step = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    labelled = False
    for ax in (ax0, ax1):
        for a, b in _runs(out):
            ax.axvspan(
                x[a] - step,
                x[b] + step,
                facecolor="none",
                edgecolor="0.6",
                hatch="//",
                lw=0,
                label=None if labelled or ax is ax1 else "outside the applicability domain",
            )
            labelled = labelled or ax is ax0
    ax0.set_ylabel(value_label)
    ax0.legend(fontsize=8)
    ax0.set_title(f"{components[0]}-{components[1]}: {value_label}")
    ax1.plot(x, grid["hi"] - grid["lo"], color="tab:purple", lw=2)
    ax1.set_ylabel("90 % interval width")
    ax1.set_xlabel(f"mol % {components[0]} (rest {components[1]})")
    ax1.set_xlim(x.min(), x.max())
    fig.tight_layout()
    return save_figure(fig, path)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        if not m and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def barycentric_to_xy(fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corners: component 0 at the bottom left, 1 bottom right, 2 at the top."""
    f = np.asarray(fractions, dtype=float)
    f = f / f.sum(axis=1, keepdims=True)
    return f[:, 1] + 0.5 * f[:, 2], f[:, 2] * np.sqrt(3) / 2


def _triangle_axes(ax, components: list[str]) -> None:
    h = np.sqrt(3) / 2
    ax.plot([0, 1, 0.5, 0], [0, 0, h, 0], color="k", lw=1.2)
    for t in np.arange(0.2, 1.0, 0.2):  # grid lines of constant fraction, with tick labels
        for i in range(3):
            a = np.zeros((2, 3))
            a[:, i] = t
            j, k = [m for m in range(3) if m != i]
            a[0, j], a[1, k] = 1 - t, 1 - t
            xs, ys = barycentric_to_xy(a)
            ax.plot(xs, ys, color="0.75", lw=0.5, zorder=1)
        x0, y0 = barycentric_to_xy(np.array([[1 - t, t, 0.0]]))
        ax.text(x0[0], y0[0] - 0.035, f"{t * 100:.0f}", ha="center", va="top", fontsize=7, color="0.3")
        x1, y1 = barycentric_to_xy(np.array([[0.0, 1 - t, t]]))
        ax.text(x1[0] + 0.02, y1[0], f"{t * 100:.0f}", ha="left", va="center", fontsize=7, color="0.3")
        x2, y2 = barycentric_to_xy(np.array([[t, 0.0, 1 - t]]))
        ax.text(x2[0] - 0.02, y2[0], f"{t * 100:.0f}", ha="right", va="center", fontsize=7, color="0.3")
    ax.text(0.5, -0.085, f"mol % {components[1]} \u2192", ha="center", va="top", fontsize=8)
    ax.text(0.83, h / 2 + 0.045, f"\u2190 mol % {components[2]}", ha="center", va="center", rotation=-60, fontsize=8)
    ax.text(0.17, h / 2 + 0.045, f"\u2190 mol % {components[0]}", ha="center", va="center", rotation=60, fontsize=8)
    ax.text(-0.03, -0.03, components[0], ha="right", va="top", fontsize=10, weight="bold")
    ax.text(1.03, -0.03, components[1], ha="left", va="top", fontsize=10, weight="bold")
    ax.text(0.5, h + 0.03, components[2], ha="center", va="bottom", fontsize=10, weight="bold")
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.13, h + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")


def ternary_map(
    grid: pd.DataFrame, measured: pd.DataFrame, components: list[str], metric: str, value_label: str, path
) -> Path:
    """Heat map on the composition triangle (mol %), a second panel with the interval width;
    the applicability domain outlined (solid line) and the part outside it hatched."""
    import matplotlib.tri as mtri

    xs, ys = barycentric_to_xy(grid[components].to_numpy())
    tri = mtri.Triangulation(xs, ys)
    inside = grid["in_domain"].to_numpy(dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.8))
    value = grid["value"].to_numpy(dtype=float)
    vmin, vmax = np.nanmin(value), np.nanmax(value)
    if len(measured):
        vmin, vmax = min(vmin, np.nanmin(measured["value"])), max(vmax, np.nanmax(measured["value"]))
    panels = (
        (axes[0], value, "viridis" if metric == "sigma" else "viridis_r", value_label, (vmin, vmax)),
        (axes[1], (grid["hi"] - grid["lo"]).to_numpy(dtype=float), "magma_r", "90 % interval width", (None, None)),
    )
    for ax, z, cmap, label, (lo, hi) in panels:
        from matplotlib.ticker import MaxNLocator

        a, b = (lo if lo is not None else np.nanmin(z)), (hi if hi is not None else np.nanmax(z))
        if a == b:
            a, b = a - 0.5, b + 0.5
        levels = MaxNLocator(nbins=20).tick_values(a, b)
        cf = ax.tricontourf(tri, z, levels=levels, cmap=cmap)
        cb = fig.colorbar(cf, ax=ax, shrink=0.8, pad=0.02)
        cb.set_label(label)
        if 0 < inside.sum() < len(inside):
            ax.tricontourf(tri, inside, levels=[-0.5, 0.5], colors="none", hatches=["///"])
            ax.tricontour(tri, inside, levels=[0.5], colors="w", linewidths=2.2)
            ax.tricontour(tri, inside, levels=[0.5], colors="k", linewidths=1.0, linestyles="--")
        elif inside.sum() == 0:
            ax.tricontourf(tri, inside, levels=[-0.5, 0.5], colors="none", hatches=["///"])
        if ax is axes[0] and len(measured):
            mx, my = barycentric_to_xy(measured[components].to_numpy())
            ax.scatter(
                mx,
                my,
                c=measured["value"],
                cmap=cmap,
                vmin=levels[0],
                vmax=levels[-1],
                s=36,
                edgecolors="k",
                linewidths=1.2,
                zorder=4,
            )
        _triangle_axes(ax, components)
    n_in = int(inside.sum())
    axes[0].set_title(
        f"{'-'.join(components)}: {value_label} (mol %)\n"
        f"dots: {len(measured)} measured glasses, same colour scale\n"
        "hatched, dashed outline: outside the applicability domain "
        f"({len(inside) - n_in} of {len(inside)} grid points)",
        fontsize=9,
    )
    axes[1].set_title("width of the 90 % interval (same domain outline)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
