"""nce explain: TreeSHAP contributions add up to the prediction; the table and the waterfall."""

from __future__ import annotations

import re
import struct

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from nce.cli import app
from nce.pipelines.explain import explain, top_table
from nce.pipelines.predict import load_model, predict_frame


def png_size(path) -> tuple[int, int]:
    data = open(path, "rb").read(32)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_contributions_sum_to_the_prediction(small_model_dir):
    model = load_model(small_model_dir)
    result = explain(model, "70Li2S-30P2S5")
    pred = predict_frame(model, pd.DataFrame({"composition": ["70Li2S-30P2S5"]})).iloc[0]
    for target, t in result["targets"].items():
        assert abs(t["base"] + t["contribs"].sum() - t["point"]) < 1e-6
        assert abs(t["point"] - pred[target]) < 1e-3  # melt-quenched glass: no processing offset
        assert len(t["contribs"]) == len(model.feature_names_)
        assert np.count_nonzero(t["contribs"].to_numpy()) >= 5
    table = top_table(result, "log10_sigma25", top=5)
    assert len(table) == 5 and table["shap"].abs().is_monotonic_decreasing


def test_explain_cli_table_and_waterfall(small_model_dir, tmp_path):
    out = tmp_path / "w.png"
    result = CliRunner().invoke(app, ["explain", "80(0.7Li2S-0.3P2S5)-20LiI", "--model", small_model_dir, "--top", "5", "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "56Li2S-24P2S5-20LiI: log10_sigma25 =" in result.output and "Ea_eV =" in result.output
    rest = re.findall(r"(\d+) other features", result.output)
    assert len(rest) == 2 and all(int(n) > 50 for n in rest)
    width, height = png_size(out)
    assert width == 1650 and abs(height - round((0.38 * 8 + 1.5) * 110)) <= 1


def test_explain_bad_composition_is_one_line_error(small_model_dir, tmp_path):
    result = CliRunner().invoke(app, ["explain", "Xx2O-P2S5", "--model", small_model_dir, "--output", str(tmp_path / "w.png"), "--quiet"])
    assert result.exit_code == 2 and "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "w.png").exists()
