"""nce map: binary and ternary figures, the measured glasses of a system, the domain, bad input."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest
from typer.testing import CliRunner

from nce.cli import app
from nce.pipelines.maps import composition_grid, measured_in_system, parse_system, run_map


def png_size(path) -> tuple[int, int]:
    data = open(path, "rb").read(32)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("text, message", [
    ("Li2S", "needs 2 or 3 components"),
    ("Li2S-P2S5-LiI-GeS2", "has 4"),
    ("Li2S-Xx2O", "component 'Xx2O'"),
    ("70Li2S-30P2S5", "bare formula"),
    ("Li2S-Li2S", "repeat"),
])
def test_bad_systems_are_one_line_errors(text, message, tmp_path):
    result = CliRunner().invoke(app, ["map", text, "--model", str(tmp_path), "--quiet"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("options, message", [
    (["--metric", "conductivity"], "unknown metric"),
    (["--temperature-C", "-300"], "--temperature-C -300"),
    (["--step", "3"], "--step must divide 100"),
    (["--output", "/nonexistent-folder/m.png"], "output folder does not exist"),
])
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


def test_binary_map_cli_writes_the_figure_and_reports_the_numbers(small_model_dir, tmp_path):
    out = tmp_path / "li2o_sio2.png"
    result = CliRunner().invoke(app, ["map", "Li2O-SiO2", "--model", small_model_dir, "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert png_size(out) == (770, 770)
    m = re.search(r"(\d+) compositions of Li2O-SiO2, (\d+) in the domain, (\d+) measured glasses", result.output)
    assert m and int(m.group(1)) == 101 and 0 < int(m.group(2)) <= 101 and int(m.group(3)) >= 50
    assert "highest predicted log10 sigma" in result.output


def test_ternary_map_values_band_and_temperature(small_model_dir, tmp_path):
    res = run_map("Li2S-P2S5-LiI", output=tmp_path / "t.png", model_uri=small_model_dir, step=5.0)
    grid = res["grid"]
    assert png_size(tmp_path / "t.png") == (1430, 638)
    assert len(grid) == 231 and (grid["lo"] <= grid["value"] + 1e-9).all() and (grid["value"] <= grid["hi"] + 1e-9).all()
    assert grid["in_domain"].dtype == bool and len(res["measured"]) >= 15
    hot = run_map("Li2S-P2S5-LiI", temperature_C=150, output=tmp_path / "t150.png", model_uri=small_model_dir, step=5.0)["grid"]
    assert (hot["value"].to_numpy() >= grid["value"].to_numpy() - 1e-9).all()  # Ea >= 0: warmer conducts better
    assert (hot["value"] > grid["value"] + 0.3).mean() > 0.9
    ea = run_map("Li2S-P2S5", metric="Ea", output=tmp_path / "ea.png", model_uri=small_model_dir, step=5.0)
    assert png_size(tmp_path / "ea.png") == (770, 770)
    assert len(ea["grid"]) == 21 and ea["grid"]["value"].between(0, 3).all()
    assert ea["measured"]["value"].between(0, 3).all()
