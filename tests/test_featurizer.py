"""GlassFeaturizer: contract, cross-fitting, persistence and input handling."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import nce.models.featurizer as featurizer_module
from nce.data.schema import element_columns, read_table
from nce.featurize.atoms import atoms_frame
from nce.featurize.physics import PHYSICS_FEATURES
from nce.featurize.processing import PROCESSING_FEATURES
from nce.models import io
from nce.models.featurizer import GlassFeaturizer
from nce.models.io import SELF_CHECKSUM, ModelFileError, _meta_digest
from nce.models.property_models import publication_fold

PROPS = ["Tg_K", "fragility_m", "density_g_cm3", "shear_modulus_GPa"]
SMALL = dict(
    max_rows_per_table=300,
    submodel_params={"n_estimators": 15},
    n_folds=3,
    n_jobs=1,
    progress=False,
)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    table = read_table("conductivity")
    return table.sample(150, random_state=3)


@pytest.fixture(scope="module")
def fitted(train):
    """(featurizer, out-of-fold features of ``train``), sub-models trained in fit."""
    featurizer = GlassFeaturizer(**SMALL)
    return featurizer, featurizer.fit_transform(train)


def test_feature_names_match_columns(fitted, train):
    featurizer, oof = fitted
    names = featurizer.get_feature_names_out()
    assert list(oof.columns) == list(names)
    assert oof.index.equals(train.index)
    vocabulary = [c for c in element_columns(train) if (train[c] > 0).any()]
    assert sorted(featurizer.vocabulary_) == sorted(vocabulary)
    assert names[0] == f"frac_{featurizer.vocabulary_[0]}"
    assert list(names[-len(PROCESSING_FEATURES) :]) == list(PROCESSING_FEATURES)
    for name in PHYSICS_FEATURES + ("nbo_fraction", "MagpieData mean Electronegativity"):
        assert name in names
    new = featurizer.transform(train.iloc[:5])
    assert list(new.columns) == list(names)


def test_out_of_fold_outputs_differ_from_in_sample(fitted, train):
    featurizer, oof = fitted
    full = featurizer.transform(train)
    differs = (oof[PROPS] - full[PROPS]).abs() > 1e-9
    assert (differs.mean(axis=0) > 0.9).all()  # a few may sit on the same clip bound
    same = [
        c
        for c in full.columns
        if c not in PROPS
        and not c.startswith(("log10_carrier", "inv_Tg", "doorway", "dielectric", "as_", "heat_treatment_over"))
    ]
    pd.testing.assert_frame_equal(oof[same], full[same])

    # each row gets the output of the model that never saw its publication
    fold = publication_fold(train["KOD"], featurizer.submodels_.n_folds)
    atoms = GlassFeaturizer.atoms(train)
    for k in np.unique(fold):
        rows = fold == k
        expected = featurizer.submodels_.folds["Tg_K"][k].predict(atoms[rows])
        np.testing.assert_allclose(oof.loc[rows, "Tg_K"], expected)


def test_fit_transform_needs_publication_keys(fitted, train):
    featurizer, _ = fitted
    no_kod = train.drop(columns="KOD")
    with pytest.raises(ValueError, match="groups="):
        clone(featurizer).fit_transform(no_kod)
    by_groups = clone(featurizer).fit_transform(no_kod, groups=train["KOD"].to_numpy())
    np.testing.assert_array_equal(by_groups.to_numpy(), fitted[1].to_numpy())
    plain = clone(featurizer).set_params(cross_fit=False).fit_transform(no_kod)
    np.testing.assert_array_equal(plain.to_numpy(), featurizer.transform(train).to_numpy())


def test_save_load_round_trip_identical(fitted, train, tmp_path):
    featurizer, oof = fitted
    io.save(featurizer, tmp_path)
    loaded = io.load(tmp_path)
    assert list(loaded.get_feature_names_out()) == list(featurizer.get_feature_names_out())
    a, b = featurizer.transform(train), loaded.transform(train)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert not loaded.submodels_.has_folds
    with pytest.raises(ValueError, match="fold sub-models"):
        clone(loaded).fit_transform(train)

    # handed the fold sub-models (as the cache does), a new featurizer reproduces the cross-fitted features
    again = GlassFeaturizer(**{**featurizer.get_params(), "submodels": featurizer.submodels_})
    np.testing.assert_array_equal(again.fit_transform(train).to_numpy(), oof.to_numpy())
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("damage", ["flip_ubj", "truncate_json", "feature_list", "version"])
def test_tampered_or_foreign_files_refused(fitted, tmp_path, damage):
    featurizer, _ = fitted
    io.save(featurizer, tmp_path)
    meta_path = tmp_path / "model.json"
    if damage == "flip_ubj":
        target = tmp_path / "submodels" / "density_g_cm3" / "full" / "model.ubj"
        raw = bytearray(target.read_bytes())
        raw[-10] ^= 0x55
        target.write_bytes(bytes(raw))
    elif damage == "truncate_json":
        text = meta_path.read_text()
        meta_path.write_text(text[: len(text) // 3])
    else:
        meta = json.loads(meta_path.read_text())
        if damage == "feature_list":
            meta["state"]["feature_names_out"] = meta["state"]["feature_names_out"][:-1] + ["secret_feature"]
        else:
            meta["version"] = "999.0"
        meta[SELF_CHECKSUM] = _meta_digest(meta)  # signed again: the content checks must still refuse it
        meta_path.write_text(json.dumps(meta))
    match = {
        "flip_ubj": "model.ubj is missing or altered",
        "truncate_json": "not valid JSON",
        "feature_list": "feature list does not match",
        "version": "saved by nce 999.0",
    }[damage]
    with pytest.raises(ModelFileError, match=match):
        io.load(tmp_path)


def test_clone_and_get_params(fitted):
    featurizer, _ = fitted
    params = featurizer.get_params()
    assert params["max_rows_per_table"] == 300 and params["submodels"] is None
    copy = clone(featurizer)
    assert copy.get_params() == params
    assert not hasattr(copy, "submodels_")
    with pytest.raises(NotFittedError):
        copy.transform(pd.DataFrame({"composition": ["SiO2"]}))
    with pytest.raises(NotFittedError):
        copy.get_feature_names_out()


def test_prefitted_submodels_and_text_input(fitted, train):
    featurizer, _ = fitted
    reuse = GlassFeaturizer(submodels=featurizer.submodels_, progress=False)
    texts = pd.DataFrame(
        {
            "composition": ["70Li2S-30P2S5", "33.3Li2O·66.7SiO2", "33LiI-67Li3PS4"],
            "route": ["ball_mill", None, "melt_quench"],
            "state": ["glass_ceramic", None, "glass"],
            "heat_treatment_C": [240.0, None, None],
        },
        index=["a", "b", "c"],
    )
    reuse.fit(train)
    out = reuse.transform(texts)
    assert out.loc["a", "route_ball_mill"] == 1 and out.loc["b", "route_melt_quench"] == 1
    assert out.loc["a", "heat_treatment_over_Tg"] == pytest.approx((240 + 273.15) / out.loc["a", "Tg_K"])
    assert out.loc["c", "frac_other"] > 0 or "frac_I" in out.columns

    atoms, errors = atoms_frame(texts["composition"], index=texts.index)
    same = reuse.transform(atoms)
    np.testing.assert_allclose(same[PROPS].to_numpy(), out[PROPS].to_numpy(), rtol=1e-12)


def test_bad_rows_are_named(fitted):
    featurizer, _ = fitted
    frame = pd.DataFrame({"composition": ["SiO2", "70Li2S-30Xx2S5"]}, index=[10, 11])
    with pytest.raises(ValueError, match=r"row 11: .*Xx"):
        featurizer.transform(frame)
    atoms, errors = atoms_frame(frame["composition"], index=frame.index)
    assert errors[0] is None and "Xx" in errors[1]
    assert atoms.loc[11].isna().all() and atoms.loc[10].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"row 5: unknown state 'molten'"):
        featurizer.transform(pd.DataFrame({"composition": ["SiO2"], "state": ["molten"]}, index=[5]))
    with pytest.raises(ValueError, match="composition"):
        featurizer.transform(pd.DataFrame({"x": [1]}))


def test_batches_and_progress_bar_give_the_same_numbers(fitted, train, monkeypatch, capsys):
    featurizer, _ = fitted
    whole = featurizer.transform(train)
    monkeypatch.setattr(featurizer_module, "PROGRESS_MIN_ROWS", 10)
    batched = clone(featurizer).set_params(batch_size=40, progress=True)
    batched.__dict__.update({k: v for k, v in featurizer.__dict__.items() if k.endswith("_")})
    np.testing.assert_allclose(batched.transform(train).to_numpy(), whole.to_numpy(), rtol=1e-12)
