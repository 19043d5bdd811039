"""Safe model files (issue 8): no unpickling, tampered or truncated files refused, and the
recorded package version, feature list and data hash checked on load."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from nce.models import io
from nce.models.io import SELF_CHECKSUM, ModelFileError, _meta_digest
from nce.pipelines.predict import load_model_folder, predict_frame

FRAME = pd.DataFrame(
    {"composition": ["70Li2S-30P2S5", "Li3PS4", "50Li2O-50SiO2"], "temperature_C": [25.0, 80.0, 300.0]}
)


@pytest.fixture()
def model_copy(small_model_dir, tmp_path):
    return shutil.copytree(small_model_dir, tmp_path / "model")


def _refuse(*args, **kwargs):
    raise AssertionError("a model file was unpickled")


def _rewrite_meta(folder, state=None, **changes):
    """Edit model.json (``state``: entries of its fitted state) and sign it again: a model
    saved by another nce, or on other data."""
    meta = json.loads((folder / "model.json").read_text())
    meta.update(changes)
    meta["state"].update(state or {})
    meta[SELF_CHECKSUM] = _meta_digest(meta)
    (folder / "model.json").write_text(json.dumps(meta))


def _model_files(folder, pattern):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(pattern))


def test_loading_and_predicting_never_unpickle(small_model_dir, monkeypatch):
    reference = predict_frame(io.load(small_model_dir), FRAME)
    for name in ("load", "loads", "Unpickler"):  # numpy's object arrays and joblib go through these too
        monkeypatch.setattr(pickle, name, _refuse)
    out = predict_frame(io.load(small_model_dir), FRAME)
    pd.testing.assert_frame_equal(out, reference)
    assert not _model_files(small_model_dir, "*.pkl") and not _model_files(small_model_dir, "*.pickle")


def test_every_binary_and_json_file_is_checksummed(small_model_dir):
    meta = json.loads((small_model_dir / "model.json").read_text())
    files = {p for p in _model_files(small_model_dir, "*") if (small_model_dir / p).is_file()} - {"model.json"}
    assert files == set(meta["files"])
    assert _model_files(small_model_dir, "*.ubj") and _model_files(small_model_dir, "*.json")


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@pytest.mark.parametrize(
    "damage", [_flip_middle_byte, _truncate, lambda p: p.unlink()], ids=["flipped", "truncated", "deleted"]
)
def test_a_damaged_ubj_or_json_file_is_refused(model_copy, damage):
    targets = [f for f in _model_files(model_copy, "*.ubj") + _model_files(model_copy, "*.json") if f != "model.json"]
    assert len(targets) >= 6  # two conformal models, their JSON, the featurizer and its sub-models
    for rel in targets:
        original = (model_copy / rel).read_bytes()
        damage(model_copy / rel)
        with pytest.raises(ModelFileError, match=f"model file {rel} is missing or altered"):
            io.load(model_copy)
        (model_copy / rel).write_bytes(original)
    io.load(model_copy)  # restored: loads again


def test_an_edited_or_truncated_model_json_is_refused(model_copy):
    text = (model_copy / "model.json").read_text()
    meta = json.loads(text)
    meta["state"]["n_train"] += 1  # edited, same checksums of the other files
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="model.json is altered"):
        io.load(model_copy)
    nested = model_copy / "uncertainty" / "log10_sigma25" / "model.json"
    inner = json.loads(nested.read_text())
    inner["state"]["sigma_floor"] *= 0.5  # narrower intervals, signed again: the parent's checksum still refuses it
    inner[SELF_CHECKSUM] = _meta_digest(inner)
    (model_copy / "model.json").write_text(text)
    nested.write_text(json.dumps(inner))
    with pytest.raises(ModelFileError, match="model file uncertainty/log10_sigma25/model.json is missing or altered"):
        io.load(model_copy)
    (model_copy / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON"):
        io.load(model_copy)
    meta = json.loads(text)
    del meta[SELF_CHECKSUM]
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="model.json is altered"):
        io.load(model_copy)
    (model_copy / "model.json").write_text(text)
    _rewrite_meta(model_copy, files=None)  # signed but incomplete: a clear error, not a traceback
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        io.load(model_copy)


def test_the_package_version_is_checked(model_copy):
    _rewrite_meta(model_copy, version="0.0.1")
    with pytest.raises(ModelFileError, match=r"saved by nce 0\.0\.1"):
        io.load(model_copy)


def test_the_feature_list_is_checked(model_copy):
    meta = json.loads((model_copy / "model.json").read_text())
    names = meta["state"]["feature_names"]
    _rewrite_meta(model_copy, state={"feature_names": [*names[:-1], "carrier_density_per_m3"]})
    with pytest.raises(ModelFileError, match="feature list does not match"):
        io.load(model_copy)
    _rewrite_meta(model_copy, state={"feature_names": [names[1], names[0], *names[2:]]})  # same names, other order
    with pytest.raises(ModelFileError, match="feature list does not match"):
        io.load(model_copy)


def test_the_data_hash_is_checked(model_copy):
    recorded = json.loads((model_copy / "model.json").read_text())["state"]["data_hash"]
    assert load_model_folder(model_copy, data_hash=recorded).data_hash_ == recorded
    with pytest.raises(ModelFileError, match="trained on data"):
        load_model_folder(model_copy, data_hash="0" * 64)


def test_an_mlflow_model_whose_run_records_other_data_is_refused(small_model_dir, tmp_path, monkeypatch):
    """load_model compares the model's data hash with its MLflow run's ``data_hash`` tag."""
    import mlflow

    from nce.pipelines import serving, tracking
    from nce.pipelines.predict import load_model

    monkeypatch.setenv("NCE_MLRUNS_DIR", str(tmp_path / "mlruns"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    model = io.load(small_model_dir)
    uris = {}
    for label, digest in (("same", model.data_hash_), ("other", "f" * 64)):
        with mlflow.start_run(experiment_id=tracking.setup(), run_name=label):
            mlflow.set_tag("data_hash", digest)
            uris[label] = serving.log_pyfunc(model, small_model_dir, None).model_uri
    assert load_model(uris["same"]).data_hash_ == model.data_hash_
    with pytest.raises(ModelFileError, match="trained on data"):
        load_model(uris["other"])
    for name in ("load", "loads", "Unpickler"):  # the served pyfunc loads without pickle too
        monkeypatch.setattr(pickle, name, _refuse)
    served = mlflow.pyfunc.load_model(uris["same"]).predict(FRAME)
    assert np.isfinite(served["log10_sigma25"]).all()


def test_the_command_line_refuses_a_tampered_model_in_one_line(model_copy, tmp_path):
    _flip_middle_byte(model_copy / "regressors" / "log10_sigma25" / "point.ubj")
    r = subprocess.run(
        [sys.executable, "-m", "nce.cli", "predict", "70Li2S-30P2S5", "--model", str(model_copy), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: model file regressors/log10_sigma25/point.ubj is missing or altered (checksum mismatch)"
    ]
