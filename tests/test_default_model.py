"""The default model shipped with the package (issue 22): a first ``nce predict`` on a fresh
machine loads it without training and without MLflow; its files are checked; the user's own
``nce train`` takes precedence; commands that log MLflow runs register it without retraining."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import nce_command, nce_env, small_train_args

import nce.models
from nce.models import io
from nce.pipelines import tracking
from nce.pipelines.predict import load_model, load_packaged_model, predict_frame
from nce.pipelines.train import CHECK_PANEL, compare_models

README = ["70Li2S-30P2S5", "80(0.7Li2S-0.3P2S5)-20LiI", "Li2.9PO3.3N0.46"]
#: Runs ``nce`` in-process and reports on stderr which heavy modules the command imported.
PROBE = """
import atexit, sys
heavy = ("mlflow", "optuna", "matplotlib", "sqlalchemy", "alembic")
atexit.register(lambda: print("IMPORTED", *sorted(m for m in heavy if m in sys.modules), file=sys.stderr))
from nce.cli import app
app(sys.argv[1:], prog_name="nce")
"""


@pytest.fixture()
def packaged():
    return load_packaged_model()


@pytest.fixture()
def fresh_machine(tmp_path):
    """A fresh HOME (no ~/.cache/nce) and a working directory without ./mlruns."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NCE_", "MLFLOW_"))}
    env.update(HOME=str(home), MPLBACKEND="Agg")
    return home, work, env


def test_first_predict_on_a_fresh_machine_loads_the_packaged_model_without_mlflow(fresh_machine, packaged):
    home, work, env = fresh_machine
    out = work / "out.csv"
    args = ["predict", "--quiet", "--output", out, *README]
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    imported = next(line for line in r.stderr.splitlines() if line.startswith("IMPORTED")).split()[1:]
    assert imported == [], f"the predict path imported {imported}"
    assert not (work / "mlruns").exists()  # no MLflow store created
    assert not (home / ".cache" / "nce").exists()  # no property sub-models trained
    got = pd.read_csv(out, keep_default_na=False, na_values=[""])
    expected = predict_frame(packaged, pd.DataFrame({"composition": README}))
    assert (got["error"].fillna("") == "").all()
    for col in ("log10_sigma25", "log10_sigma25_lo", "Ea_eV_hi", "Tg_K"):
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), expected[col].to_numpy(dtype=float), rtol=1e-12)


def test_the_packaged_model_is_a_checked_model_file_of_this_version(packaged):
    meta = io.read_meta(nce.models.DEFAULT_MODEL_DIR)
    assert meta["class"] == "nce.models.nce_model.NCEModel" and meta["version"] == nce.__version__
    files = {p.relative_to(nce.models.DEFAULT_MODEL_DIR).as_posix() for p in nce.models.DEFAULT_MODEL_DIR.rglob("*")}
    assert not any("fold_" in f for f in files)  # the cross-fitting fold sub-models are never shipped
    assert packaged.processing_ is not None and packaged.n_train_ > 10_000
    table = predict_frame(packaged, CHECK_PANEL)
    assert (table["error"] == "").all() and table["log10_sigma25"].between(-12, 0).all()
    assert all(v == 0 for v in compare_models(packaged, packaged).values())


def test_a_tampered_packaged_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "default"
    shutil.copytree(nce.models.DEFAULT_MODEL_DIR, copy)
    target = copy / "regressors" / "log10_sigma25" / "point.ubj"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    monkeypatch.setattr(nce.models, "DEFAULT_MODEL_DIR", copy)
    monkeypatch.setenv("NCE_MLRUNS_DIR", str(tmp_path / "mlruns"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(io.ModelFileError, match="altered"):
        load_model(None)


def test_check_option_needs_default_model(tmp_path):
    r = subprocess.run(
        nce_command("train", "--check"), env=nce_env(tmp_path / "mlruns"), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2 and r.stderr.strip() == "error: --check goes with --default-model"
    r = subprocess.run(
        nce_command("train", "--default-model", "--no-cv"),
        env=nce_env(tmp_path / "mlruns"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "--no-cv" in r.stderr


def test_registering_the_packaged_model_keeps_it_packaged_and_a_users_train_takes_precedence(
    tmp_path, monkeypatch, measurements_csv, packaged
):
    import mlflow

    store = tmp_path / "mlruns"
    monkeypatch.setenv("NCE_MLRUNS_DIR", str(store))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.user_champion() is None

    # a command that logs MLflow runs anyway registers the packaged model as the champion, untrained
    model = load_model(None, register=True)
    assert model.data_hash_ == packaged.data_hash_
    client = mlflow.MlflowClient(tracking_uri=tracking.local_uri(), registry_uri=tracking.local_uri())
    champion = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION_ALIAS)
    assert str(champion.version) == "1" and tracking.PACKAGED_TAG in champion.tags
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # MLflow set it in this process
    assert tracking.user_champion() is None  # predict keeps loading the packaged folder directly

    # the user's own nce train (even without CV) replaces it as the champion
    r = subprocess.run(
        nce_command(*small_train_args(measurements_csv)),
        env=nce_env(store),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "registered nce-conductivity version 2 -> alias champion" in r.stdout
    assert tracking.user_champion() == "local"
    mine = load_model(None)
    assert mine.data_hash_ != packaged.data_hash_
    r = subprocess.run(
        nce_command("predict", "70Li2S-30P2S5", "--output", tmp_path / "p.csv", "--quiet"),
        env=nce_env(store),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    got = pd.read_csv(tmp_path / "p.csv")["log10_sigma25"].to_numpy()
    expected = predict_frame(mine, pd.DataFrame({"composition": ["70Li2S-30P2S5"]}))["log10_sigma25"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
