"""The embedded literature set loads and validates; the processing offset model learns
offsets, stays at zero for the default glass and is wide where it has no data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nce.data.extra import ExtraDataError, measurement_rows
from nce.data.literature import LITERATURE_CSV, literature_summary, load_literature
from nce.data.schema import ROUTES, STATES
from nce.models import io
from nce.models.processing import OFFSET_FEATURES, ProcessingOffsetModel, offset_features


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
    """Glass-ceramics sit +1 decade above the glass, milled amorphous solids +0.3."""
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


@pytest.mark.parametrize("method", ["gp", "ridge"])
def test_offset_model_learns_state_offsets_and_leaves_the_glass_alone(method):
    frame, X, y = _synthetic()
    combos = (frame["route"] + "/" + frame["state"]).to_numpy()
    model = ProcessingOffsetModel(method).fit(X, y, route_state=combos)
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
    model = ProcessingOffsetModel("gp").fit(X, y, route_state=(frame["route"] + "/" + frame["state"]).to_numpy())
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
    assert list(X.columns) == list(OFFSET_FEATURES)
