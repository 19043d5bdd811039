"""Contract, persistence and sanity checks of nce.models.property_models."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from nce.data.schema import element_columns, read_table
from nce.models import io
from nce.models.io import SELF_CHECKSUM, ModelFileError, _meta_digest
from nce.models.property_models import (
    PROPERTY_TABLES,
    CompositionPropertyRegressor,
    PropertySubmodels,
    cross_validated_mae,
    publication_fold,
)


def _refuse(*args, **kwargs):
    raise AssertionError("a model file was unpickled")


FAST = dict(n_estimators=60, learning_rate=0.15, max_depth=6, n_jobs=1)


def _only(table: pd.DataFrame, elements: set[str]) -> pd.Series:
    """Rows of ``table`` that contain all of ``elements`` and nothing else."""
    cols = element_columns(table)
    present = table[cols] > 0
    others = [c for c in cols if c not in elements]
    return present[list(elements)].all(axis=1) & ~present[others].any(axis=1)


@pytest.fixture(scope="module")
def tg_table() -> pd.DataFrame:
    return read_table("tg")


@pytest.fixture(scope="module")
def tg_subset(tg_table) -> pd.DataFrame:
    """Sodium silicates plus a random 2,500 rows of the Tg table."""
    binary = tg_table[_only(tg_table, {"Na", "Si", "O"}) | _only(tg_table, {"Si", "O"})]
    rest = tg_table.drop(binary.index).sample(2500, random_state=1)
    return pd.concat([binary, rest])


def _fit(table: pd.DataFrame, target: str, **kw) -> CompositionPropertyRegressor:
    model = CompositionPropertyRegressor.for_target(target, **{**FAST, **kw})
    return model.fit(table[element_columns(table)], table[target])


def silicates(modifier: str, mol_percent: list[float], formula_atoms: dict) -> pd.DataFrame:
    """Atomic fractions of x M_aO - (100 - x) SiO2."""
    rows = []
    for x in mol_percent:
        counts = {el: n * x for el, n in formula_atoms.items()}
        counts["Si"] = counts.get("Si", 0) + (100 - x)
        counts["O"] = counts.get("O", 0) + 2 * (100 - x)
        total = sum(counts.values())
        rows.append({el: n / total for el, n in counts.items()})
    return pd.DataFrame(rows).fillna(0.0)


def test_estimator_contract():
    model = CompositionPropertyRegressor.for_target("Tg_K", n_estimators=10)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(pd.DataFrame({"Si": [1 / 3], "O": [2 / 3]}))
    with pytest.raises(ValueError, match="unknown property"):
        CompositionPropertyRegressor.for_target("viscosity")
    with pytest.raises(ValueError, match="element symbol"):
        model.fit(pd.DataFrame({"Si": [0.3], "KOD": [1]}), [1.0])


def test_save_load_round_trip_identical_and_tamper_refused(tg_subset, tmp_path, monkeypatch):
    model = _fit(tg_subset.iloc[:800], "Tg_K", linear_baseline=True)
    atoms = tg_subset.iloc[800:1200][element_columns(tg_subset)]
    io.save(model, tmp_path / "m")
    for name in ("load", "loads", "Unpickler"):  # loading must never reach pickle
        monkeypatch.setattr(pickle, name, _refuse)
    loaded = io.load(tmp_path / "m")
    monkeypatch.undo()
    assert loaded.get_params() == model.get_params()
    assert loaded.vocabulary_ == model.vocabulary_
    np.testing.assert_array_equal(loaded.predict(atoms), model.predict(atoms))
    assert loaded.target_range_ == model.target_range_

    # far outside the data, the linear baseline must not carry predictions out of range
    odd = pd.DataFrame({"Mo": [0.25, 0.0], "O": [0.75, 0.0], "Au": [0.0, 1.0]})
    lo, hi = model.target_range_
    assert np.all((model.predict(odd) >= lo) & (model.predict(odd) <= hi))

    # a flipped byte in the xgboost file
    raw = bytearray((tmp_path / "m" / "model.ubj").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "m" / "model.ubj").write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="model.ubj is missing or altered"):
        io.load(tmp_path / "m")

    # another package version (signed again), and a truncated model.json
    io.save(model, tmp_path / "v")
    meta = json.loads((tmp_path / "v" / "model.json").read_text())
    meta["version"] = "0.0.0-other"
    meta[SELF_CHECKSUM] = _meta_digest(meta)
    (tmp_path / "v" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="nce 0.0.0-other"):
        io.load(tmp_path / "v")
    text = (tmp_path / "v" / "model.json").read_text()
    (tmp_path / "v" / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON"):
        io.load(tmp_path / "v")


def test_atomic_volume_transform_round_trip(tmp_path):
    table = read_table("density").sample(600, random_state=0)
    model = _fit(table, "density_g_cm3")
    assert model.target_transform == "atomic_volume"
    atoms = table[element_columns(table)]
    pred = model.predict(atoms)
    assert np.all((pred > 0.5) & (pred < 15))
    io.save(model, tmp_path)
    np.testing.assert_array_equal(io.load(tmp_path).predict(atoms), pred)


def test_grouped_cv_beats_the_mean(tg_subset):
    estimator = CompositionPropertyRegressor.for_target("Tg_K", **FAST)
    mae = cross_validated_mae(tg_subset, "Tg_K", n_splits=3, estimator=estimator)
    y = tg_subset["Tg_K"].to_numpy()
    mean_baseline = np.mean(np.abs(y - y.mean()))
    assert mae < 0.7 * mean_baseline


def test_tg_falls_as_soda_replaces_silica(tg_subset):
    model = _fit(tg_subset, "Tg_K")
    tg = model.predict(silicates("Na", [0, 15, 45], {"Na": 2, "O": 1}))
    assert tg[0] > tg[1] > tg[2]
    assert tg[0] > 1200  # silica near 1450 K


def test_density_rises_with_lead_oxide():
    table = read_table("density")
    lead = table[_only(table, {"Pb", "Si", "O"}) | _only(table, {"Si", "O"})]
    train = pd.concat([lead, table.drop(lead.index).sample(2000, random_state=2)])
    model = _fit(train, "density_g_cm3")
    rho = model.predict(silicates("Pb", [30, 50, 70], {"Pb": 1, "O": 1}))
    assert rho[0] < rho[1] < rho[2]
    assert 3.5 < rho[0] and rho[2] < 8.5


def test_publication_fold_is_deterministic_and_type_blind():
    folds = publication_fold([205, 205.0, "205", 206, "extra:my-lab"], 5)
    assert folds[0] == folds[1] == folds[2]
    assert set(folds) <= set(range(5))
    assert list(publication_fold([205, 206], 5)) == list(folds[[0, 3]])
    spread = np.bincount(publication_fold(np.arange(5000), 5), minlength=5)
    assert spread.min() > 900
    with pytest.raises(ValueError, match="missing"):
        publication_fold([1, None], 5)


def test_submodels_train_save_load(tmp_path):
    sub = PropertySubmodels.train(max_rows_per_table=200, params={"n_estimators": 10, "n_jobs": 1}, n_folds=3)
    assert sub.targets == list(PROPERTY_TABLES) and sub.has_folds
    atoms = pd.DataFrame({"Li": [0.25], "P": [0.125], "S": [0.625]})
    before = sub.predict(atoms, fold=np.array([1]))
    io.save(sub, tmp_path)
    after = io.load(tmp_path, expect=PropertySubmodels).predict(atoms, fold=np.array([1]))
    pd.testing.assert_frame_equal(before, after)
    # a fold model's JSON changed (and signed again) behind the parent's back
    meta_path = tmp_path / "Tg_K" / "fold_2" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["state"]["vocabulary"] = meta["state"]["vocabulary"][::-1]
    meta[SELF_CHECKSUM] = _meta_digest(meta)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="Tg_K/fold_2/model.json is missing or altered"):
        io.load(tmp_path)
