"""Processing changes predictions through the offset model; a heated sulfide glass-ceramic
gains most at an intermediate temperature; processed quantiles match their interval; a user's
processed rows move their own system; unknown processing is wide and out of domain; the model
round-trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nce.cli import app
from nce.models import io
from nce.models.processing import offset_features
from nce.pipelines.predict import _model_rows, _row_errors, load_packaged_model, predict_frame
from nce.pipelines.train import processing_rows


@pytest.fixture(scope="module")
def processing_model(tmp_path_factory):
    """The packaged model with its offsets refitted on the literature rows (as built): the
    small test model's bias on sulfides would sit in its offsets."""
    model = load_packaged_model().fit_processing(processing_rows())
    return io.save(model, tmp_path_factory.mktemp("processing") / "nce_model")


def _query(**processing):
    return pd.DataFrame([{"composition": "70Li2S-30P2S5", **processing}])


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input rows (atomic fractions, processing columns) as ``nce predict`` builds them."""
    frame = frame.reset_index(drop=True)
    parsed, errors, processing = _row_errors(frame)
    return _model_rows(parsed, np.array([not e for e in errors]), processing)


def test_glass_ceramic_and_milling_change_the_prediction(processing_model):
    model = io.load(processing_model)
    glass = predict_frame(model, _query()).iloc[0]
    ceramic = predict_frame(model, _query(state="glass_ceramic", heat_treatment_C=300.0)).iloc[0]
    milled = predict_frame(model, _query(route="ball_mill", state="amorphous")).iloc[0]
    # sulfide glass-ceramics sit above their glasses: 70Li2S-30P2S5 from ~1e-4 S/cm (SciGlass)
    # to 4.1e-3 (Minami 2008, Li7P3S11 precipitated), the largest gain of the literature table
    # (~2 decades); 2.5 decades is the bound
    assert glass["log10_sigma25"] + 0.3 < ceramic["log10_sigma25"] < glass["log10_sigma25"] + 2.5
    # a milled amorphous Li2S-P2S5 conducts like the melt-quenched glass: the table's as-milled
    # 78Li2S (Shibutani) has 1.2e-4 S/cm, the SciGlass 65-70 % Li2S glasses ~1e-4
    assert abs(milled["log10_sigma25"] - glass["log10_sigma25"]) < 1.0
    # Ea is the glass model's for every processing (the literature gives too few Ea to learn offsets)
    assert ceramic["Ea_eV"] == pytest.approx(glass["Ea_eV"])


def test_processed_interval_is_the_glass_interval_moved_and_widened_by_the_offset_only(processing_model):
    model = io.load(processing_model)
    glass = predict_frame(model, _query()).iloc[0]
    query = _query(state="glass_ceramic", heat_treatment_C=300.0)
    ceramic = predict_frame(model, query).iloc[0]
    offset = model.processing_
    X = offset_features(query, [glass["Tg_K"]], [1.0])
    mean, std = offset.predict(X, return_std=True)
    spread = 1.6448536269514722 * std[0]
    below, above = (
        glass["log10_sigma25"] - glass["log10_sigma25_lo"],
        glass["log10_sigma25_hi"] - glass["log10_sigma25"],
    )
    assert ceramic["log10_sigma25"] == pytest.approx(min(glass["log10_sigma25"] + mean[0], 0.0))
    lower = ceramic["log10_sigma25"] - ceramic["log10_sigma25_lo"]
    assert lower == pytest.approx(offset.interval_scale_ * np.hypot(below, spread))
    upper = offset.interval_scale_ * np.hypot(above, spread)
    assert ceramic["log10_sigma25_hi"] == pytest.approx(min(ceramic["log10_sigma25"] + upper, 0.0))


def test_processed_quantiles_match_the_processed_interval(processing_model):
    """nce suggest reads the quantiles: for a processed row they are the glass's distribution
    moved onto the processed interval (0.05 and 0.95 are its bounds, the median near its centre)."""
    model = io.load(processing_model)
    frame = pd.concat([_query(), _query(state="glass_ceramic", heat_treatment_C=300.0), _query(route="ball_mill")])
    table = model.predict_table(_rows(frame), levels=(0.05, 0.25, 0.5, 0.75, 0.95))
    np.testing.assert_allclose(table["log10_sigma25_q0.05"], table["log10_sigma25_lo"], atol=1e-9)
    np.testing.assert_allclose(table["log10_sigma25_q0.95"], table["log10_sigma25_hi"], atol=1e-9)
    q = table[[f"log10_sigma25_q{p:g}" for p in (0.05, 0.25, 0.5, 0.75, 0.95)]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (np.abs(table["log10_sigma25_q0.5"] - table["log10_sigma25"]) < 0.5).all()


def test_heated_sulfide_glass_ceramic_gains_most_at_an_intermediate_temperature(processing_model):
    """Issue 21's target: the gain of 70Li2S-30P2S5 glass-ceramic over its glass rises with the
    heat-treatment temperature up to a maximum and falls beyond it (Li7P3S11 precipitates above
    Tg and decomposes when over-heated); outside the literature rows' range a warning says so."""
    model = io.load(processing_model)
    temperatures_C = np.arange(150.0, 701.0, 25.0)
    frame = pd.DataFrame({"composition": "70Li2S-30P2S5", "state": "glass_ceramic", "heat_treatment_C": temperatures_C})
    ceramic = predict_frame(model, frame)
    glass = predict_frame(model, _query()).iloc[0]
    gain = (ceramic["log10_sigma25"] - glass["log10_sigma25"]).to_numpy()
    top = int(np.argmax(gain))
    assert 0 < top < len(gain) - 1 and gain[top] > 0.3
    assert (np.diff(gain[: top + 1]) >= -1e-9).all() and (np.diff(gain[top:]) <= 1e-9).all()
    assert gain[top] - gain[-1] > 0.3 and gain[0] < gain[top] - 0.3
    Tg_C = glass["Tg_K"] - 273.15
    assert Tg_C < temperatures_C[top] < Tg_C + 400  # the maximum sits above the glass transition
    low, high = model.processing_.heat_treatment_range_K_
    above_Tg_K = temperatures_C + 273.15 - glass["Tg_K"]
    outside = (above_Tg_K > high + 30) | (above_Tg_K < low - 30)
    assert outside.any() and ceramic["warning"][outside].str.contains("heat treatment").all()
    assert not ceramic["in_domain"][outside].any()


def test_unseen_processing_is_out_of_domain_and_wide(processing_model):
    model = io.load(processing_model)
    glass = predict_frame(model, _query()).iloc[0]
    sputtered_ceramic = predict_frame(
        model, _query(route="sputter", state="glass_ceramic", heat_treatment_C=500.0)
    ).iloc[0]
    crystal = predict_frame(model, _query(route="other", state="crystalline")).iloc[0]
    assert not sputtered_ceramic["in_domain"] and not crystal["in_domain"]  # no training rows of either kind
    # no crystalline row teaches the offset: its coefficient keeps the prior's spread, so the
    # lower side (the upper stops at 1 S/cm) is at least a decade wider than the glass's
    below = lambda r: r["log10_sigma25"] - r["log10_sigma25_lo"]  # noqa: E731
    assert below(crystal) > below(glass) + 1.0


def test_saved_processing_model_predicts_the_same(processing_model):
    fitted = load_packaged_model().fit_processing(processing_rows())
    q = _query(state="glass_ceramic", heat_treatment_C=300.0)
    np.testing.assert_allclose(
        predict_frame(io.load(processing_model), q)["log10_sigma25"],
        predict_frame(fitted, q)["log10_sigma25"],
        atol=1e-9,
    )


def test_users_glass_ceramic_rows_move_their_system(small_model_dir, tmp_path):
    """A lab's Na3SbS4-type glass-ceramics, two decades above NCE: the model follows them."""
    base = io.load(small_model_dir).fit_processing(processing_rows())
    system = [f"{x}Na2S-{100 - x}Sb2S3" for x in (60, 62, 64, 66, 68)]
    query = pd.DataFrame({"composition": ["65Na2S-35Sb2S3"], "state": ["glass_ceramic"], "heat_treatment_C": [280.0]})
    before = predict_frame(base, query).iloc[0]
    target = before["log10_sigma25"] + 2.0
    path = tmp_path / "lab.csv"
    pd.DataFrame(
        {
            "composition": system,
            "state": "glass_ceramic",
            "heat_treatment_C": 280.0,
            "temperature_C": 25.0,
            "sigma_S_cm": 10.0**target,
            "citation": "our lab 2026",
        }
    ).to_csv(path, index=False)
    after = predict_frame(io.load(small_model_dir).fit_processing(processing_rows(path)), query).iloc[0]
    assert abs(after["log10_sigma25"] - target) < abs(before["log10_sigma25"] - target) - 0.5


def test_cli_predict_with_processing_flags(processing_model, tmp_path):
    """The CLI flags reach the offset model: the glass-ceramic is above its glass, by a
    literature-sized gain, and equals the library's prediction for the same row."""
    runner = CliRunner()
    args = ["predict", "70Li2S-30P2S5", "--model", str(processing_model), "--quiet", "--output"]
    glass = runner.invoke(app, [*args, str(tmp_path / "glass.csv")])
    ceramic = runner.invoke(
        app, [*args, str(tmp_path / "ceramic.csv"), "--state", "glass_ceramic", "--heat-treatment-C", "300"]
    )
    assert glass.exit_code == 0 and ceramic.exit_code == 0, glass.output + ceramic.output
    g = pd.read_csv(tmp_path / "glass.csv").iloc[0]
    c = pd.read_csv(tmp_path / "ceramic.csv").iloc[0]
    assert g["log10_sigma25"] + 0.3 < c["log10_sigma25"] < g["log10_sigma25"] + 2.5
    assert c.get("state") == "glass_ceramic" and c.get("heat_treatment_C") == 300  # the flags reached the row
    assert c["log10_sigma25_lo"] < c["log10_sigma25"] < c["log10_sigma25_hi"] <= 0.0  # never above 1 S/cm
    library = predict_frame(io.load(processing_model), _query(state="glass_ceramic", heat_treatment_C=300.0)).iloc[0]
    assert c["log10_sigma25"] == pytest.approx(library["log10_sigma25"], abs=1e-6)
