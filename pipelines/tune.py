"""``nce tune``: Optuna search of the boosting settings, nested so no test fold is seen.

The publications of one outer fold (5-fold grouped by KOD, fold 0) are held out for the
whole study; trials are scored by 3-fold publication-grouped CV on the rest, and only the
best setting is scored once on the held-out fold. Storage: SQLite under ``mlruns/`` for
one process, Optuna's journal file for several local workers (SQLite locks under parallel
writers), any RDB URL (PostgreSQL) for a team. The same study name resumes the study, and
any number of workers (processes or machines) can share it: each stops when the study holds
``n_trials`` finished trials (a trial running elsewhere at that moment still finishes).
Each trial is an MLflow child run of its worker's run and records the worker
(``host:pid``) as a trial attribute.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import has_fit_parameter

from nce.data.curation import LOG10_SIGMA25_RANGE
from nce.pipelines.errors import UserError
from nce.pipelines.validation import frozen_features

TARGET = "log10_sigma25"


def open_storage(storage: str | None):
    """An Optuna storage from a URL, a ``*.journal`` path, or the default SQLite file."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from nce.pipelines.tracking import local_store

    if storage is None:
        local_store().mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{local_store() / 'optuna.db'}"
    if storage.startswith("journal:") or storage.endswith(".journal"):
        path = Path(storage.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if "://" not in storage:
        raise UserError(f"--storage {storage!r}: give an RDB URL (sqlite:///..., postgresql://...) or a *.journal file")
    import time

    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(storage, heartbeat_interval=60, grace_period=120)
        except (IntegrityError, ProgrammingError, OperationalError) as exc:
            # workers starting together on an empty database race to create Optuna's tables
            # (duplicate key / relation exists) or find it still starting: try again shortly
            last = exc
            time.sleep(0.2 * (attempt + 1))
        except Exception as exc:  # sqlalchemy raises many types for a bad URL
            raise UserError(f"cannot open Optuna storage {storage!r}: {str(exc).splitlines()[0]}") from None
    raise UserError(f"cannot open Optuna storage {storage!r}: {str(last).splitlines()[0]}") from None


def suggest_params(trial) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 150, 1200, log=True),
        "max_depth": trial.suggest_int("max_depth", 3, 10),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.2, 1.0),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        "loss": trial.suggest_categorical("loss", ["absolute_error", "squared_error"]),
    }


def outer_split(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row positions searched and held out by every study: GroupKFold(5) by publication
    (``KOD``), fold 0 held out."""
    return next(GroupKFold(5).split(frame, groups=frame["KOD"].to_numpy()))


def _mae(model, frame: pd.DataFrame, features: pd.DataFrame, folds) -> float:
    """MAE of the out-of-fold point predictions over the held-out rows of ``folds``.

    A trial changes only the point regressor, so each fold refits just that, on NCE's feature
    table, as :meth:`NCEModel.fit` fits it (log10 sigma25 capped
    at 0 as :meth:`NCEModel.predict` caps it); the predictive distribution ``fit`` also
    calibrates (six more fits per target) cannot change this figure and is skipped.
    tests/test_tune.py checks it equals :func:`out_of_fold` of the whole model."""
    table = features.to_numpy(dtype=np.float32)
    y, groups = frame[TARGET].to_numpy(dtype=float), frame["KOD"].to_numpy()
    takes_groups = has_fit_parameter(model.regressor, "groups")
    errors = []
    for train, test in folds:
        fit_rows = train[np.isfinite(y[train])]
        extra = {"groups": groups[fit_rows]} if takes_groups else {}
        fitted = clone(model.regressor).fit(table[fit_rows], y[fit_rows], **extra)
        errors.append(np.minimum(fitted.predict(table[test]), LOG10_SIGMA25_RANGE[1]) - y[test])
    return float(np.abs(np.concatenate(errors)).mean())


def tune(
    n_trials: int = 30,
    study_name: str = "nce-conductivity",
    storage: str | None = None,
    seed: int = 0,
    timeout_s: float | None = None,
    featurizer_params: dict | None = None,
    max_rows: int | None = None,
    params: dict | None = None,
    on_trial: Callable[[int, int, float | None], None] = lambda done, total, best: None,
) -> dict:
    """Run trials until the study holds ``n_trials`` finished ones; returns the best setting.

    ``params`` fixes settings of the interval regressor that are not searched (e.g.
    ``{"backend": "sklearn"}`` tunes the second model family)."""
    import mlflow
    import optuna

    from nce.pipelines import tracking
    from nce.pipelines.train import data_hash, make_model, training_frame

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    frame, _ = training_frame()
    if max_rows is not None and max_rows < len(frame):
        frame = frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    frame = frame[frame[TARGET].notna()].reset_index(drop=True)
    groups = frame["KOD"].to_numpy()
    outer_train, outer_test = outer_split(frame)
    fixed = dict(params or {})
    model, features = frozen_features(make_model(fixed, seed, featurizer_params), frame)
    inner_frame, inner_features = frame.iloc[outer_train], features.iloc[outer_train]
    inner = list(GroupKFold(3).split(inner_frame, groups=groups[outer_train]))

    def scored(settings: dict, rows: pd.DataFrame, table: pd.DataFrame, folds) -> float:
        candidate = clone(model).set_params(**{f"regressor__{k}": v for k, v in settings.items()})
        return _mae(candidate, rows, table, folds)

    # workers sharing a study (an explicit --storage) each need their own random stream, or
    # they would all propose the same settings; the data subset and features keep ``seed``
    sampler_seed = seed if storage is None else seed + os.getpid()
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(storage),
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=sampler_seed),
        load_if_exists=True,
    )
    finished = lambda: sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))  # noqa: E731
    experiment_id = tracking.setup()
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"tune {study_name}") as parent:
        mlflow.log_params(
            {
                "study_name": study_name,
                "seed": seed,
                "sampler_seed": sampler_seed,
                "n_trials": n_trials,
                "n_rows": len(frame),
                "target": TARGET,
                **{f"fixed_{k}": v for k, v in fixed.items()},
            }
        )
        mlflow.set_tag("worker", worker)
        mlflow.set_tag("data_hash", data_hash(frame))

        def objective(trial):
            trial.set_user_attr("worker", worker)
            params = suggest_params(trial)
            with mlflow.start_run(experiment_id=experiment_id, run_name=f"trial {trial.number}", nested=True):
                mlflow.log_params(params)
                score = scored(params, inner_frame, inner_features, inner)
                mlflow.log_metric("inner_cv_mae", score)
            return score

        def callback(study_, trial):
            best = study_.best_value if finished() else None
            on_trial(finished(), n_trials, best)

        remaining = max(0, n_trials - finished())
        if remaining:
            # the study's count, not this worker's, decides when to stop: other workers add to it
            enough = optuna.study.MaxTrialsCallback(n_trials, states=(optuna.trial.TrialState.COMPLETE,))
            study.optimize(
                objective, n_trials=remaining, timeout=timeout_s, callbacks=[callback, enough], gc_after_trial=True
            )
        if not finished():
            raise UserError(f"study {study_name!r} has no finished trial yet")
        best = dict(study.best_params)
        held_out = scored(best, frame, features, [(outer_train, outer_test)])
        mlflow.log_metrics({"best_inner_cv_mae": study.best_value, "held_out_fold_mae": held_out})
        best = {**fixed, **best}
        mlflow.log_dict(best, "best_params.json")
        out = tracking.local_store() / f"best_params_{study_name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        from nce.data.files import write_text_atomic

        write_text_atomic(out, json.dumps(best, indent=1))
        return {
            "best_params": best,
            "best_inner_cv_mae": study.best_value,
            "held_out_fold_mae": held_out,
            "n_finished": finished(),
            "params_file": str(out),
            "run_id": parent.info.run_id,
        }
