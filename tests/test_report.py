"""nce report: the page renders in headless Chromium (every image loads, no console error),
the campaign section follows the MLflow store, and the same figures land in one MLflow run."""

from __future__ import annotations

import base64
import re
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import chromium_page
import pytest

NCE = [sys.executable, "-m", "nce.cli"]
FIGURES = (
    12  # without a campaign: dataset, families, 2 parity, 2 residuals, calibration, 2 importance, 2 SHAP, Wilkinson
)

needs_chromium = pytest.mark.skipif(
    not chromium_page.available(), reason="chromium is not installed (apt-get install chromium)"
)


def run(*args, env=None):
    return subprocess.run([*NCE, *map(str, args)], capture_output=True, text=True, timeout=600, env=env)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """A fresh MLflow store of this test alone (no suggest run from other tests)."""
    path = tmp_path / "mlruns"
    monkeypatch.setenv("NCE_MLRUNS_DIR", str(path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return path


@needs_chromium
def test_the_chromium_check_catches_broken_images_and_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body><section>s</section>"
        '<img src="data:image/png;base64,AAAA"><img src="missing.png">'
        '<script>console.error("boom"); undefinedFunction();</script></body></html>'
    )
    result = chromium_page.load_page(page)
    assert result["images"] == 2 and result["loaded"] == 0
    assert any("boom" in e for e in result["errors"])
    assert any(e.startswith("exception") for e in result["errors"])
    assert any("ERR_FILE_NOT_FOUND" in e for e in result["errors"])


@needs_chromium
def test_report_renders_with_every_image_and_logs_one_mlflow_run(small_model_dir, store, tmp_path):
    out = tmp_path / "report.html"
    r = run("report", "--model", small_model_dir, "--sample", 400, "--folds", 3, "--output", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # --quiet: no progress bar
    assert "none yet" in r.stdout
    mae = float(re.search(r"log10 sigma25 MAE ([0-9.]+)", r.stdout).group(1))
    assert 0.3 < mae < 3.0

    html = out.read_text()
    assert "No active-learning campaign yet" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # self-contained
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == FIGURES
    sizes = [png_size(base64.b64decode(b)) for b in images]
    assert all(w >= 400 and h >= 300 for w, h in sizes), sizes

    page = chromium_page.load_page(out)
    assert page["errors"] == []
    assert page["images"] == FIGURES and page["loaded"] == FIGURES
    assert page["sections"] == 7
    for heading in (
        "Dataset",
        "Parity",
        "Calibration",
        "Residuals by chemical family",
        "Feature importance and SHAP",
        "Ea against 1/(Tg m)",
        "Active-learning campaign",
    ):
        assert heading in page["text"]

    # one MLflow run named report holding the same figures and the page
    db = sqlite3.connect(store / "mlflow.db")
    runs = db.execute("select run_uuid, artifact_uri from runs where name = 'report'").fetchall()
    metrics = dict(db.execute("select key, value from metrics").fetchall())
    db.close()
    assert len(runs) == 1
    assert 0.3 < metrics["oof_log10_sigma25_mae"] < 3.0 and 0.5 < metrics["oof_Ea_eV_coverage"] <= 1.0
    folder = Path(runs[0][1].removeprefix("file://")) / "report"
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == FIGURES and (folder / "report.html").is_file()
    assert sorted(png_size(p.read_bytes()) for p in pngs) == sorted(sizes)


@needs_chromium
def test_report_shows_the_latest_suggest_campaign(small_model_dir, store, tmp_path):
    for n in (3, 4):  # two rounds of the same space; the latest has 4 suggestions
        r = run(
            "suggest",
            "--space",
            "Li2S:60-80,P2S5:20-40",
            "--n",
            n,
            "--model",
            small_model_dir,
            "--quiet",
            "--output",
            tmp_path / f"s{n}.csv",
        )
        assert r.returncode == 0, r.stderr
    out = tmp_path / "report.html"
    r = run("report", "--model", small_model_dir, "--sample", 300, "--folds", 2, "--output", out)
    assert r.returncode == 0, r.stderr
    assert "suggest run" in r.stdout
    html = out.read_text()
    assert "No active-learning campaign yet" not in html and "2 round(s) of the same search" in html
    latest = (tmp_path / "s4.csv").read_text().splitlines()[1].split(",")[0]
    assert latest in html  # the latest batch's first composition is in the table
    page = chromium_page.load_page(out)
    assert page["errors"] == [] and page["images"] == page["loaded"] == FIGURES + 1


def test_report_bad_options_are_one_line_errors(tmp_path):
    from typer.testing import CliRunner

    from nce.cli import app

    for args, message in (
        (["--sample", "10"], "--sample must be at least 50"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--output", str(tmp_path / "nowhere" / "r.html")], "output folder does not exist"),
        (["--model", str(tmp_path)], "holds no NCE model"),
    ):
        result = CliRunner().invoke(app, ["report", *args, "--quiet"])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "report.html").exists()
