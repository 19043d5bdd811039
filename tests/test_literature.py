"""The embedded literature set loads and validates; the processing offset model learns
offsets, stays at zero for the default glass, is wide where it has no data, chooses its
method and inputs leaving one paper out, and calibrates its interval without double counting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nce.data.extra import ExtraDataError, measurement_rows
from nce.data.literature import LITERATURE_CSV, literature_summary, load_literature
from nce.data.schema import ROUTES, STATES
from nce.models import io
from nce.models.processing import (
    HT_DECLINE_ABOVE_TG_K,
    HT_DECLINE_WIDTH_K,
    OFFSET_FEATURES,
    ProcessingOffsetModel,
    conformal_quantile,
    default_processing,
    glass_rows_kept,
    heat_treatment_response,
    offset_features,
)


def test_every_literature_row_loads_with_a_citation_and_an_observation():
    raw = pd.read_csv(LITERATURE_CSV)
    data = load_literature()
    rows = data.rows
    # counts come from the CSV itself, so adding a cited row never breaks this test;
    # losing, duplicating or relabelling one does
    assert len(raw) > 0 and len(rows) == len(raw)  # no row dropped
    assert rows["route"].isin(ROUTES).all() and rows["state"].isin(STATES).all()
    assert rows["KOD"].str.startswith("literature:").all() and rows["citation"].notna().all()
    assert rows["log10_sigma_T"].notna().all()
    np.testing.assert_allclose(rows["log10_sigma_T"], np.log10(raw["sigma_S_cm"]), atol=1e-9)
    # rows measured away from 25 degC without Ea are sigma(T) observations, not sigma25
    away = (rows["temperature_C"] - 25).abs() > 5
    assert rows.loc[away & rows["Ea_eV"].isna(), "log10_sigma25"].isna().all()
    raw_away = ((raw["temperature_C"] - 25).abs() > 5) & raw["Ea_eV"].isna()
    assert len(data.skipped) == int((away & rows["Ea_eV"].isna()).sum()) == int(raw_away.sum())
    summary = literature_summary()
    assert summary["rows"] == len(raw) and summary["papers"] == raw["citation"].nunique()
    assert summary["by_state"] == raw["state"].value_counts().to_dict()
    assert summary["by_route"] == raw["route"].value_counts().to_dict()
    assert summary["by_confidence"] == raw["confidence"].value_counts().to_dict()


def test_minami_glass_ceramic_row():
    rows = load_literature().rows
    row = rows[(rows["composition"] == "70Li2S-30P2S5") & (rows["state"] == "glass_ceramic")].iloc[0]
    assert row["heat_treatment_C"] == 360 and row["log10_sigma25"] == pytest.approx(np.log10(0.0041))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": "molten"}, "row 2: unknown state 'molten'"),
        ({"route": "3d_print"}, "row 2: unknown route '3d_print'"),
        ({"sigma_S_cm": 50.0}, "row 2: sigma_S_cm 50 outside"),
        ({"temperature_C": 2500}, "row 2: temperature_C 2500 outside"),
        ({"Ea_eV": 7.0}, r"row 2: Ea_eV 7 outside \(0, 3\]"),
        ({"heat_treatment_C": "hot"}, "row 2: heat_treatment_C 'hot' is not a number"),
        ({"composition": "70Li2S-30Xx2S5"}, "row 2: .*Xx"),
    ],
)
def test_bad_rows_are_errors_naming_the_row(change, message):
    frame = pd.read_csv(LITERATURE_CSV).head(3)
    for column, value in change.items():
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = value
    with pytest.raises(ExtraDataError, match=message):
        measurement_rows(frame, "lit.csv", "literature")


def _synthetic(n_per_state=12, seed=0):
    """Glass-ceramics sit +1 decade above the glass (at 300 degC, 93 K above Tg, where the
    response has reached 0.90 of its full gain), milled amorphous solids +0.3."""
    rng = np.random.default_rng(seed)
    states = ["glass"] * n_per_state + ["glass_ceramic"] * n_per_state + ["amorphous"] * n_per_state
    frame = pd.DataFrame(
        {
            "route": ["melt_quench" if s != "amorphous" else "ball_mill" for s in states],
            "state": states,
            "heat_treatment_C": [np.nan if s != "glass_ceramic" else 300.0 for s in states],
        }
    )
    truth = np.select([frame["state"] == "glass_ceramic", frame["state"] == "amorphous"], [1.0, 0.3], 0.0)
    X = offset_features(frame, np.full(len(frame), 480.0), np.ones(len(frame)))
    return frame, X, truth + rng.normal(scale=0.1, size=len(frame))


def _combos(frame):
    return (frame["route"] + "/" + frame["state"]).to_numpy()


def test_heat_treatment_response_rises_peaks_and_falls_back_to_the_glass():
    dT = np.array([-50.0, 0.0, 40.0, 100.0, HT_DECLINE_ABOVE_TG_K, HT_DECLINE_ABOVE_TG_K + 50.0, 400.0])
    r = heat_treatment_response(dT)
    assert r[0] == 0.0 and r[1] == 0.0  # below Tg the glass stays a glass
    assert r[2] == pytest.approx(1 - np.exp(-1.0))  # one e-folding (HT_RISE_K = 40 K) above Tg
    rise = lambda t: 1 - np.exp(-t / 40.0)  # noqa: E731
    assert r[4] == pytest.approx(rise(HT_DECLINE_ABOVE_TG_K))
    assert r[5] == pytest.approx(rise(HT_DECLINE_ABOVE_TG_K + 50.0) - 50.0 / HT_DECLINE_WIDTH_K)
    assert r[6] == 0.0  # past decomposition: back to the glass, never below it
    grid = np.linspace(0, 400, 801)
    h = heat_treatment_response(grid)
    top = int(np.argmax(h))
    assert grid[top] == pytest.approx(HT_DECLINE_ABOVE_TG_K)
    assert (np.diff(h[: top + 1]) > 0).all() and (np.diff(h[top:]) <= 0).all()


def test_offset_inputs_follow_the_sulfide_share_and_the_heat_treatment():
    frame = pd.DataFrame(
        {
            "route": ["melt_quench"] * 4 + ["ball_mill"],
            "state": ["glass_ceramic"] * 3 + ["glass", "amorphous"],
            "heat_treatment_C": [300.0, 300.0, np.nan, 300.0, np.nan],
        }
    )
    X = offset_features(frame, np.full(5, 480.0), [1.0, 0.0, 1.0, 1.0, 1.0])
    r = heat_treatment_response(300 + 273.15 - 480.0)
    # sulfide glass-ceramic: its state column and the interaction carry the response
    assert X.loc[0, "state_glass_ceramic"] == pytest.approx(r) and X.loc[0, "ceramic_sulfide"] == pytest.approx(r)
    # oxide glass-ceramic: a plain shift, no interaction; without a temperature, the full gain
    assert X.loc[1, "state_glass_ceramic"] == 1.0 and X.loc[1, "ceramic_sulfide"] == 0.0
    assert X.loc[2, "state_glass_ceramic"] == 1.0 and X.loc[2, "ceramic_sulfide"] == 1.0
    # an annealed glass is the default glass; the heat column is a ceramic's only
    assert (X.loc[3, list(OFFSET_FEATURES)] == 0).all() and default_processing(frame).tolist() == [0, 0, 0, 1, 0]
    assert X["heat_treatment_above_Tg_K"].isna().tolist() == [False, False, True, True, True]
    assert X.loc[4, "route_ball_mill"] == 1.0 and X.loc[4, "state_amorphous"] == 1.0


@pytest.mark.parametrize("method", ["gp", "ridge"])
def test_offset_model_learns_state_offsets_and_leaves_the_glass_alone(method):
    frame, X, y = _synthetic()
    model = ProcessingOffsetModel(method, feature_set="state").fit(X, y, route_state=_combos(frame))
    query = pd.DataFrame(
        {
            "route": ["melt_quench", "melt_quench", "ball_mill"],
            "state": ["glass", "glass_ceramic", "amorphous"],
            "heat_treatment_C": [np.nan, 300.0, np.nan],
        }
    )
    mean, std = model.predict(offset_features(query, np.full(3, 480.0), np.ones(3)), return_std=True)
    assert mean[0] == 0.0 and std[0] == 0.0  # the default glass is never moved
    assert mean[1] == pytest.approx(1.0, abs=0.25) and mean[2] == pytest.approx(0.3, abs=0.25)
    assert model.in_domain(["melt_quench/glass_ceramic", "sputter/amorphous"]).tolist() == [True, False]


def test_gp_offset_is_uncertain_where_it_has_no_data_and_round_trips_json(tmp_path):
    frame, X, y = _synthetic()
    model = ProcessingOffsetModel("gp", feature_set="state").fit(X, y, route_state=_combos(frame))
    seen = offset_features(
        pd.DataFrame({"route": ["melt_quench"], "state": ["glass_ceramic"], "heat_treatment_C": [300.0]}),
        [480.0],
        [1.0],
    )
    unseen = offset_features(pd.DataFrame({"route": ["sputter"], "state": ["crystalline"]}), [480.0], [0.0])
    _, std_seen = model.predict(seen, return_std=True)
    _, std_unseen = model.predict(unseen, return_std=True)
    assert std_unseen[0] > 3 * std_seen[0]
    io.save(model, tmp_path / "p")
    loaded = io.load(tmp_path / "p")
    both = pd.concat([seen, unseen])
    np.testing.assert_allclose(loaded.predict(both, return_std=True), model.predict(both, return_std=True), atol=1e-9)
    assert loaded.interval_scale_ == model.interval_scale_ and loaded.method_ == "gp"
    assert list(X.columns)[: len(OFFSET_FEATURES)] == list(OFFSET_FEATURES)


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 20.0)  # 19 scores: rank ceil(20 * 0.9) = 18
    assert conformal_quantile(scores[::-1], 0.9) == 18.0
    assert conformal_quantile([0.5, 2.0, 1.0], 0.9) == 2.0  # too few for the rank: the largest
    assert conformal_quantile([], 0.9) == 1.0


def _papers(n_papers=40, seed=0, sigma=0.5, sulfide_gain=1.2, oxide_gain=-0.8):
    """Glass-ceramics, one or two per paper, half sulfide (+1.2 decades), half oxide (-0.8), each
    row off its offset by the lab-to-lab scatter sigma that the glass interval (+-1.645 sigma)
    already covers."""
    rng = np.random.default_rng(seed)
    n = 2 * n_papers
    frame = pd.DataFrame({"route": "melt_quench", "state": "glass_ceramic", "heat_treatment_C": np.nan}, index=range(n))
    sulfide = (np.arange(n) % 2).astype(float)
    X = offset_features(frame, np.full(n, 480.0), sulfide)
    y = np.where(sulfide == 1, sulfide_gain, oxide_gain) + rng.normal(scale=sigma, size=n)
    papers = np.repeat(np.arange(n_papers), 2)
    return frame, X, y, papers, np.full(n, 1.645 * sigma)


def test_the_interval_scale_is_fitted_on_held_out_papers_without_double_counting():
    """The glass interval already holds the scatter: calibrated on held-out papers, the scale
    stays near 1 (adding the scatter a second time, as before, would make it 1.4 times wider)
    and the interval covers about 90 % of new papers' rows."""
    frame, X, y, papers, half = _papers()
    model = ProcessingOffsetModel("ridge", feature_set="state_anion").fit(
        X, y, groups=papers, route_state=_combos(frame), base_below=half, base_above=half
    )
    assert len(model.calibration_scores_) == len(y)
    assert 0.8 < model.interval_scale_ < 1.3
    frame, X_new, y_new, _, half_new = _papers(n_papers=2000, seed=1)
    glass = np.zeros(len(y_new))
    center, lo, hi = model.processed(X_new, glass, half_new, half_new)
    coverage = np.mean((y_new >= lo) & (y_new <= hi))
    assert 0.85 < coverage < 0.96
    mean, std = model.predict(X_new, return_std=True)
    expected = model.interval_scale_ * np.sqrt(half_new**2 + (1.6448536269514722 * std) ** 2)
    np.testing.assert_allclose(hi - center, expected) and np.testing.assert_allclose(center - lo, expected)


def test_auto_chooses_by_held_out_papers_and_finds_opposite_ceramics():
    """Sulfide glass-ceramics gain, oxide ones lose: only the state x anion interaction can
    say so, and the leave-one-paper-out choice takes it."""
    frame, X, y, papers, half = _papers(sigma=0.3)
    model = ProcessingOffsetModel().fit(X, y, groups=papers, route_state=_combos(frame), base_below=half)
    assert set(model.selection_) == {"ridge/state", "gp/state", "ridge/state_anion", "gp/state_anion"}
    assert f"{model.method_}/{model.feature_set_}" == min(model.selection_, key=model.selection_.get)
    assert model.feature_set_ == "state_anion"
    oxide, sulfide = model.predict(X.iloc[:2])
    assert sulfide == pytest.approx(1.2, abs=0.3) and oxide == pytest.approx(-0.8, abs=0.3)


def test_rows_outside_the_glass_domain_calibrate_but_do_not_teach():
    frame, X, y, papers, half = _papers(sigma=0.3)
    learn = np.ones(len(y), dtype=bool)
    learn[:10] = False
    wild = y.copy()
    wild[:10] += 5.0  # rows NCE's glass model does not know: far off, and not learned from
    fitted = {}
    for name, target in (("trusted", y), ("scored", wild)):
        fitted[name] = ProcessingOffsetModel("ridge", feature_set="state_anion").fit(
            X, target, groups=papers, route_state=_combos(frame), base_below=half, base_above=half, learn=learn
        )
    trusted, scored = fitted["trusted"], fitted["scored"]
    np.testing.assert_allclose(scored.predict(X), trusted.predict(X))  # the offset learned nothing from them
    assert scored.interval_scale_ > trusted.interval_scale_  # but the interval knows they exist
    assert sum(trusted.combination_counts_.values()) == learn.sum()


def test_glass_rows_beyond_the_limit_are_thinned_at_evenly_spaced_ranks():
    # 7 glass rows (all-zero inputs) and 2 processed rows; a limit of 3 keeps the lowest,
    # the median and the highest glass residual, every processed row, and no unlearned row
    Xv = np.zeros((10, 2))
    Xv[7:9, 0] = 1.0
    y = np.array([5.0, -1.0, 3.0, 0.0, 2.0, 4.0, 1.0, 9.0, -9.0, 0.5])
    learn = np.ones(10, dtype=bool)
    learn[9] = False
    kept = glass_rows_kept(Xv, y, learn, limit=3)
    assert np.flatnonzero(kept).tolist() == [0, 1, 4, 7, 8]  # residuals 5 (top), -1 (bottom), 2 (median)
    assert glass_rows_kept(Xv, y, learn, limit=7) is learn
