"""nce evaluate's core: out-of-fold predictions per protocol and model, summarized by slice."""

import numpy as np
import pandas as pd

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
    # the domain slices split every model's rows in two, by NCE's out-of-fold domain
    full = summarize(oof, frame).set_index(["target", "model", "slice"])
    for model in models:
        n = full.loc[("log10_sigma25", model, "all"), "n"]
        inside = full["n"].get(("log10_sigma25", model, "in NCE's domain"), 0)
        outside = full["n"].get(("log10_sigma25", model, "outside NCE's domain"), 0)
        assert inside + outside == n and inside > 0
    # every model is scored on the same rows
    counts = oof.groupby(["target", "model"]).size().unstack()
    assert (counts.nunique(axis=1) == 1).all()


def test_interval_score_by_hand():
    """Winkler's score at alpha = 0.1: the width, plus 20 times the miss distance."""
    from nce.pipelines.metrics import interval_score, regression_metrics

    y, lo, hi = np.array([0.0, -3.0, 2.5]), np.array([-1.0, -1.0, -1.0]), np.array([1.0, 1.0, 2.0])
    np.testing.assert_allclose(interval_score(y, lo, hi), [2.0, 2.0 + 20 * 2.0, 3.0 + 20 * 0.5])
    m = regression_metrics(y, np.zeros(3), lo, hi)
    assert m["coverage"] == 1 / 3 and m["median_width"] == 2.0 and m["interval_score"] == (2 + 42 + 13) / 3


def test_conditional_slices_follow_the_reference_domain():
    """Inside/outside the domain and novelty deciles are the reference model's, for every model."""
    frame = pd.DataFrame(
        {"mobile_ion": ["Li"] * 20, "sigma25_source": ["interpolated"] * 20, "anion_family": ["S"] * 20}
    )
    rows = np.arange(20)
    novelty = np.linspace(0.0, 1.9, 20)
    ref = pd.DataFrame(
        {
            "protocol": "publication",
            "target": "log10_sigma25",
            "model": "nce_xgb",
            "row": rows,
            "y": 0.0,
            "pred": 0.0,
            "lo": -1.0,
            "hi": 1.0,
            "novelty": novelty,
            "in_domain": (novelty <= 1.0).astype(float),
        }
    )
    plain = ref.assign(
        model="mean", pred=np.where(novelty > 1.0, 3.0, 0.0), lo=np.nan, hi=np.nan, novelty=np.nan, in_domain=np.nan
    )
    summary = summarize(pd.concat([ref, plain], ignore_index=True), frame).set_index(["model", "slice"])
    assert summary.loc[("mean", "in NCE's domain"), "n"] == 11 and summary.loc[("mean", "in NCE's domain"), "mae"] == 0
    assert summary.loc[("mean", "outside NCE's domain"), "mae"] == 3.0
    assert summary.loc[("nce_xgb", "novelty decile 10"), "n"] == 2
    assert (
        summary.loc[("mean", "novelty decile 1"), "mae"] == 0 and summary.loc[("mean", "novelty decile 10"), "mae"] == 3
    )
    assert summary.loc[("nce_xgb", "anion S"), "coverage"] == 1.0
