"""Shared fixtures: a private MLflow store and a small, quickly trained NCE model."""

from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers share the machine's two cores: one OpenMP / BLAS thread per worker and per
    # nce subprocess it starts (they inherit the environment), or scikit-learn's histogram
    # boosting and BLAS each start one thread per core in both workers and the workers spend
    # their time waiting on each other. Explicit xgboost ``n_jobs`` settings are kept.
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np
import pandas as pd
import pytest

#: Sub-models and boosters shrunk so the pipeline tests run in seconds, not minutes.
SMALL_FEATURIZER = {"max_rows_per_table": 1500, "submodel_params": {"n_estimators": 25}, "n_jobs": 1}
SMALL_MODEL = {"n_estimators": 40, "learning_rate": 0.15, "n_jobs": 1}


#: Files that take minutes (a full train as the README writes it, evaluation refits, several
#: CLI trains): collected first, so the two workers (pyproject.toml) start them early and
#: finish together instead of one running the longest file alone at the end.
SLOW_FILES = (
    "test_readme_lab.py",
    "test_model_families.py",
    "test_evaluate.py",
    "test_concurrency.py",
    "test_train.py",
    "test_data.py",
)


def pytest_collection_modifyitems(items):
    """Slow files first, slowest first (stable: the order within files and among the others is kept)."""
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    """Point NCE's MLflow at a private sqlite store for the whole session."""
    store = tmp_path_factory.mktemp("mlruns")
    mp = pytest.MonkeyPatch()
    mp.setenv("NCE_MLRUNS_DIR", str(store))
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield store
    mp.undo()


@pytest.fixture(scope="session")
def measurements_csv(tmp_path_factory) -> str:
    """400 SciGlass glasses written as a user's measurement file (the --extra-data schema)."""
    from nce.data.datasets import load_conductivity
    from nce.featurize import parse_many

    cond = load_conductivity()
    cond = cond[cond["sigma25_source"] == "interpolated"].sample(n=900, random_state=1)
    ok = [not isinstance(p, Exception) and bool(p.components) for p in parse_many(cond["composition"].tolist())]
    rows = cond[ok].head(400)
    path = tmp_path_factory.mktemp("extra") / "measurements.csv"
    pd.DataFrame(
        {
            "composition": rows["composition"].to_numpy(),
            "temperature_C": 25.0,
            "sigma_S_cm": 10 ** rows["log10_sigma25"].to_numpy(),
            "Ea_eV": rows["Ea_eV"].to_numpy(),
            "citation": [f"KOD {k}" for k in rows["KOD"]],
        }
    ).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory):
    """A small NCE model trained on a SciGlass subset, saved as a folder: the production path
    (``make_model``, property sub-models from the cache) with small settings."""
    from nce.models import io
    from nce.pipelines.train import make_model, training_frame

    frame, _ = training_frame()
    frame = frame.sample(n=2500, random_state=0).reset_index(drop=True)
    model = make_model(SMALL_MODEL, featurizer_params=SMALL_FEATURIZER).fit(frame)
    return io.save(model, tmp_path_factory.mktemp("model") / "nce_model")


@pytest.fixture()
def drawn(monkeypatch):
    """The matplotlib figures written during the test, captured as drawn (at savefig)."""
    from matplotlib.figure import Figure

    figures, savefig = [], Figure.savefig

    def record(self, *args, **kwargs):
        figures.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


def assert_png(path) -> None:
    """A PNG file that PIL decodes in full and that is not blank."""
    from PIL import Image

    with Image.open(path) as image:
        image.verify()  # raises on a truncated or corrupt file
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert np.asarray(image.convert("L")).std() > 0, f"{path} is blank"


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- nce in subprocesses


def nce_command(*args) -> list[str]:
    """The ``nce`` command line as a subprocess of this interpreter."""
    import sys

    return [sys.executable, "-m", "nce.cli", *map(str, args)]


def run_nce(*args, env: dict, cwd, timeout: float = 600):
    """Run ``nce ARGS`` as a subprocess; returns the completed process (text output)."""
    import subprocess

    return subprocess.run(nce_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def nce_env(store, **extra) -> dict:
    """Environment of an ``nce`` subprocess on its own MLflow store (never the repository's
    ``mlruns/``); ``extra`` adds variables (e.g. ``MLFLOW_TRACKING_URI``)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update({"NCE_MLRUNS_DIR": str(store), "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def small_train_args(measurements_csv: str, *more) -> list[str]:
    """``nce train`` on the 400 measurement rows with small boosters and sub-models (~20 s)."""
    import json

    return [
        "train",
        "--extra-data",
        measurements_csv,
        "--only-extra",
        "--params",
        json.dumps(SMALL_MODEL),
        "--no-cv",
        "--featurizer-params",
        json.dumps(SMALL_FEATURIZER),
        "--quiet",
        *more,
    ]


@pytest.fixture(scope="session")
def champion_store(tmp_path_factory, measurements_csv):
    """A private MLflow store holding a small model registered as the champion by ``nce train``."""
    import subprocess

    store = tmp_path_factory.mktemp("champion") / "mlruns"
    r = subprocess.run(
        nce_command(*small_train_args(measurements_csv)),
        env=nce_env(store),
        cwd=store.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "-> alias champion" in r.stdout, r.stdout
    return store
