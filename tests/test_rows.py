"""The one row validator (nce.data.rows): the same words and ranges, accepted or refused the
same way with the same message, by predict, extra data, the featurizer and suggest --space;
numeric options refuse NaN; atomic writes (nce.data.files) appear whole or not at all."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nce.data.errors import NCEError
from nce.data.extra import ExtraDataError, measurement_rows
from nce.data.files import atomic_path, atomic_paths
from nce.data.rows import COLUMNS, RANGES, RowError, check_option, check_rows, check_word, validate_rows
from nce.data.schema import ROUTES, STATES
from nce.featurize.processing import ProcessingError, processing_features
from nce.pipelines.predict import _row_errors
from nce.pipelines.search_space import SpaceError, build_space, parse_range

SPACE = "Li2S:60-80,P2S5:20-40"


# --------------------------------------------------------------------------- the rules themselves


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Melt-quench", "melt_quench"),
        ("MELT_QUENCH", "melt_quench"),
        (" melt quench ", "melt_quench"),
        ("melt\u2013quench", "melt_quench"),
        ("Ball mill", "ball_mill"),
        ("GLASS", "glass"),
        ("Glass-Ceramic", "glass_ceramic"),
        ("amorphous  ceramic", "amorphous_ceramic"),
    ],
)
def test_words_are_read_one_way(text, word):
    column = "route" if word in ROUTES else "state"
    assert check_word(text, column) == (word, "")


@pytest.mark.parametrize("value", [None, np.nan, "", "   ", pd.NA])
def test_a_missing_word_is_the_sciglass_default(value):
    assert check_word(value, "route") == ("melt_quench", "")
    assert check_word(value, "state") == ("glass", "")


def test_one_range_per_quantity():
    assert set(RANGES) == {"temperature_C", "heat_treatment_C", "sigma_S_cm", "Ea_eV"}
    assert str(RANGES["temperature_C"]) == "[-150, 1000] degC" and str(RANGES["Ea_eV"]) == "(0, 3] eV"
    from nce.data import curation

    # the SciGlass curation keeps its temperatures and activation energies in the same ranges
    assert curation.TK100C_RANGE_C == (RANGES["temperature_C"].low, RANGES["temperature_C"].high)
    assert curation.EA_RANGE_EV == (RANGES["Ea_eV"].low, RANGES["Ea_eV"].high)


# --------------------------------------------------------------------------- the same everywhere


def _predict_error(**cells) -> str:
    """The ``error`` text nce predict gives the row (no model needed to check rows)."""
    return _row_errors(pd.DataFrame({"composition": ["70Li2S-30P2S5"], **{k: [v] for k, v in cells.items()}}))[1][0]


def _extra_error(**cells) -> str:
    frame = pd.DataFrame({"composition": ["70Li2S-30P2S5"], "temperature_C": [25.0], "sigma_S_cm": [1e-4]})
    for column, value in cells.items():
        frame[column] = pd.Series([value], dtype=object)
    try:
        measurement_rows(frame, "mine.csv", "user")
    except ExtraDataError as exc:
        return re.sub(r"^mine\.csv row 2: ", "", str(exc))
    return ""


def _featurize_error(**cells) -> str:
    try:
        processing_features(pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in cells.items()}, index=[0]))
    except ProcessingError as exc:
        return re.sub(r"^row 0: ", "", str(exc))
    return ""


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("route", "Melt-quench"),
        ("route", "MELT_QUENCH"),
        ("route", " ball mill "),
        ("route", "teleport"),
        ("route", 3),
        ("state", "GLASS"),
        ("state", "Glass-ceramic"),
        ("state", "molten"),
        ("state", "glassy"),
    ],
)
def test_words_are_accepted_or_refused_identically(column, value):
    predict, extra, featurize = (
        _predict_error(**{column: value}),
        _extra_error(**{column: value}),
        _featurize_error(**{column: value}),
    )
    assert predict == extra == featurize  # the same message, or '' in all three
    choices = ROUTES if column == "route" else STATES
    accepted = isinstance(value, str) and check_word(value, column)[0] in choices
    assert (predict == "") == accepted
    if not accepted:
        assert predict == f"unknown {column} {value!r} (one of {', '.join(choices)})"
    if column == "state":  # suggest --space --state: the same rule and message
        try:
            space = build_space(SPACE, states=f"amorphous,{value}")
        except SpaceError as exc:
            assert str(exc) == f"--state: {predict}"
        else:
            assert accepted and space.states == ("amorphous", check_word(value, column)[0])
    else:
        try:
            space = build_space(SPACE, route=value)
        except SpaceError as exc:
            assert str(exc) == f"--route: {predict}"
        else:
            assert accepted and space.route == check_word(value, column)[0]


def test_predict_gives_the_model_the_canonical_words():
    frame = pd.DataFrame(
        {
            "composition": ["Li3PS4", "Li3PS4"],
            "route": ["Ball-Mill", None],
            "state": ["GLASS", "Amorphous Ceramic"],
            "heat_treatment_C": ["250", ""],
        }
    )
    _, errors, processing = _row_errors(frame)
    assert errors == ["", ""]
    assert processing["route"].tolist() == ["ball_mill", "melt_quench"]
    assert processing["state"].tolist() == ["glass", "amorphous_ceramic"]
    assert processing["heat_treatment_C"].iloc[0] == 250.0 and math.isnan(processing["heat_treatment_C"].iloc[1])


@pytest.mark.parametrize("column", ["temperature_C", "heat_treatment_C"])
@pytest.mark.parametrize(
    "value",
    [
        -300,
        -273.15,
        -151,
        -150,
        -1,
        0,
        25,
        1000,
        1000.5,
        1600,
        1601,
        3000,
        5000,
        "1e400",
        "inf",
        "-inf",
        "hot",
        "nan",
        True,
    ],
)
def test_a_value_is_in_range_for_predict_exactly_when_it_is_for_extra_data(column, value):
    predict, extra = _predict_error(**{column: value}), _extra_error(**{column: value})
    assert predict == extra
    if column == "heat_treatment_C":
        assert _featurize_error(heat_treatment_C=value) == predict
        try:
            parse_range(str(value), "--heat-treatment-C")
        except SpaceError:
            assert predict
        else:
            assert not predict and isinstance(value, (int, float))
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if number is not None:
        assert (predict == "") == (number in RANGES[column])
    else:
        assert predict.endswith("is not a number")


@pytest.mark.parametrize(
    ("column", "value", "ok"),
    [
        ("sigma_S_cm", 1e-4, True),
        ("sigma_S_cm", 10.0, True),
        ("sigma_S_cm", 50.0, False),
        ("sigma_S_cm", 0.0, False),
        ("Ea_eV", 0.35, True),
        ("Ea_eV", 3.0, True),
        ("Ea_eV", 0.0, False),
        ("Ea_eV", -0.2, False),
        ("Ea_eV", 7.0, False),
    ],
)
def test_measurement_ranges(column, value, ok):
    error = _extra_error(**{column: value})
    assert (error == "") == ok
    assert error == check_rows(pd.DataFrame({column: [value]})).errors[0]


# --------------------------------------------------------------------------- numeric options


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "70Li2S-30P2S5", "--temperature-C", "nan"], "error: --temperature-C nan is not a number"),
        (["predict", "70Li2S-30P2S5", "--temperature-C", "inf"], "error: --temperature-C inf is not a number"),
        (["predict", "70Li2S-30P2S5", "--heat-treatment-C", "nan"], "error: --heat-treatment-C nan is not a number"),
        (
            ["predict", "70Li2S-30P2S5", "--temperature-C", "-300"],
            "error: --temperature-C -300 outside [-150, 1000] degC",
        ),
        (["map", "Li2S-P2S5", "--temperature-C", "nan"], "error: --temperature-C nan is not a number"),
        (["suggest", "--space", SPACE, "--temperature-C", "-inf"], "error: --temperature-C -inf is not a number"),
    ],
)
def test_nan_in_a_numeric_option_is_a_one_line_error(args, message, tmp_path):
    """Exit 2 before any model loads (the model folder here holds none)."""
    from nce.cli import app

    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path), "--quiet"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.strip().splitlines() == [message]


def test_the_python_api_refuses_nan_for_all_rows():
    import nce

    with pytest.raises(RowError, match="temperature_C nan is not a number"):
        nce.predict(["Li3PS4"], model="/nonexistent", temperature_C=float("nan"))


def test_check_option():
    assert check_option(None, "--temperature-C", "temperature_C") is None
    assert check_option("25", "--temperature-C", "temperature_C") == 25.0
    assert check_option("Ball-mill", "--route", "route") == "ball_mill"
    for bad in ("", "  ", float("nan")):
        with pytest.raises(RowError, match="^--state"):
            check_option(bad, "--state", "state")


# --------------------------------------------------------------------------- any cell at all

cells = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.booleans(),
    st.sampled_from([*ROUTES, *STATES, "Melt-quench", "GLASS", "nan", "inf", " 25 ", "1e400", pd.NA]),
    st.lists(st.integers(), max_size=2),
    st.binary(max_size=4),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(*[cells] * len(COLUMNS)), min_size=1, max_size=6))
def test_any_cell_gives_an_nce_error_or_a_canonical_value(records):
    frame = pd.DataFrame(records, columns=list(COLUMNS), dtype=object, index=[f"r{i}" for i in range(len(records))])
    checked = check_rows(frame)  # never raises for a cell's value
    assert len(checked.errors) == len(frame)
    for (_, row), error in zip(checked.values.iterrows(), checked.errors):
        assert "\n" not in error and len(error) <= 400
        if not error:
            assert row["route"] in ROUTES and row["state"] in STATES
            for column, bounds in RANGES.items():
                assert math.isnan(row[column]) or row[column] in bounds
    bad = [label for label, e in zip(frame.index, checked.errors) if e]
    try:
        validate_rows(frame)
    except NCEError as exc:
        assert isinstance(exc, RowError) and bad
        assert str(exc).startswith(f"row {bad[0]!r}: "), str(exc)
        assert "\n" not in str(exc) and len(str(exc)) <= 400
    else:
        assert not bad


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(cells, min_size=1, max_size=5), st.sampled_from(["route", "state", "heat_treatment_C"]))
def test_featurizer_and_extra_data_raise_only_nce_errors(values, column):
    frame = pd.DataFrame({column: pd.Series(values, dtype=object)})
    try:
        processing_features(frame)
    except NCEError as exc:
        assert isinstance(exc, ProcessingError) and str(exc).startswith("row ")
    extra = frame.assign(composition="70Li2S-30P2S5", temperature_C=25.0, sigma_S_cm=1e-4)
    try:
        measurement_rows(extra, "mine.csv", "user")
    except NCEError as exc:
        assert isinstance(exc, ExtraDataError) and str(exc).startswith("mine.csv row ")


# --------------------------------------------------------------------------- atomic writes


def test_atomic_path_writes_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyError
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.txt.")
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_paths_rename_all_or_none(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.json"]
    with pytest.raises(OSError):
        with atomic_paths(paths, prefix=".stage-") as temps:
            assert all(t.name.startswith(".stage-") for t in temps)
            temps[0].write_text("a")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    with atomic_paths(paths) as temps:
        for t, text in zip(temps, ("a", "b")):
            t.write_text(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"] and paths[1].read_text() == "b"


def test_atomic_directory_first_writer_wins_or_replaces(tmp_path):
    """The sub-model cache keeps a folder another process finished first; a rebuild
    (``replace=True``) swaps the whole folder; a failed block leaves the old one untouched."""
    from nce.data.files import atomic_directory

    target = tmp_path / "model"
    with atomic_directory(target) as folder:
        (folder / "a.txt").write_text("first")
    with atomic_directory(target) as folder:  # someone else's folder is already there: kept
        (folder / "a.txt").write_text("second")
    assert (target / "a.txt").read_text() == "first"
    with atomic_directory(target, replace=True) as folder:
        (folder / "b.txt").write_text("rebuilt")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    with pytest.raises(RuntimeError), atomic_directory(target, replace=True) as folder:
        (folder / "c.txt").write_text("half")
        raise RuntimeError("killed mid-write")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left
