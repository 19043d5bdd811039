"""Interruptions (issue 8): SIGKILL mid-study, mid-fit and mid-write loses no finished work
and leaves no half-written state behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import SMALL_FEATURIZER, nce_command, nce_env, small_train_args

from nce.data import build
from nce.data.schema import PROCESSED_DIR, TABLES, read_manifest, table_path


def _wait_for(condition, timeout_s: float, process: subprocess.Popen, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the process ended (code {process.returncode}) before {what}: {process.stderr.read()[-3000:]}")
        time.sleep(0.3)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


# --------------------------------------------------------------------------- nce tune


def test_a_killed_study_keeps_its_finished_trials_and_resumes(tmp_path):
    import mlflow
    import optuna

    store = tmp_path / "mlruns"
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    args = nce_command(
        "tune",
        "--n-trials",
        3,
        "--study-name",
        "killed",
        "--storage",
        storage,
        "--max-rows",
        400,
        "--featurizer-params",
        json.dumps(SMALL_FEATURIZER),
        "--quiet",
    )

    def trials():
        try:
            return optuna.load_study(study_name="killed", storage=storage).get_trials(deepcopy=False)
        except Exception:  # the study or its tables do not exist yet
            return []

    def mid_study():
        states = [t.state for t in trials()]
        return states.count(optuna.trial.TrialState.COMPLETE) >= 1 and states[-1] == optuna.trial.TrialState.RUNNING

    worker = subprocess.Popen(
        args, env=nce_env(store), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for(mid_study, 240, worker, "a finished trial and a running one")
    _kill(worker)
    before = trials()
    done = {t.number: (t.params, t.value) for t in before if t.state == optuna.trial.TrialState.COMPLETE}
    killed = [t.number for t in before if t.state == optuna.trial.TrialState.RUNNING]
    assert done and killed

    r = subprocess.run(args, env=nce_env(store), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "killed: 3 finished trials" in r.stdout
    after = trials()
    complete = {t.number: (t.params, t.value) for t in after if t.state == optuna.trial.TrialState.COMPLETE}
    assert len(complete) == 3
    assert all(complete[n] == done[n] for n in done)  # the finished trials are kept as they were
    assert len(after) == len(before) + 3 - len(done)  # only the missing trials were run
    assert all(n not in complete for n in killed)  # the killed trial never counts as finished
    assert (
        json.loads((store / "best_params_killed.json").read_text())
        == optuna.load_study(study_name="killed", storage=storage).best_params
    )
    runs = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}").search_runs(
        [
            mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
            .get_experiment_by_name("nce")
            .experiment_id
        ],
        filter_string="tags.mlflow.runName = 'tune killed'",
    )
    assert sorted(run.info.status for run in runs) == ["FINISHED", "RUNNING"]  # the killed parent run is not FINISHED


# --------------------------------------------------------------------------- nce train


def test_a_killed_train_leaves_the_champion_and_its_run_unfinished(champion_store, measurements_csv, tmp_path):
    import mlflow

    from nce.pipelines.tracking import CHAMPION_ALIAS, REGISTERED_MODEL

    uri = f"sqlite:///{champion_store / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)  # not the process-wide registry of earlier tests
    experiment = client.get_experiment_by_name("nce").experiment_id
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    versions = {v.version for v in client.search_model_versions(f"name = '{REGISTERED_MODEL}'")}
    known = {r.info.run_id for r in client.search_runs([experiment])}

    def new_run():
        runs = [
            r
            for r in client.search_runs([experiment], filter_string="tags.mlflow.runName = 'train'")
            if r.info.run_id not in known
        ]
        return runs[0] if runs else None

    # a new champion would be registered at the end: kill it while it fits (the run exists, no model yet)
    train = subprocess.Popen(
        nce_command(*small_train_args(measurements_csv)),
        env=nce_env(champion_store),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = _wait_for(new_run, 240, train, "the train run to start")
    time.sleep(1.0)  # into featurizing and fitting
    _kill(train)
    assert client.get_run(run.info.run_id).info.status == "RUNNING"  # not FINISHED: MLflow shows it as unfinished
    assert not client.list_artifacts(run.info.run_id, "evaluation")  # killed before the fit was done
    assert client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS).version == champion.version
    assert {v.version for v in client.search_model_versions(f"name = '{REGISTERED_MODEL}'")} == versions
    # and the store still serves the champion
    r = subprocess.run(
        nce_command("predict", "70Li2S-30P2S5", "--quiet"),
        env=nce_env(champion_store),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and "70Li2S-30P2S5" in r.stdout, r.stderr[-2000:]


# --------------------------------------------------------------------------- nce data build


@pytest.fixture()
def processed_copy(tmp_path):
    """A copy of the shipped tables to build into (the repository's data/processed is never written)."""
    import shutil

    folder = tmp_path / "processed"
    shutil.copytree(PROCESSED_DIR, folder)
    return folder


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _changed_tables():
    """Small stand-ins for rebuilt tables (what a rebuild with other data writes)."""
    return {name: pd.DataFrame({"KOD": [1, 2], "table": [name, "rebuilt"]}) for name in TABLES}


def test_a_failure_while_writing_leaves_the_shipped_tables_intact(processed_copy, monkeypatch):
    shipped = _snapshot(processed_copy)
    tables = _changed_tables()
    real_fdopen, calls = os.fdopen, []

    class FullDisk:
        """A file that takes half of what it is given, then fails like a full disk."""

        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

    def failing_fdopen(fd, mode="r", *args, **kwargs):
        fh = real_fdopen(fd, mode, *args, **kwargs)
        calls.append(fd)
        return FullDisk(fh) if len(calls) == 4 else fh  # the fourth of six files fails half-way

    monkeypatch.setattr(build.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError, match="No space left"):
        build.write_tables(tables, build.CurationLog(), directory=processed_copy)
    assert _snapshot(processed_copy) == shipped  # every file byte for byte, no temporary file left
    monkeypatch.setattr(build.os, "fdopen", real_fdopen)
    manifest = build.write_tables(tables, build.CurationLog(), directory=processed_copy)  # the retry completes
    assert all(manifest["tables"][n]["rows"] == len(tables[n]) for n in TABLES)
    assert {p.name for p in processed_copy.iterdir()} == set(shipped)


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from nce.data import build
import pandas as pd
from nce.data.schema import TABLES
folder = Path(sys.argv[1])
tables = {name: pd.DataFrame({"KOD": [1, 2], "table": [name, "rebuilt"]}) for name in TABLES}
real_fdopen, calls = os.fdopen, []
class Slow:
    def __init__(self, fh): self.fh = fh
    def __enter__(self): return self
    def __exit__(self, *exc): self.fh.close()
    def write(self, data):
        self.fh.write(data[: len(data) // 2]); self.fh.flush()
        print("half written", flush=True)
        time.sleep(600)
    def flush(self): self.fh.flush()
    def fileno(self): return self.fh.fileno()
def fdopen(fd, mode="r", *a, **k):
    calls.append(fd)
    fh = real_fdopen(fd, mode, *a, **k)
    return Slow(fh) if len(calls) == 3 else fh
build.os.fdopen = fdopen
build.write_tables(tables, build.CurationLog(), directory=folder)
"""


def test_a_killed_build_leaves_the_shipped_tables_intact_and_the_next_build_cleans_up(processed_copy, tmp_path):
    shipped = _snapshot(processed_copy)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(processed_copy)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "half written", writer.stderr.read()[-3000:]
    _kill(writer)
    leftovers = [p for p in processed_copy.iterdir() if p.name not in shipped]
    assert leftovers and all(p.name.startswith(".nce-build-") and p.suffix == ".tmp" for p in leftovers)
    assert {name: (processed_copy / name).read_bytes() for name in shipped} == shipped  # untouched
    tables = _changed_tables()
    build.write_tables(tables, build.CurationLog(), directory=processed_copy)  # the next build
    assert {p.name for p in processed_copy.iterdir()} == set(shipped)  # stale temporary files removed
    assert read_manifest(processed_copy)["tables"]["conductivity"]["rows"] == 2
    assert table_path("conductivity", processed_copy).read_bytes() != shipped["conductivity.csv.gz"]


# --------------------------------------------------------------------------- nce predict --output


def test_a_killed_predict_leaves_the_previous_output_whole(small_model_dir, tmp_path):
    """SIGKILL while streaming chunks: the old output file stays as it was (the new one is
    only renamed over it when complete)."""
    inp = tmp_path / "many.csv"
    pd.DataFrame({"composition": ["70Li2S-30P2S5", "Li3PS4", "50Li2O-50SiO2", "Xx2O"] * 100_000}).to_csv(
        inp, index=False
    )
    out = tmp_path / "out.csv"
    out.write_text("composition,log10_sigma25\n70Li2S-30P2S5,-4.0\n")
    previous = out.read_bytes()
    predict = subprocess.Popen(
        nce_command("predict", "--input", inp, "--output", out, "--model", small_model_dir, "--quiet"),
        env=nce_env(tmp_path / "mlruns"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = _wait_for(
        lambda: [p for p in tmp_path.glob(".out.csv.*.tmp") if p.stat().st_size > 0],
        240,
        predict,
        "the first chunk to be written",
    )
    _kill(predict)
    assert out.read_bytes() == previous
    assert partial[0].stat().st_size > 0  # the half-written file was a temporary one beside it
