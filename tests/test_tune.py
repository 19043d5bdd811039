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
