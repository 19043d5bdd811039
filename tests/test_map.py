"""nce map: binary and ternary figures, the measured glasses of a system, the domain, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import assert_png
from typer.testing import CliRunner

from nce.cli import app
from nce.pipelines.maps import composition_grid, measured_in_system, parse_system, run_map


def scatter_of(ax):
    """The one scatter (the measured glasses) of an axes."""
    from matplotlib.collections import PathCollection

    (dots,) = [c for c in ax.collections if type(c) is PathCollection]
    return dots


@pytest.mark.parametrize(
    "text, message",
    [
        ("Li2S", "needs 2 or 3 components"),
        ("Li2S-P2S5-LiI-GeS2", "has 4"),
        ("Li2S-Xx2O", "component 'Xx2O'"),
        ("70Li2S-30P2S5", "bare formula"),
        ("Li2S-Li2S", "repeat"),
    ],
)
def test_bad_systems_are_one_line_errors(text, message, tmp_path):
    result = CliRunner().invoke(app, ["map", text, "--model", str(tmp_path), "--quiet"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "options, message",
    [
        (["--metric", "conductivity"], "unknown metric"),
        (["--temperature-C", "-300"], "--temperature-C -300"),
        (["--step", "3"], "--step must divide 100"),
        (["--output", "/nonexistent-folder/m.png"], "output folder does not exist"),
    ],
)
def test_bad_map_options_fail_before_the_model_loads(options, message, tmp_path):
    result = CliRunner().invoke(app, ["map", "Li2S-P2S5", *options, "--model", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_grid_covers_the_simplex():
    g2 = composition_grid(["A", "B"], 1.0)
    assert len(g2) == 101 and np.allclose(g2.sum(axis=1), 100)
    g3 = composition_grid(["A", "B", "C"], 5.0)
    assert len(g3) == 21 * 22 // 2 and np.allclose(g3.sum(axis=1), 100) and (g3.to_numpy() >= 0).all()
    assert ((g3 == 100).sum(axis=1) == 1).sum() == 3  # the three corners


def test_measured_glasses_lie_in_the_span_of_the_components():
    li_ps = measured_in_system(parse_system("Li2S-P2S5"))
    assert len(li_ps) >= 8
    assert np.allclose(li_ps[["Li2S", "P2S5"]].sum(axis=1), 100)
    assert ((li_ps["Li2S"] > 65) & (li_ps["Li2S"] < 71)).sum() >= 6  # the 67Li2S-33P2S5 region
    near = li_ps[(li_ps["Li2S"] - 66.67).abs() < 0.01]
    assert len(near) == 1 and abs(near["log10_sigma25"].iloc[0] + 3.99) < 0.01  # 33.33P2S5-66.67Li2S, KOD 27353
    assert not li_ps["composition"].str.contains("O|Ge|Si|I").any()  # nothing outside the system
    ternary = measured_in_system(parse_system("Li2S-P2S5-LiI"))
    assert len(ternary) > len(li_ps) and (ternary["LiI"] > 1).any()


def test_binary_map_cli_writes_the_figure_and_reports_the_numbers(small_model_dir, tmp_path, drawn):
    """The figure shows the numbers the CLI reports: 101 predicted points peaking at the printed
    maximum, the measured glasses, and hatching over exactly the points outside the domain."""
    out = tmp_path / "li2o_sio2.png"
    result = CliRunner().invoke(app, ["map", "Li2O-SiO2", "--model", small_model_dir, "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    m = re.search(r"(\d+) compositions of Li2O-SiO2, (\d+) in the domain, (\d+) measured glasses", result.output)
    assert m and int(m.group(1)) == 101 and 0 < int(m.group(2)) <= 101 and int(m.group(3)) >= 50
    n_in, n_measured = int(m.group(2)), int(m.group(3))
    best = re.search(r"highest predicted log10 sigma [^:]*: (-?\d+\.\d\d) \[", result.output)
    assert best, result.output

    assert_png(out)
    (fig,) = drawn
    ax, width_ax = fig.axes
    assert ax.get_ylabel() == "log10 sigma / S cm$^{-1}$ at 25 °C" and ax.get_title().startswith("Li2O-SiO2")
    assert width_ax.get_xlabel() == "mol % Li2O (rest SiO2)" and "interval width" in width_ax.get_ylabel()
    (line,) = ax.lines  # the prediction along the join
    x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
    np.testing.assert_allclose(x, np.arange(101))
    assert f"{y.max():.2f}" == best.group(1)  # the curve peaks at the printed maximum
    assert (np.asarray(width_ax.lines[0].get_ydata()) > 0).all()
    dots = scatter_of(ax).get_offsets()
    assert len(dots) == n_measured and (dots[:, 0] >= 0).all() and (dots[:, 0] <= 100).all()
    assert ((dots[:, 1] > -20) & (dots[:, 1] < -1.5)).all()  # the curated log10 sigma25 range
    covered = np.zeros(len(x), dtype=bool)  # grid points under a hatched span
    for span in ax.patches:
        xs = ax.transData.inverted().transform(span.get_verts())[:, 0]
        covered |= (x >= xs.min()) & (x <= xs.max())
    assert covered.sum() == 101 - n_in


def test_ternary_map_values_band_and_temperature(small_model_dir, tmp_path, drawn):
    res = run_map("Li2S-P2S5-LiI", output=tmp_path / "t.png", model_uri=small_model_dir, step=5.0)
    grid, measured = res["grid"], res["measured"]
    assert (
        len(grid) == 231 and (grid["lo"] <= grid["value"] + 1e-9).all() and (grid["value"] <= grid["hi"] + 1e-9).all()
    )
    assert grid["in_domain"].dtype == bool and len(measured) >= 15
    # the heat map: titled with the counts it shows, measured dots on the prediction's colour scale
    assert_png(tmp_path / "t.png")
    fig = drawn[0]
    heat, width, *colorbars = fig.axes
    n_out = int((~grid["in_domain"]).sum())
    assert f"dots: {len(measured)} measured glasses" in heat.get_title()
    assert f"({n_out} of 231 grid points)" in heat.get_title()
    assert [cb.get_ylabel() for cb in colorbars] == [res["label"], "90 % interval width"]
    assert "width of the 90 % interval" in width.get_title()
    from matplotlib.contour import ContourSet

    filled = next(c for c in heat.collections if isinstance(c, ContourSet) and c.filled and len(c.levels) > 2)
    dots = scatter_of(heat)
    np.testing.assert_allclose(dots.get_array(), measured["value"])
    vmin, vmax = dots.norm.vmin, dots.norm.vmax
    assert (filled.norm.vmin, filled.norm.vmax) == pytest.approx((vmin, vmax))
    shown = np.concatenate([grid["value"], measured["value"]])
    assert vmin <= shown.min() and vmax >= shown.max() and vmax - vmin < 1.25 * np.ptp(shown)
    hot = run_map("Li2S-P2S5-LiI", temperature_C=150, output=tmp_path / "t150.png", model_uri=small_model_dir, step=5.0)
    assert "150 °C" in hot["label"] and drawn[1].axes[2].get_ylabel() == hot["label"]
    hot = hot["grid"]
    assert (hot["value"].to_numpy() >= grid["value"].to_numpy() - 1e-9).all()  # Ea >= 0: warmer conducts better
    assert (hot["value"] > grid["value"] + 0.3).mean() > 0.9
    ea = run_map("Li2S-P2S5", metric="Ea", output=tmp_path / "ea.png", model_uri=small_model_dir, step=5.0)
    assert len(ea["grid"]) == 21 and ea["grid"]["value"].between(0, 3).all()
    assert ea["measured"]["value"].between(0, 3).all()
    # the Ea line plot draws the Ea grid and the measured Ea, on an Ea axis
    assert_png(tmp_path / "ea.png")
    ax = drawn[2].axes[0]
    assert ax.get_ylabel() == "Ea / eV"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), ea["grid"]["Li2S"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ea["grid"]["value"])
    np.testing.assert_allclose(scatter_of(ax).get_offsets()[:, 1], ea["measured"]["value"])
