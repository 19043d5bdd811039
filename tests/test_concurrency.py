"""Concurrency (issue 8): two ``nce predict`` processes and an ``nce train`` at once on one
local MLflow store (SQLite backend + artifact folder) leave it readable and consistent."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import nce_command, nce_env, small_train_args

from nce.models import io
from nce.models.nce_model import NCEModel
from nce.pipelines.predict import predict_frame
from nce.pipelines.tracking import CHAMPION_ALIAS, EXPERIMENT, REGISTERED_MODEL

COMPOSITIONS = [
    "70Li2S-30P2S5",
    "Li3PS4",
    "80(0.7Li2S-0.3P2S5)-20LiI",
    "50Li2O-50SiO2",
    "Li2.9PO3.3N0.46",
    "Xx2O",
    "33LiI-67Li3PS4",
]


def _model_of(client, version: str) -> NCEModel:
    """The registered version's NCE model, read straight from the store's artifact folder."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    location = client.get_model_version_download_uri(REGISTERED_MODEL, version)  # a path or a file: URI
    folder = Path(url2pathname(urlparse(location).path)) if location.startswith("file:") else Path(location)
    return io.load(folder / "artifacts" / "nce_model")


def test_two_predicts_and_a_train_at_once_leave_the_store_consistent(champion_store, measurements_csv, tmp_path):
    import mlflow

    uri = f"sqlite:///{champion_store / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    before = {v.version for v in client.search_model_versions(f"name = '{REGISTERED_MODEL}'")}
    known_runs = {r.info.run_id for r in client.search_runs([experiment])}

    inp = tmp_path / "candidates.csv"
    frame = pd.DataFrame(
        {"composition": COMPOSITIONS * 10, "temperature_C": np.linspace(-20, 300, 10 * len(COMPOSITIONS))}
    )
    frame.to_csv(inp, index=False)
    expected = predict_frame(_model_of(client, champion.version), pd.read_csv(inp, dtype=str, keep_default_na=False))

    env = nce_env(champion_store)
    train = subprocess.Popen(
        nce_command(*small_train_args(measurements_csv)),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    rounds, outputs = 0, []
    while rounds < 4 and (rounds < 2 or train.poll() is None):  # keep predicting while the train writes
        batch = []
        for k in range(2):
            out = tmp_path / f"out_{rounds}_{k}.csv"
            batch.append(
                (
                    out,
                    subprocess.Popen(
                        nce_command("predict", "--input", inp, "--output", out, "--quiet"),
                        env=env,
                        cwd=tmp_path,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
        for out, p in batch:
            stdout, stderr = p.communicate(timeout=300)
            assert p.returncode == 0, stderr[-3000:]
            outputs.append(out)
        rounds += 1
        time.sleep(0.5)
    stdout, stderr = train.communicate(timeout=600)
    assert train.returncode == 0, stderr[-3000:]
    assert "(champion kept: it scores better)" in stdout  # --no-cv: the alias does not move

    for out in outputs:  # every prediction is the champion's, row for row
        got = pd.read_csv(out, keep_default_na=False, na_values=[""])
        assert len(got) == len(frame) and got["error"].fillna("").tolist() == expected["error"].tolist()
        for col in ("log10_sigma25", "log10_sigma25_hi", "Ea_eV", "log10_sigma_T"):
            np.testing.assert_allclose(
                got[col].to_numpy(dtype=float), expected[col].to_numpy(dtype=float), rtol=1e-9, equal_nan=True
            )

    with sqlite3.connect(champion_store / "mlflow.db") as db:  # the SQLite file itself
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runs = client.search_runs([experiment])
    new = [r for r in runs if r.info.run_id not in known_runs]
    assert len(new) == 1 and new[0].info.status == "FINISHED" and new[0].data.tags["data_hash"]
    assert all(
        client.get_run(r.info.run_id).info.status in ("FINISHED", "RUNNING") for r in runs
    )  # RUNNING: a killed train
    versions = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    assert len(versions) == len(before) + 1 and all(v.status == "READY" for v in versions)
    assert client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS).version == champion.version
    for v in versions:  # every registered model is whole: its run exists and its files pass their checksums
        assert client.get_run(v.run_id).info.status == "FINISHED"
        model = _model_of(client, v.version)
        assert np.isfinite(predict_frame(model, frame.head(3))["log10_sigma25"]).all()
