"""The served model's novelty, domain flag, warnings and quantile columns (the contract of
``nce predict``'s ``novelty``, ``in_domain`` and ``warning``; docs/design.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nce.models import io
from nce.models.nce_model import _stretch, quantile_column
from nce.pipelines.predict import predict_frame

GLASSES = ["70Li2S-30P2S5", "33Na2O-67SiO2", "50Li2O-50P2O5", "30Ag2S-70GeS2"]


@pytest.fixture(scope="module")
def model(small_model_dir):
    return io.load(small_model_dir)


def test_a_temperature_above_the_predicted_tg_is_out_of_domain_with_its_reason(model):
    table = predict_frame(model, pd.DataFrame({"composition": ["70Li2S-30P2S5"] * 2, "temperature_C": [25.0, 900.0]}))
    tg_C = table["Tg_K"].to_numpy() - 273.15
    assert 25.0 < tg_C[0] < 900.0  # a sulfide glass softens somewhere in between
    assert "Tg" not in table["warning"].iloc[0]
    assert "above the predicted Tg" in table["warning"].iloc[1] and not table["in_domain"].iloc[1]
    assert table["novelty"].iloc[0] == table["novelty"].iloc[1]  # the glass is the same glass


def test_in_domain_is_the_novelty_threshold_for_plain_glasses(model):
    table = predict_frame(model, pd.DataFrame({"composition": GLASSES}))
    novelty = table["novelty"].to_numpy(dtype=float)
    assert np.all(novelty > 0)
    np.testing.assert_array_equal(table["in_domain"].to_numpy(), novelty <= model.novelty_threshold_)
    for flag, warning in zip(table["in_domain"], table["warning"]):
        assert (warning == "") == flag
        assert flag or "unlike the glasses NCE has seen" in warning


def test_quantile_columns_are_the_distribution_behind_the_printed_interval(model):
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    table = predict_frame(model, pd.DataFrame({"composition": GLASSES}), levels=levels)
    for target in ("log10_sigma25", "Ea_eV"):
        q = table[[quantile_column(target, level) for level in levels]].to_numpy(dtype=float)
        assert np.all(np.diff(q, axis=1) >= 0)
        np.testing.assert_allclose(q[:, 0], table[f"{target}_lo"].to_numpy(dtype=float))
        np.testing.assert_allclose(q[:, -1], table[f"{target}_hi"].to_numpy(dtype=float))
    quantiles = model.predict_quantiles(pd.DataFrame({"composition": GLASSES}), levels)
    np.testing.assert_allclose(
        quantiles["Ea_eV"], table[[quantile_column("Ea_eV", level) for level in levels]].to_numpy(dtype=float)
    )


def test_stretch_moves_each_side_by_the_ratio_of_its_half_widths():
    old, new = (
        (np.array([-5.0]), np.array([-4.0]), np.array([-2.0])),
        (np.array([-4.0]), np.array([-3.0]), np.array([0.0])),
    )
    # below the point: half-width 1 -> 1; above: 2 -> 3
    assert _stretch(np.array([-4.5]), old, new)[0] == pytest.approx(-3.5)
    assert _stretch(np.array([-3.0]), old, new)[0] == pytest.approx(-1.5)
    assert _stretch(np.array([-2.0]), old, new)[0] == pytest.approx(0.0)
    assert _stretch(np.array([-5.0]), old, new)[0] == pytest.approx(-4.0)
