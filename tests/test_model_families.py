"""A second regressor family plugs in by one setting: train, evaluate, tune, save, load, predict.

scikit-learn's HistGradientBoosting (``--params '{"backend": "sklearn"}'``, the constructor
argument ``BoostedRegressor(backend="sklearn")``) goes the whole way through the product,
and ``regressor__max_depth`` is an ordinary scikit-learn parameter of the served model.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from conftest import SMALL_FEATURIZER, SMALL_MODEL, nce_env, run_nce
from sklearn.base import clone

from nce.models import io
from nce.models.conformal import BoostedRegressor
from nce.models.nce_model import NCEModel
from nce.pipelines.evaluate import run_evaluation
from nce.pipelines.tune import tune

HGB = {**SMALL_MODEL, "backend": "sklearn"}


def test_nce_model_is_a_scikit_learn_estimator(small_model_dir):
    model = io.load(small_model_dir)
    params = model.get_params()
    assert {
        "featurizer",
        "regressor",
        "domain",
        "uncertainty",
        "processing",
        "regressor__max_depth",
        "featurizer__physics",
    } <= set(params)
    other = clone(model).set_params(regressor__max_depth=3, regressor__backend="sklearn")
    assert other.regressor.max_depth == 3 and model.regressor.max_depth != 3
    assert not hasattr(other, "models_")  # a clone is unfitted
    assert isinstance(other.regressor, BoostedRegressor)


def test_the_sklearn_family_end_to_end_on_the_command_line(tmp_path, measurements_csv):
    """train -> registered model (saved without pickle) -> nce predict, with one --params key."""
    store = tmp_path / "mlruns"
    env = nce_env(store)
    train = [
        "train",
        "--extra-data",
        measurements_csv,
        "--only-extra",
        "--params",
        json.dumps(HGB),
        "--no-cv",
        "--featurizer-params",
        json.dumps(SMALL_FEATURIZER),
        "--quiet",
        "--output",
        str(tmp_path / "hgb"),
    ]
    r = run_nce(*train, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    saved = json.loads((tmp_path / "hgb" / "regressors" / "log10_sigma25" / "model.json").read_text())
    assert saved["params"]["backend"] == "sklearn"
    assert (tmp_path / "hgb" / "regressors" / "log10_sigma25" / "models.skops").is_file()
    assert not list((tmp_path / "hgb" / "regressors").rglob("*.ubj"))  # skops files, not xgboost's
    out = tmp_path / "pred.csv"
    r = run_nce("predict", "70Li2S-30P2S5", "Li2.9PO3.3N0.46", "--output", out, "--quiet", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    pred = pd.read_csv(out)
    assert np.isfinite(pred["log10_sigma25"]).all()
    assert (pred["log10_sigma25_lo"] <= pred["log10_sigma25"]).all() and (
        pred["log10_sigma25"] <= pred["log10_sigma25_hi"]
    ).all()
    loaded = io.load(tmp_path / "hgb", expect=NCEModel)
    assert loaded.regressor.backend == "sklearn"
    direct = loaded.predict_table(pd.DataFrame({"composition": ["70Li2S-30P2S5"]}))
    assert direct["log10_sigma25"].iloc[0] == pred["log10_sigma25"].iloc[0]


def test_the_sklearn_family_in_evaluate_and_tune(tmp_path, monkeypatch):
    monkeypatch.setenv("NCE_MLRUNS_DIR", str(tmp_path / "mlruns"))  # its own store: other tests count runs
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = run_evaluation(
        ("publication",),
        models=["nce_xgb", "nce_sklearn_hgb", "random_forest"],
        max_rows=700,
        model_params=SMALL_MODEL,
        featurizer_params=SMALL_FEATURIZER,
    )
    summary = result["summary"].query("slice == 'all' and target == 'log10_sigma25'").set_index("model")
    assert set(summary.index) == {"nce_xgb", "nce_sklearn_hgb", "random_forest"}
    assert summary.loc["nce_sklearn_hgb", "n"] == summary.loc["nce_xgb", "n"] == summary.loc["random_forest", "n"]
    assert 0.5 < summary.loc["nce_sklearn_hgb", "coverage"] <= 1.0
    tuned = tune(
        n_trials=1,
        study_name="hgb",
        storage=f"sqlite:///{tmp_path / 'o.db'}",
        featurizer_params=SMALL_FEATURIZER,
        max_rows=700,
        params={"backend": "sklearn", "n_jobs": 1},
    )
    assert tuned["best_params"]["backend"] == "sklearn"
    assert np.isfinite(tuned["held_out_fold_mae"])
