"""nce train: MLflow run, registration, champion alias, pyfunc from code, extra data."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_FEATURIZER, SMALL_MODEL

from nce.data.extra import ExtraDataError, load_extra
from nce.pipelines import tracking
from nce.pipelines.errors import UserError
from nce.pipelines.train import train


@pytest.fixture(scope="module")
def first_run(mlflow_store, measurements_csv):
    return train(extra_data=measurements_csv, only_extra=True, params=SMALL_MODEL, featurizer_params=SMALL_FEATURIZER)


def test_train_logs_a_complete_run_and_takes_the_champion_alias(first_run):
    client = mlflow.MlflowClient()
    run = client.get_run(first_run["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["data_hash"] == first_run["data_hash"]
    assert run.data.params["seed"] == "0"
    for key in ("cv_log10_sigma25_mae", "cv_log10_sigma25_coverage", "cv_Ea_eV_mae"):
        assert np.isfinite(run.data.metrics[key])
    artifacts = {a.path for a in client.list_artifacts(first_run["run_id"], "evaluation")}
    assert {
        "evaluation/parity_log10_sigma25.png",
        "evaluation/residuals_by_family_Ea_eV.png",
        "evaluation/importance_log10_sigma25.png",
    } <= artifacts
    assert first_run["champion"] and first_run["registered_version"] == 1
    champion = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION_ALIAS)
    assert champion.run_id == first_run["run_id"]
    assert len(run.inputs.dataset_inputs) == 1


def test_a_worse_model_does_not_take_the_champion_alias(first_run, measurements_csv):
    worse = train(
        extra_data=measurements_csv,
        only_extra=True,
        params={**SMALL_MODEL, "n_estimators": 1, "learning_rate": 0.01},
        featurizer_params=SMALL_FEATURIZER,
    )
    assert not worse["champion"] and worse["registered_version"] == 2
    champion = mlflow.MlflowClient().get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION_ALIAS)
    assert champion.run_id == first_run["run_id"]


def test_registered_pyfunc_loads_by_alias_and_predicts_the_contract(first_run):
    model = mlflow.pyfunc.load_model(f"models:/{tracking.REGISTERED_MODEL}@{tracking.CHAMPION_ALIAS}")
    out = model.predict(pd.DataFrame({"composition": ["70Li2S-30P2S5", "Xx2O"], "temperature_C": [25.0, 25.0]}))
    assert out.loc[0, "error"] == "" and np.isfinite(out.loc[0, "log10_sigma25"])
    assert out.loc[0, "log10_sigma25_lo"] <= out.loc[0, "log10_sigma25"] <= out.loc[0, "log10_sigma25_hi"]
    assert "unknown element" in out.loc[1, "error"] and np.isnan(out.loc[1, "log10_sigma25"])


def test_extra_data_rows_and_errors(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "composition": ["70Li2S-30P2S5", "75Li2S-25P2S5", "Li3PS4"],
            "temperature_C": [25, 100, 100],
            "sigma_S_cm": [1e-4, 1e-3, 1e-3],
            "Ea_eV": [np.nan, 0.35, np.nan],
            "state": ["glass", "glass_ceramic", "glass"],
        }
    ).to_csv(path, index=False)
    extra = load_extra(path)
    assert len(extra.rows) == 3 and extra.rows["log10_sigma25"].iloc[0] == pytest.approx(-4.0)
    # 1e-3 S/cm at 100 degC with Ea 0.35 eV, moved back to 25 degC
    shift = 0.35 / (np.log(10) * 8.617333262e-5) * (1 / 298.15 - 1 / 373.15)
    assert extra.rows["log10_sigma25"].iloc[1] == pytest.approx(-3.0 - shift)
    # sigma at 100 degC without Ea: a sigma(T) observation only, never a 25 degC value
    assert extra.skipped == [
        "row 4: sigma at 100 degC without Ea is kept as a sigma(T) observation, not a 25 degC target"
    ]
    assert np.isnan(extra.rows["log10_sigma25"].iloc[2]) and extra.rows["log10_sigma_T"].iloc[2] == pytest.approx(-3.0)
    assert extra.rows["temperature_C"].iloc[2] == 100
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"composition": ["70Li2S-30P2S5"], "temperature_C": [25], "sigma_S_cm": [1e-4], "state": ["melted"]}
    ).to_csv(bad, index=False)
    with pytest.raises(ExtraDataError, match="row 2: unknown state 'melted'"):
        load_extra(bad)


def test_only_extra_needs_a_file():
    with pytest.raises(UserError, match="--only-extra needs"):
        train(only_extra=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_serve_answers_rest_requests_with_the_same_numbers(first_run, mlflow_store):
    """`mlflow models serve` on loopback returns what the Python API returns."""
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from nce.pipelines.predict import load_model, predict_frame

    port = _free_port()
    bin_dir = os.path.dirname(sys.executable)  # the server execs uvicorn from the environment
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking.tracking_uri(),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    uri = f"models:/{tracking.REGISTERED_MODEL}@{tracking.CHAMPION_ALIAS}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            uri,
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stderr.read().decode()[-4000:])
                time.sleep(1)
        inputs = pd.DataFrame(
            {"composition": ["70Li2S-30P2S5", "Li2.9PO3.3N0.46", "Xx2O"], "temperature_C": [25.0, 80.0, 25.0]}
        )
        body = json.dumps({"dataframe_split": inputs.to_dict(orient="split")}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
        served = pd.DataFrame(answer["predictions"])
        local = predict_frame(load_model(uri), inputs)
        np.testing.assert_allclose(
            served["log10_sigma25"].astype(float).to_numpy()[:2], local["log10_sigma25"].to_numpy()[:2], rtol=1e-6
        )
        np.testing.assert_allclose(
            served["Ea_eV_hi"].astype(float).to_numpy()[:2], local["Ea_eV_hi"].to_numpy()[:2], rtol=1e-6
        )
        assert "unknown element" in served["error"].iloc[2]
    finally:
        server.terminate()
        server.wait(timeout=30)
