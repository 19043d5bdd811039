"""Team scale (issue 8): nce train/predict/tune/suggest against an ``mlflow server`` with a SQL
backend and a proxied artifact store, and two ``nce tune`` workers on one Optuna study in
PostgreSQL (Debian's package, started here as an unprivileged user), all on loopback.

Where PostgreSQL is not installed or cannot start, the workers share Optuna's journal file
(docs/design.md's storage for several local workers) and the test says so in its report line.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_FEATURIZER, nce_command, nce_env, small_train_args

from nce.pipelines.tracking import CHAMPION_ALIAS, EXPERIMENT, REGISTERED_MODEL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"no answer from {url}: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """``mlflow server`` on 127.0.0.1 with a SQLite backend and its own artifact store."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = root / "server.log"
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'backend.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/health", server, log)
        yield {"uri": f"http://127.0.0.1:{port}", "artifacts": root / "artifacts"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)), None
    )
    return Path(os.path.realpath(found)).parent if found else None


def _start_postgres(bindir: Path):
    """initdb + pg_ctl under a temporary folder, as user postgres when running as root
    (PostgreSQL refuses to run as root). Returns (URL, stop function)."""
    folder = Path(tempfile.mkdtemp(prefix="nce-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pwd.getpwnam("postgres")  # KeyError: no such user
        shutil.chown(folder, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = folder / "data"
    run = lambda *cmd: subprocess.run([*prefix, *map(str, cmd)], capture_output=True, text=True, timeout=120)  # noqa: E731
    r = run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    if r.returncode != 0:
        raise RuntimeError(f"initdb failed: {r.stderr[-500:]}")
    r = run(
        bindir / "pg_ctl",
        "-D",
        data,
        "-o",
        f"-h 127.0.0.1 -p {port} -k {folder}",
        "-l",
        folder / "log",
        "-w",
        "-t",
        "60",
        "start",
    )
    if r.returncode != 0:
        raise RuntimeError(
            f"pg_ctl start failed: {r.stderr[-500:]} "
            f"{(folder / 'log').read_text()[-500:] if (folder / 'log').exists() else ''}"
        )

    def stop():
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="module")
def optuna_storage(tmp_path_factory):
    """(kind, storage) for several workers: PostgreSQL if it starts here, else a journal file."""
    bindir = _pg_bin()
    reason = "PostgreSQL is not installed (no pg_ctl)"
    if bindir is not None:
        try:
            url, stop = _start_postgres(bindir)
        except (RuntimeError, KeyError, OSError, subprocess.TimeoutExpired) as exc:
            reason = f"PostgreSQL did not start: {exc}"
        else:
            try:
                yield "postgresql", url
            finally:
                stop()
            return
    print(f"\n{reason}; the workers share Optuna's journal file instead")
    yield "journal", str(tmp_path_factory.mktemp("optuna") / "study.journal")


def _client(uri: str):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_train_predict_and_suggest_through_an_mlflow_server(mlflow_server, measurements_csv, tmp_path):
    local = tmp_path / "mlruns"  # must stay unused: everything goes to the server
    env = nce_env(local, MLFLOW_TRACKING_URI=mlflow_server["uri"])
    r = subprocess.run(
        nce_command(*small_train_args(measurements_csv)),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "-> alias champion" in r.stdout

    client = _client(mlflow_server["uri"])
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["data_hash"]
    assert any(
        Path(p).is_file() for p in glob.glob(str(mlflow_server["artifacts"] / "**" / "model.json"), recursive=True)
    )

    r = subprocess.run(
        nce_command("predict", "70Li2S-30P2S5", "Li3PS4", "--quiet"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "70Li2S-30P2S5" in r.stdout and "Li3PS4" in r.stdout

    out = tmp_path / "next.csv"
    r = subprocess.run(
        nce_command("suggest", "--space", "Li2S:60-80,P2S5:20-40,LiI:0-30", "--n", 3, "--output", out, "--quiet"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    suggestions = pd.read_csv(out)
    assert len(suggestions) == 3 and suggestions["log10_sigma25"].notna().all()
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    assert (
        client.search_runs([experiment], filter_string="tags.mlflow.runName = 'suggest'")[0].info.status == "FINISHED"
    )
    assert not (local / "mlflow.db").exists()


def test_two_tune_workers_share_one_study(mlflow_server, optuna_storage, tmp_path):
    import optuna

    kind, storage = optuna_storage
    args = [
        "tune",
        "--n-trials",
        4,
        "--study-name",
        "team",
        "--storage",
        storage,
        "--max-rows",
        300,
        "--featurizer-params",
        json.dumps(SMALL_FEATURIZER),
        "--quiet",
    ]
    workers = [
        subprocess.Popen(
            nce_command(*args),
            env=nce_env(tmp_path / f"worker{k}", MLFLOW_TRACKING_URI=mlflow_server["uri"]),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    outputs = [w.communicate(timeout=600) for w in workers]
    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0, err[-3000:]
        assert "study team:" in out

    loaded = optuna.load_study(
        study_name="team",
        storage=storage
        if kind == "postgresql"
        else optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage)),
    )
    complete = [t for t in loaded.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # each worker stops once the study holds 4 finished trials; one running elsewhere then still finishes
    assert 4 <= len(complete) <= 5, [t.state for t in loaded.trials]
    assert len({t.user_attrs["worker"] for t in complete}) == 2  # both workers ran trials of the one study
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == len(complete)  # no setting tried twice

    client = _client(mlflow_server["uri"])
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    parents = client.search_runs([experiment], filter_string="tags.mlflow.runName = 'tune team'")
    assert len(parents) == 2 and {p.info.status for p in parents} == {"FINISHED"}
    children = client.search_runs([experiment], filter_string="tags.mlflow.runName LIKE 'trial %'")
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {p.info.run_id for p in parents}
    assert len(children) >= len(complete)
    print(f"\nOptuna storage for the two workers: {kind}")
