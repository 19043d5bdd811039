"""nce explain: TreeSHAP contributions add up to the prediction; the table and the waterfall."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import assert_png
from typer.testing import CliRunner

from nce.cli import app
from nce.pipelines.explain import explain, top_table
from nce.pipelines.predict import load_model, predict_frame


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


def test_explain_cli_table_and_waterfall(small_model_dir, tmp_path, drawn):
    """The waterfall shows what the table prints: per target the same top-5 contributions
    and the rest, chained from the base value to the printed prediction."""
    out = tmp_path / "w.png"
    result = CliRunner().invoke(
        app,
        [
            "explain",
            "80(0.7Li2S-0.3P2S5)-20LiI",
            "--model",
            small_model_dir,
            "--top",
            "5",
            "--output",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "56Li2S-24P2S5-20LiI: log10_sigma25 =" in result.output and "Ea_eV =" in result.output
    rest = re.findall(r"(\d+) other features", result.output)
    assert len(rest) == 2 and all(int(n) > 50 for n in rest)
    shap_column = re.findall(r"([+-]\d+\.\d{3}) \u2502\n", result.output)  # the tables' last column
    assert len(shap_column) == 2 * 6

    assert_png(out)
    (fig,) = drawn
    assert fig.get_suptitle().startswith("56Li2S-24P2S5-20LiI")
    units = {"log10_sigma25": "S cm", "Ea_eV": "eV"}
    for i, (ax, target) in enumerate(zip(fig.axes, ("log10_sigma25", "Ea_eV"))):
        base, end = map(float, re.fullmatch(rf"{target}: base (\S+) -> prediction (\S+)", ax.get_title()).groups())
        printed = float(re.search(rf"{target} = (-?\d+\.\d+)", result.output).group(1))
        assert end == pytest.approx(printed, abs=1.5e-3)  # the waterfall ends at the printed prediction
        assert units[target] in ax.get_xlabel()
        bars = ax.patches
        assert [f"{b.get_width():+.3f}" for b in bars] == shap_column[6 * i : 6 * (i + 1)]
        assert abs(bars[0].get_x() - base) < 1e-3  # from the base value ...
        for before, after in zip(bars, bars[1:]):  # ... each bar starting where the last ended ...
            assert after.get_x() == pytest.approx(before.get_x() + before.get_width(), abs=1e-9)
        assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(end, abs=1.5e-3)  # ... to the prediction
        assert [t.get_text() for t in ax.get_yticklabels()][-1] == f"{rest[i]} other features"


def test_explain_bad_composition_is_one_line_error(small_model_dir, tmp_path):
    result = CliRunner().invoke(
        app, ["explain", "Xx2O-P2S5", "--model", small_model_dir, "--output", str(tmp_path / "w.png"), "--quiet"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "w.png").exists()
