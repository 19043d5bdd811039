"""MLflow set-up: the local store keeps its database and its artifacts together."""

from __future__ import annotations

import mlflow

from nce.pipelines import tracking


def test_local_store_keeps_artifacts_beside_its_database(tmp_path, monkeypatch):
    monkeypatch.setenv("NCE_MLRUNS_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    experiment_id = tracking.setup()
    # MLflow's set_tracking_uri exports MLFLOW_TRACKING_URI; a second call must not mistake it for the user's
    assert tracking.setup() == experiment_id
    assert mlflow.get_experiment(experiment_id).artifact_location == (tmp_path / "store" / "artifacts").as_uri()
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("hello", "note.txt")
    assert (tmp_path / "store" / "artifacts" / run.info.run_id / "artifacts" / "note.txt").read_text() == "hello"
    assert not (tmp_path / "mlruns").exists()  # nothing in the working directory


def test_a_given_tracking_uri_is_used_as_is(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'team.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert tracking.tracking_uri() == uri
