"""nce predict on the command line: the output contract, bad rows, --strict, atomic files."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from nce.models import io
from nce.pipelines.predict import OUTPUT_COLUMNS

NCE = [sys.executable, "-m", "nce.cli"]


def run(*args, **kw):
    return subprocess.run([*NCE, *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


def test_predict_prints_every_column_for_the_design_examples(small_model_dir):
    r = run(
        "predict",
        "70Li2S-30P2S5",
        "80(0.7Li2S-0.3P2S5)-20LiI",
        "Li2.9PO3.3N0.46",
        "--model",
        small_model_dir,
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    for text in (
        "70Li2S-30P2S5",
        "56Li2S-24P2S5-20LiI",
        "Li2.9PO3.3N0.46",
        *[c for c in OUTPUT_COLUMNS if c != "log10_sigma_T"],
    ):
        assert text in r.stdout


def test_predict_file_keeps_rows_and_reports_errors(small_model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame(
        {
            "composition": [
                "70Li2S-30P2S5",
                "",
                "Xx2O",
                "(Li2S)70 (P2S5",
                "-5Li2S-105P2S5",
                "Li3PS4",
                "Li3PS4",
                "Li3PS4",
            ],
            "state": ["glass", "glass", "glass", "glass", "glass", "melted", "glass", "glass"],
            "temperature_C": [100, 25, 25, 25, 25, 25, -300, 25],
            "sample_id": list("abcdefgh"),
        }
    ).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    r = run("predict", "--input", inp, "--output", out, "--model", small_model_dir, "--quiet")
    assert r.returncode == 0, r.stderr
    res = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert len(res) == 8 and list(res["sample_id"]) == list("abcdefgh")
    assert set(OUTPUT_COLUMNS) <= set(res.columns)
    errors = res["error"].fillna("").tolist()
    assert errors[0] == "" and errors[7] == ""
    assert "empty" in errors[1] and "unknown element" in errors[2] and "bracket" in errors[3]
    assert "negative" in errors[4] and "unknown state 'melted'" in errors[5]
    assert errors[6] == "temperature_C -300 outside [-150, 1000] degC"  # nce.data.rows: one range everywhere
    assert res.loc[1:6, "log10_sigma25"].isna().all()
    assert res.loc[0, "log10_sigma_T"] > res.loc[0, "log10_sigma25"]  # 100 degC conducts better


def test_strict_mode_fails_on_a_bad_row_and_writes_nothing(small_model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"composition": ["70Li2S-30P2S5", "Xx2O"]}).to_csv(inp, index=False)
    out = tmp_path / "out.parquet"
    r = run("predict", "--input", inp, "--output", out, "--model", small_model_dir, "--strict", "--quiet")
    assert r.returncode == 2 and not out.exists() and not list(tmp_path.glob(".out*"))
    assert r.stderr.strip().startswith("error: row 2") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["predict"], "give compositions"),
        (["predict", "--input", "/nonexistent.csv"], "not found"),
        (["predict", "70Li2S-30P2S5", "--model", "/nonexistent_model"], "cannot load model"),
    ],
)
def test_user_errors_are_one_line(args, message, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_missing_composition_column_is_a_clear_error(tmp_path, small_model_dir):
    inp = tmp_path / "in.csv"
    inp.write_text("formula\nLi3PS4\n")
    r = run("predict", "--input", inp, "--model", small_model_dir)
    assert r.returncode == 2 and "'composition' is missing" in r.stderr


def test_python_api_matches_the_cli_contract(small_model_dir):
    import nce

    out = nce.predict(["70Li2S-30P2S5", "Li3PS4"], model=str(small_model_dir), temperature_C=80.0)
    assert list(out["normalized_composition"]) == ["70Li2S-30P2S5", "Li3PS4"]
    assert set(OUTPUT_COLUMNS) <= set(out.columns)


def test_neighbors_lists_measured_glasses(small_model_dir):
    r = run("predict", "70Li2S-30P2S5", "--model", small_model_dir, "--neighbors", "3", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "KOD" in r.stdout and "distance" in r.stdout


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streaming_in_chunks_matches_one_pass(small_model_dir, tmp_path, suffix):
    from nce.pipelines.predict import predict_file, predict_frame

    model = io.load(small_model_dir)
    frame = pd.DataFrame({"composition": ["70Li2S-30P2S5", "Xx2O", "50Li2O-50SiO2", "Li3PS4", "33LiI-67Li3PS4"] * 7})
    inp = tmp_path / f"in{suffix}"
    frame.to_parquet(inp) if suffix == ".parquet" else frame.to_csv(inp, index=False)
    out = tmp_path / f"out{suffix}"
    counts = predict_file(model, inp, out, {"temperature_C": 60.0}, chunk_rows=4)
    assert counts == {"rows": 35, "errors": 7}
    streamed = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, keep_default_na=False, na_values=[""])
    whole = predict_frame(model, frame.assign(temperature_C=60.0))
    pd.testing.assert_series_equal(streamed["log10_sigma_T"], whole["log10_sigma_T"], check_names=False)
    assert not list(tmp_path.glob(".out*"))


def test_streaming_strict_stops_and_leaves_nothing(small_model_dir, tmp_path):
    from nce.pipelines.errors import UserError
    from nce.pipelines.predict import predict_file

    inp = tmp_path / "in.csv"
    pd.DataFrame({"composition": ["Li3PS4"] * 9 + ["Xx2O"]}).to_csv(inp, index=False)
    with pytest.raises(UserError, match="row 10: unknown element"):
        predict_file(io.load(small_model_dir), inp, tmp_path / "out.csv", strict=True, chunk_rows=3)
    assert list(tmp_path.iterdir()) == [inp]


def test_unknown_route_and_bad_heat_treatment_are_row_errors(small_model_dir):
    from nce.pipelines.predict import predict_frame

    frame = pd.DataFrame(
        {
            "composition": ["70Li2S-30P2S5"] * 3,
            "route": ["teleport", "ball_mill", ""],
            "heat_treatment_C": [None, "hot", 250.0],
        }
    )
    out = predict_frame(io.load(small_model_dir), frame)
    assert "unknown route 'teleport'" in out.loc[0, "error"]
    assert "heat_treatment_C 'hot' is not a number" in out.loc[1, "error"]
    assert out.loc[2, "error"] == "" and pd.notna(out.loc[2, "log10_sigma25"])
