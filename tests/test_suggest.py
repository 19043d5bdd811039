"""Suggestions stay inside the user's space, never repeat a measurement, spread out, and
bad space text is a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nce.cli import app
from nce.featurize import parse_composition
from nce.models import io
from nce.pipelines.search_space import SpaceError, build_space, parse_space
from nce.pipelines.suggest import hypervolume_2d, select_batch, suggest

SPACE = "Li2S:60-80,P2S5:20-40,LiI:0-30"


@st.composite
def spaces(draw):
    formulas = draw(
        st.lists(
            st.sampled_from(["Li2S", "P2S5", "LiI", "SiS2", "Li2O", "B2O3", "GeS2", "LiCl"]),
            min_size=2,
            max_size=4,
            unique=True,
        )
    )
    lows = [draw(st.integers(0, 30)) for _ in formulas]
    highs = [lo + draw(st.integers(0, 70)) for lo in lows]
    highs = [min(h, 100) for h in highs]
    return formulas, lows, highs


def _comfortably_feasible(lows, highs, margin=1.0) -> bool:
    from scipy.optimize import linprog

    k = len(lows)
    bounds = [(lo + min(margin, (hi - lo) / 2), hi - min(margin, (hi - lo) / 2)) for lo, hi in zip(lows, highs)]
    a_ub = np.zeros((1, k))
    a_ub[0, 0], a_ub[0, 1] = -1.0, 0.5  # x0 >= 0.5 x1 + margin
    res = linprog(np.zeros(k), A_ub=a_ub, b_ub=[-margin], A_eq=np.ones((1, k)), b_eq=[100.0], bounds=bounds)
    return res.status == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spaces(), st.integers(0, 5))
def test_every_candidate_satisfies_sum_bounds_and_constraints(space_parts, seed):
    formulas, lows, highs = space_parts
    text = ",".join(f"{f}:{lo}-{hi}" for f, lo, hi in zip(formulas, lows, highs))
    constraint = f"{formulas[0]} >= 0.5*{formulas[1]}"
    try:
        space = build_space(text, constraint)
        cand = space.sample(200, seed=seed)
    except SpaceError:
        # only when no point with 1 mol % of slack exists (checked by linear programming)
        assert not _comfortably_feasible(lows, highs)
        return
    x = cand[list(formulas)].to_numpy()
    assert np.allclose(x.sum(axis=1), 100.0)
    assert (x >= np.array(lows) - 1e-9).all() and (x <= np.array(highs) + 1e-9).all()
    assert (x[:, 0] >= 0.5 * x[:, 1] - 1e-6).all()
    # the composition text is in the user's components and parses back to the same mol %
    for text_row, row in zip(cand["composition"].head(5), x[:5]):
        back = parse_composition(text_row).components
        for f, v in zip(formulas, row):
            assert back.get(f, 0.0) == pytest.approx(v, abs=0.02)


def test_infeasible_bounds_are_reported():
    with pytest.raises(SpaceError, match="cannot sum to 100"):
        build_space("Li2S:60-80,P2S5:50-60")
    with pytest.raises(SpaceError, match="no composition satisfies"):
        build_space("Li2S:60-80,P2S5:20-40", "Li2S <= 50").sample(10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty --space"),
        ("Li2S 60-80", "cannot read 'Li2S 60-80'"),
        ("Li2S:80-60,P2S5:20-40", "0 <= low <= high <= 100"),
        ("Xx2S:60-80,P2S5:20-40", "component 'Xx2S'"),
        ("Li2S:60-80,Li2S:20-40", "appears twice"),
        ("Li2S:60-80,P2S5:20-140", "0 <= low <= high <= 100"),
    ],
)
def test_bad_space_text_is_a_clear_error(text, message):
    with pytest.raises(SpaceError, match=message):
        parse_space(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_space_text_never_crashes(text):
    try:
        build_space(text, None)
    except SpaceError:
        pass


def test_bad_constraint_and_processing_options():
    with pytest.raises(SpaceError, match="not a component"):
        build_space(SPACE, "Na2S <= 10")
    with pytest.raises(SpaceError, match="cannot read constraint"):
        build_space(SPACE, "Li2S = 70")
    with pytest.raises(SpaceError, match="unknown state 'molten'"):
        build_space(SPACE, states="glass,molten")
    with pytest.raises(SpaceError, match="heat-treatment"):
        build_space(SPACE, heat_treatment_C="hot")


def test_batch_selection_spreads_out():
    # two equally good peaks: a diverse batch takes both instead of crowding one
    X = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0], [1.0, 1.0], [1.01, 1.0]])
    acq = np.array([1.0, 0.99, 0.98, 0.97, 0.96])
    picks = select_batch(X, acq, 2, length=0.2)
    assert picks[0] == 0 and picks[1] in (3, 4)


def test_hypervolume_2d_by_hand():
    pts = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert hypervolume_2d(pts, np.array([0.0, 0.0])) == pytest.approx(3.0)
    assert hypervolume_2d(np.array([[1.0, 1.0]]), np.array([0.0, 0.0])) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def small_model(small_model_dir):
    return io.load(small_model_dir)


def test_suggest_respects_the_space_and_skips_measured(small_model, tmp_path):
    space = build_space(SPACE, "LiI <= 0.5*Li2S")
    first = suggest(small_model, space, n=6, seed=1)
    assert len(first) == 6 and set(first.columns) >= {
        "composition",
        "normalized_composition",
        "log10_sigma25",
        "log10_sigma25_lo",
        "log10_sigma25_hi",
        "Ea_eV",
        "Ea_eV_lo",
        "Ea_eV_hi",
        "acquisition",
        "reason",
        "in_domain",
    }
    mol = pd.DataFrame([parse_composition(c).components for c in first["composition"]]).fillna(0.0)
    assert np.allclose(mol.sum(axis=1), 100) and (mol["LiI"] <= 0.5 * mol["Li2S"] + 1e-6).all()
    assert mol["Li2S"].between(60, 80).all() and mol["P2S5"].between(20, 40).all() and mol["LiI"].between(0, 30).all()
    # measure the whole first batch: none of it may come back, and the belief moves
    measured = tmp_path / "measured.csv"
    pd.DataFrame(
        {"composition": first["composition"], "temperature_C": 25.0, "sigma_S_cm": 10 ** (first["log10_sigma25"] - 2.0)}
    ).to_csv(measured, index=False)
    from nce.data.extra import load_extra

    rows = load_extra(measured).rows
    second = suggest(small_model, space, n=6, seed=1, measured=rows)
    assert not set(second["normalized_composition"]) & set(first["normalized_composition"])


@pytest.mark.parametrize("acquisition", ["ucb", "thompson", "explore"])
def test_every_acquisition_and_pareto_return_a_batch(small_model, acquisition):
    space = build_space("Li2O:20-50,B2O3:50-80")
    assert len(suggest(small_model, space, n=3, acquisition=acquisition, n_candidates=300)) == 3
    pareto = suggest(small_model, space, n=3, objective="pareto", n_candidates=300)
    assert len(pareto) == 3 and (pareto["acquisition"] >= 0).all()


def test_cli_bad_space_is_one_line_exit_2():
    result = CliRunner().invoke(app, ["suggest", "--space", "Li2S:60-80;P2S5"])
    assert result.exit_code == 2 and "cannot read" in result.output and "Traceback" not in result.output


def test_processing_is_a_search_dimension(small_model):
    space = build_space(SPACE, states="glass,glass_ceramic", heat_treatment_C="200-400")
    table = suggest(small_model, space, n=8, n_candidates=600, seed=2)
    assert set(table["state"]) <= {"glass", "glass_ceramic"}
    ceramic = table["state"] == "glass_ceramic"
    assert table.loc[ceramic, "heat_treatment_C"].between(200, 400).all()
    assert table.loc[~ceramic, "heat_treatment_C"].isna().all()  # a glass is not heat treated
    # the same space, glass only: the processing columns are then absent, the batch still valid
    assert "state" not in suggest(small_model, build_space(SPACE), n=2, n_candidates=300).columns


def test_a_suggestion_round_is_an_mlflow_run_with_its_table(small_model_dir, mlflow_store, tmp_path):
    import mlflow

    from nce.pipelines.search_space import build_space as space_of
    from nce.pipelines.suggest import run_suggest

    result = run_suggest(space_of("Li2O:20-50,B2O3:50-80"), n=3, model_uri=str(small_model_dir))
    run = mlflow.get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.params["space"] == "Li2O:20-50,B2O3:50-80"
    local = mlflow.artifacts.download_artifacts(
        run_id=result["run_id"], artifact_path="suggest", dst_path=str(tmp_path)
    )
    logged = pd.read_csv(f"{local}/suggestions.csv")
    assert logged["composition"].tolist() == result["table"]["composition"].tolist()
    assert '"model_uri"' in open(f"{local}/model.json").read()


def test_cli_writes_the_suggestions_file(small_model_dir, mlflow_store, tmp_path):
    out = tmp_path / "next.csv"
    result = CliRunner().invoke(
        app,
        [
            "suggest",
            "--space",
            "Li2O:20-50,B2O3:50-80",
            "--n",
            "4",
            "--model",
            str(small_model_dir),
            "--output",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 4 and table["composition"].str.fullmatch(r"[\d.]+Li2O-[\d.]+B2O3|[\d.]+B2O3-[\d.]+Li2O").all()


POOL = [
    ("A1", "70Li2S-30P2S5", "glass", None),
    ("A2", "Li7P3S11", "glass_ceramic", 260),
    ("A3", "75Li2S-25P2S5", "glass", None),
    ("A4", "60Li2S-40P2S5", "glass", None),
    ("A5", "50Li2S-50SiS2", "glass", None),
    ("A6", "67Li2S-33P2S5", "glass", None),
    ("A7", "Li2O-2B2O3", "glass", None),
    ("A8", "30Li2O-70B2O3", "glass", None),
]


def _pool_file(tmp_path, rows=POOL):
    path = tmp_path / "pool.csv"
    pd.DataFrame(rows, columns=["sample_id", "composition", "state", "heat_treatment_C"]).to_csv(path, index=False)
    return path


def test_pool_mode_chooses_only_unmeasured_rows_of_the_pool(small_model, tmp_path):
    from nce.data.extra import load_extra
    from nce.pipelines.suggest import read_candidates

    pool = read_candidates(_pool_file(tmp_path))
    assert pool["candidate_row"].tolist() == list(range(2, 10))
    first = suggest(small_model, pool, n=3)
    assert len(first) == 3 and first["candidate_row"].is_unique
    # the user's columns come back with the row, and nothing outside the pool is proposed
    by_row = dict(zip(pool["candidate_row"], pool["sample_id"]))
    assert all(by_row[r] == s for r, s in zip(first["candidate_row"], first["sample_id"]))
    # measure two rows: 70Li2S-30P2S5 as a glass (A1) and Li7P3S11 heat treated at 260 degC (A2);
    # the same composition in another state or at another heat treatment stays a candidate
    measured = tmp_path / "measured.csv"
    pd.DataFrame(
        {
            "composition": ["70Li2S-30P2S5", "70Li2S-30P2S5", "67Li2S-33P2S5"],
            "state": ["glass", "glass_ceramic", "glass_ceramic"],
            "heat_treatment_C": [np.nan, 260.0, 300.0],
            "temperature_C": 25.0,
            "sigma_S_cm": [1e-3, 3e-3, 1e-3],  # the glass a decade above any model's belief (about 1e-4)
        }
    ).to_csv(measured, index=False)
    rows = load_extra(measured).rows
    everything = suggest(small_model, pool, n=len(POOL), measured=rows)
    assert set(everything["sample_id"]) == {"A3", "A4", "A5", "A6", "A7", "A8"}
    assert everything.attrs["measured_candidates"] == 2
    # among candidates the default exploits the updated belief: the best expected values, in order
    exploit = suggest(small_model, pool, n=3, measured=rows)
    assert exploit["log10_sigma25"].tolist() == sorted(everything["log10_sigma25"], reverse=True)[:3]
    assert exploit["reason"].str.startswith("exploit").all()
    # measured sulfides well above NCE's belief pull their unmeasured neighbours up
    prior = suggest(small_model, pool, n=len(POOL)).set_index("sample_id")["log10_sigma25"]
    posterior = everything.set_index("sample_id")["log10_sigma25"]
    assert posterior["A6"] - prior["A6"] > posterior["A8"] - prior["A8"]


def test_a_fully_measured_pool_is_an_error(small_model, tmp_path):
    from nce.data.extra import load_extra
    from nce.pipelines.errors import UserError
    from nce.pipelines.suggest import read_candidates

    rows = [("B1", "70Li2S-30P2S5", "glass", None)]
    pool = read_candidates(_pool_file(tmp_path, rows))
    measured = tmp_path / "measured.csv"
    pd.DataFrame({"composition": ["Li7P3S11"], "temperature_C": [25.0], "sigma_S_cm": [1e-4]}).to_csv(
        measured, index=False
    )
    with pytest.raises(UserError, match="every candidate row has been measured already"):
        suggest(small_model, pool, n=2, measured=load_extra(measured).rows)


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        ([("70Li2S-30P2S5", "glass"), ("70Li2S-30Xx2S5", "glass")], ["composition", "state"], "row 3:"),
        ([("70Li2S-30P2S5", "glas-ceramic")], ["composition", "state"], "row 2: unknown state"),
        ([("70Li2S-30P2S5", 1e-4)], ["composition", "sigma_S_cm"], "holds measurements; give measured glasses"),
        ([("70Li2S-30P2S5", 100.0)], ["composition", "temperature_C"], "--temperature-C"),
        ([("A", 1.0)], ["sample_id", "cost"], "required column 'composition'"),
    ],
)
def test_bad_candidate_files_are_one_line_errors(tmp_path, rows, columns, message):
    path = tmp_path / "pool.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["suggest", "--candidates", str(path), "--quiet"])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--space", SPACE, "--candidates", "pool.csv"],
        ["--candidates", "pool.csv", "--state", "glass"],
    ],
)
def test_cli_space_and_candidates_exclude_each_other(args):
    result = CliRunner().invoke(app, ["suggest", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--space" in result.output


def test_cli_pool_round_is_an_mlflow_run_with_the_pool(small_model_dir, mlflow_store, tmp_path):
    import mlflow

    out = tmp_path / "next.csv"
    path = _pool_file(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            *["suggest", "--candidates", str(path), "--n", "2", "--constraint", "Li2S >= 65"],
            *["--model", str(small_model_dir), "--output", str(out)],
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 candidate rows break --constraint" in result.output
    table = pd.read_csv(out)
    assert len(table) == 2 and set(table["sample_id"]) <= {"A1", "A3", "A6"}
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="attributes.run_name = 'suggest'")
    params = mlflow.get_run(runs.sort_values("start_time")["run_id"].iloc[-1]).data.params
    assert params["candidates"] == "pool.csv" and params["n_candidates"] == "3"  # 8 rows, 5 outside the constraint
    assert len(params["candidates_sha256"]) == 64 and params["n_candidates_outside_constraints"] == "5"


def test_constraints_filter_the_candidate_rows(tmp_path):
    from nce.pipelines.errors import UserError
    from nce.pipelines.search_space import SpaceError
    from nce.pipelines.suggest import constrain_candidates, read_candidates

    # mol % of the components as each row writes them; a row without a component holds 0 % of it
    rows = [*POOL, ("A9", "49Li2S-21P2S5-30LiI", "glass", None), ("A10", "Li7P3S11", "glass", None)]
    pool = read_candidates(_pool_file(tmp_path, rows))
    kept, broken = constrain_candidates(pool, "LiI <= 10; Li2S >= 60")
    # A5 (50 Li2S), A7/A8 (no Li2S), A9 (30 LiI), A2 and A10 (Li7P3S11 as one formula: 0 % Li2S) break it
    assert broken == 6 and set(kept["sample_id"]) == {"A1", "A3", "A4", "A6"}
    assert set(constrain_candidates(pool, "Li7P3S11 >= 50")[0]["sample_id"]) == {"A2", "A10"}
    with pytest.raises(UserError, match="no candidate row satisfies"):
        constrain_candidates(pool, "Li2S >= 90")
    with pytest.raises(SpaceError, match="'NaI', which is not a component"):  # no row names it: a typo?
        constrain_candidates(pool, "NaI <= 5")
