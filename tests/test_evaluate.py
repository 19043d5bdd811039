"""nce evaluate's core: out-of-fold predictions per protocol and model, summarized by slice."""

import numpy as np

from nce.data.datasets import load_conductivity
from nce.data.schema import element_columns
from nce.pipelines.evaluate import cross_validate, default_specs, summarize


def test_cross_validation_scores_every_model_and_beats_the_mean():
    frame = load_conductivity().sample(600, random_state=0).reset_index(drop=True)
    atoms = frame[element_columns(frame)]
    sets = {"atoms": atoms, "nce": atoms, "nce_no_physics": atoms}
    specs = [s for s in default_specs({"n_estimators": 20, "n_jobs": 1}) if s.name in ("mean", "ridge", "nce_xgb")]
    oof = cross_validate(frame, sets, specs, protocols=("publication",))
    assert set(oof["model"]) == {"mean", "ridge", "nce_xgb"}
    summary = summarize(oof, frame).query("slice == 'all'").set_index(["target", "model"])
    for target in ("log10_sigma25", "Ea_eV"):
        assert summary.loc[(target, "nce_xgb"), "mae"] < summary.loc[(target, "mean"), "mae"]
        assert 0.7 < summary.loc[(target, "nce_xgb"), "coverage"] <= 1.0
        assert np.isnan(summary.loc[(target, "mean"), "coverage"])
