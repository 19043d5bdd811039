"""nce tune: nested Optuna search that resumes its study, trials as MLflow child runs."""

from __future__ import annotations

import mlflow
import optuna
import pytest
from conftest import SMALL_FEATURIZER

from nce.pipelines.errors import UserError
from nce.pipelines.tune import open_storage, tune


def test_tune_resumes_the_same_study_and_logs_child_runs(mlflow_store, tmp_path):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    first = tune(n_trials=2, study_name="t", storage=storage, featurizer_params=SMALL_FEATURIZER, max_rows=1200)
    assert first["n_finished"] == 2
    second = tune(n_trials=3, study_name="t", storage=storage, featurizer_params=SMALL_FEATURIZER, max_rows=1200)
    assert second["n_finished"] == 3  # one more trial, not three
    study = optuna.load_study(study_name="t", storage=storage)
    assert len(study.trials) == 3
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="tags.mlflow.runName LIKE 'trial %'")
    assert len(runs) == 3 and runs["tags.mlflow.parentRunId"].notna().all()
    assert set(first["best_params"]) >= {"max_depth", "learning_rate", "loss"}


def test_journal_storage_for_parallel_workers(tmp_path):
    storage = open_storage(str(tmp_path / "study.journal"))
    study = optuna.create_study(study_name="j", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=2)
    assert len(optuna.load_study(study_name="j", storage=open_storage(str(tmp_path / "study.journal"))).trials) == 2


def test_bad_storage_is_a_user_error():
    with pytest.raises(UserError, match="RDB URL"):
        open_storage("not a url")


def test_a_trial_scores_what_the_whole_model_scores(small_model_dir):
    """The trial's point-only refits give out_of_fold's MAE of the whole NCE model."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from nce.models import io
    from nce.pipelines.train import training_frame
    from nce.pipelines.tune import _mae
    from nce.pipelines.validation import frozen_clone, out_of_fold

    model = io.load(small_model_dir)
    frame, _ = training_frame()
    frame = frame[frame["log10_sigma25"].notna()].sample(n=400, random_state=1).reset_index(drop=True)
    candidate = frozen_clone(model).set_params(regressor__n_estimators=30, regressor__max_depth=4)
    features = model.features(frame)  # any feature table will do: both sides read the same
    folds = list(GroupKFold(3).split(frame, groups=frame["KOD"]))
    oof = out_of_fold(candidate, frame, folds, ("log10_sigma25",), features=features)
    whole = float(np.abs(oof["log10_sigma25"] - frame["log10_sigma25"]).mean())
    assert _mae(candidate, frame, features, folds) == pytest.approx(whole, rel=1e-6)
