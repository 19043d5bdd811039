"""nce evaluate's core: out-of-fold predictions per protocol and model, summarized by slice."""

import numpy as np

from nce.data.datasets import load_conductivity
from nce.models.baselines import plain_models
from nce.models.conformal import ConformalGBMRegressor
from nce.models.featurizer import GlassFeaturizer
from nce.models.nce_model import NCEModel
from nce.pipelines.evaluate import cross_validate, summarize

SMALL = {"max_rows_per_table": 300, "submodel_params": {"n_estimators": 15}, "n_folds": 3, "n_jobs": 1}


def test_cross_validation_scores_every_model_and_beats_the_mean():
    frame = load_conductivity(training=True).sample(600, random_state=0).reset_index(drop=True)
    nce = NCEModel(GlassFeaturizer(**SMALL), ConformalGBMRegressor(n_estimators=20, n_jobs=1))
    models = {
        "mean": plain_models()["mean"],
        "ridge": plain_models()["ridge"],
        "nce_xgb": nce,
        "nce_no_physics": NCEModel(
            GlassFeaturizer(**SMALL, physics=False), ConformalGBMRegressor(n_estimators=20, n_jobs=1)
        ),
    }
    oof = cross_validate(frame, models, protocols=("publication",))
    assert set(oof["model"]) == set(models)
    summary = summarize(oof, frame).query("slice == 'all'").set_index(["target", "model"])
    for target in ("log10_sigma25", "Ea_eV"):
        assert summary.loc[(target, "nce_xgb"), "mae"] < summary.loc[(target, "mean"), "mae"]
        assert 0.7 < summary.loc[(target, "nce_xgb"), "coverage"] <= 1.0
        assert np.isnan(summary.loc[(target, "mean"), "coverage"])
    # every model is scored on the same rows
    counts = oof.groupby(["target", "model"]).size().unstack()
    assert (counts.nunique(axis=1) == 1).all()
