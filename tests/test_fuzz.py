"""Fuzzing (issue 8): hostile input ends in NCE's own error or a valid result.

Targets and generated examples (``max_examples``; hypothesis stops early only when a
strategy runs out of distinct inputs, which none of these do):

- composition parser ``parse_composition``: paper-style texts with random edits (2,500),
  any unicode text (1,500), very long texts (300), JSON-like mappings as objects and as
  text (1,500), non-text objects (300)                                       = 6,100
- ``--space`` parsing ``build_space`` with constraints, states, heat treatment and route
  (2,500), and sampling candidates from the spaces that parse (400)            = 2,900
- ``nce predict --input --output`` through ``predict_file`` on one loaded model: well-formed
  CSVs with hostile cells (900), CSVs with byte-level damage (400), Parquet files with wrong
  column types (300)                                                           = 1,600
- the real command line (typer's CliRunner): ``nce predict --input`` on generated CSVs (50)
  and ``nce suggest --space`` on generated space texts (40)                    =    90
                                                                         total = 10,690

Each must end in CompositionError / a UserError subclass with a one-line message, or in a
valid result; prediction files must keep every input row, and a failed run leaves no file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nce.data.schema import ELEMENT_SYMBOLS, ROUTES, STATES
from nce.featurize import CompositionError, parse_composition
from nce.models import io as model_io
from nce.pipelines.errors import UserError
from nce.pipelines.search_space import SpaceError, build_space

FUZZ = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
MAX_MESSAGE = 400  # characters: an error is one readable line

# --------------------------------------------------------------------------- building blocks

SYMBOLS = [
    "Li",
    "Na",
    "K",
    "Ag",
    "Cu",
    "P",
    "S",
    "O",
    "Si",
    "B",
    "Ge",
    "Ga",
    "I",
    "Br",
    "Cl",
    "N",
    "Al",
    "Zn",
    "H",
    "D",
    "Xx",
    "Q",
    "Uue",
    "Og",
    "e",
    "li",
    "LI",
]
COMPONENTS = [
    "Li2S",
    "P2S5",
    "LiI",
    "Li2O",
    "SiO2",
    "B2O3",
    "GeS2",
    "Ga2S3",
    "Ca(PO3)2",
    "(NH4)2SO4",
    "AgI",
    "AgPO3",
    "Li3PS4",
    "Li2.9PO3.3N0.46",
    "Na2O",
    "LiBr",
    "Al2O3",
]
NUMBER_TEXTS = [
    "70",
    "30",
    "0",
    "00",
    ".5",
    "5.",
    "0.7",
    "1e2",
    "1E-3",
    "-5",
    "1e400",
    "1e-400",
    "9" * 400,
    "nan",
    "inf",
    "1_000",
    "½",
    "٣",
    "７０",
    "5e",
    "+3",
    "1e308",
    "5e-324",
    "100.0000001",
]
SEPARATORS = ["-", "–", "—", "−", "·", "•", "*", "+", " ", "  ", "\t", "\n", "/", ",", ";", ":", "", "–\u200b", "- -"]
HOSTILE = list("(){}[]%\"'\\.,;:=<>|&^$#@!?~`") + [
    "\x00",
    "\x7f",
    "\ufeff",
    "\u200b",
    "\u202e",
    "\ud7ff",
    "🔋",
    "ß",
    "Å",
    "₂",
    "²",
    "\u00a0",
    "\r",
    "Ω",
    "ﬁ",
    "\U0001f9ea",
]

numbers = st.one_of(
    st.sampled_from(NUMBER_TEXTS),
    st.integers(0, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
leaf = st.lists(st.tuples(st.sampled_from(SYMBOLS), st.one_of(st.just(""), numbers)), min_size=1, max_size=4).map(
    lambda parts: "".join(s + n for s, n in parts)
)
formula = st.one_of(
    st.sampled_from(COMPONENTS),
    leaf,
    leaf.map(lambda f: f"({f})"),
    st.tuples(leaf, numbers).map(lambda t: f"({t[0]}){t[1]}"),
)


@st.composite
def glass_text(draw, depth: int = 0) -> str:
    """Compositions written the way papers write them (and the ways they get it wrong)."""
    n = draw(st.integers(1, 5))
    terms = []
    for _ in range(n):
        kind = draw(st.integers(0, 5 if depth < 2 else 3))
        amount = draw(numbers)
        f = draw(formula)
        if kind == 0:
            terms.append(f"{amount}{f}")
        elif kind == 1:
            terms.append(f"({f}){amount}")
        elif kind == 2:
            terms.append(f)
        elif kind == 3:
            terms.append(f"{amount}%{f}")
        else:
            terms.append(f"{amount}({draw(glass_text(depth + 1))})")
    text = ""
    for i, t in enumerate(terms):
        text += (draw(st.sampled_from(SEPARATORS)) if i else "") + t
    return text


@st.composite
def mutated(draw, base) -> str:
    """A text with random insertions, deletions and replacements of hostile characters."""
    text = draw(base)
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 2))
        char = draw(st.one_of(st.sampled_from(HOSTILE), st.characters()))
        if op == 0:
            text = text[:pos] + char + text[pos:]
        elif op == 1:
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + char + text[pos + 1 :]
    return text


def check_message(exc: BaseException) -> str:
    message = str(exc)
    assert message, f"{type(exc).__name__} without a message"
    assert "\n" not in message and "\r" not in message and len(message) <= MAX_MESSAGE, message[:500]
    return message


def check_parse(value) -> str:
    """parse_composition either raises CompositionError or returns a sound composition."""
    try:
        comp = parse_composition(value)
    except CompositionError as exc:
        check_message(exc)
        event("CompositionError")
        return "error"
    event("parsed")
    atoms = comp.atoms
    assert atoms and set(atoms) <= ELEMENT_SYMBOLS, atoms
    assert all(math.isfinite(v) and v > 0 for v in atoms.values()), atoms
    assert math.fsum(atoms.values()) == pytest.approx(1.0, rel=1e-9)
    if comp.components:
        amounts = list(comp.components.values())
        assert all(math.isfinite(v) and v > 0 for v in amounts), comp.components
        assert math.fsum(amounts) == pytest.approx(100.0, rel=1e-9)
    else:
        assert comp.formula
    again = parse_composition(comp.normalized)  # the canonical text reads back as the same glass
    assert set(again.atoms) == set(atoms), (comp.normalized, again.atoms, atoms)
    for element, fraction in atoms.items():
        assert again.atoms[element] == pytest.approx(fraction, abs=2e-4), (comp.normalized, element)
    return "ok"


# --------------------------------------------------------------------------- the parser


@settings(max_examples=2500, **FUZZ)
@given(mutated(glass_text()))
def test_parser_paper_style_texts_with_edits(text):
    check_parse(text)


@settings(max_examples=1500, **FUZZ)
@given(st.text(max_size=200))
def test_parser_any_unicode_text(text):
    check_parse(text)


@settings(max_examples=300, **FUZZ)
@given(
    st.one_of(glass_text(), st.text(min_size=1, max_size=5)),
    st.integers(100, 4000),
    st.sampled_from(["", "-", " ", "("]),
)
def test_parser_very_long_texts(unit, repeat, glue):
    check_parse(glue.join([unit] * repeat))


amount_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.just({"a": 1}),
)
mapping_keys = st.one_of(
    formula, st.text(max_size=12), glass_text(), st.sampled_from(["", " ", "Li2S ", " Li2S", "70Li2S", "(Li2S"])
)
mappings = st.dictionaries(
    st.one_of(mapping_keys, st.integers(), st.none(), st.tuples(st.integers())), amount_values, max_size=5
)


@settings(max_examples=1500, **FUZZ)
@given(mappings)
def test_parser_mappings_as_objects_and_as_json_text(mapping):
    check_parse(mapping)
    try:
        text = json.dumps({k: v for k, v in mapping.items() if isinstance(k, str)}, allow_nan=True)
    except (TypeError, ValueError):
        return
    check_parse(text)


@settings(max_examples=300, **FUZZ)
@given(
    st.one_of(
        st.integers(),
        st.floats(),
        st.none(),
        st.binary(max_size=20),
        st.lists(st.text(max_size=5), max_size=3),
        st.booleans(),
        st.tuples(st.text(max_size=5)),
        st.just(object()),
    )
)
def test_parser_non_text_objects(value):
    check_parse(value)


def test_parser_finds_recorded_bugs():
    """Inputs the fuzzing found before the parser was fixed (each once gave NaN, a silent
    drop or an unreadable message)."""
    with pytest.raises(CompositionError, match="too large"):
        parse_composition("Li" + "9" * 400 + "S")  # NaN atomic fractions before
    with pytest.raises(CompositionError, match="too small"):
        parse_composition("Li0.0000000000000000000001S")  # Li silently dropped by pymatgen before
    with pytest.raises(CompositionError, match="at most 10,000"):
        parse_composition("Li2S-" * 5000 + "P2S5")
    message = str(pytest.raises(CompositionError, parse_composition, "Xx" + "Q" * 5000).value)
    assert len(message) <= 300 and message.startswith("unknown element 'Xx'")
    assert parse_composition("D2O").atoms == parse_composition("H2O").atoms


# --------------------------------------------------------------------------- --space parsing

bounds = st.one_of(
    st.integers(0, 100).map(str),
    st.sampled_from(NUMBER_TEXTS + ["", "100", "60.5", "-0", "1e1", "101"]),
    st.floats(-1e3, 1e3).map(lambda v: f"{v:g}"),
)
space_names = st.one_of(
    st.sampled_from(COMPONENTS),
    formula,
    st.text(max_size=8),
    st.sampled_from(["70Li2S", "(Li2S)", " Li2S ", "Li2S-P2S5", "Li2S P2S5", '{"Li2S": 1}', "Li₂S", "li2s"]),
)
space_part = st.one_of(
    st.tuples(
        space_names,
        bounds,
        bounds,
        st.sampled_from([(":", "-"), (" : ", " - "), (":", "–"), ("=", "-"), (":", ".."), (":", "")]),
    ).map(lambda t: f"{t[0]}{t[3][0]}{t[1]}{t[3][1]}{t[2]}"),
    st.text(max_size=10),
)
spaces = st.one_of(
    st.lists(space_part, max_size=6).map(",".join),
    st.text(max_size=40),
    st.lists(
        st.sampled_from(["Li2S:60-80", "P2S5:20-40", "LiI:0-30", "Li2O:0-100", "SiO2:0-50"]), min_size=1, max_size=5
    ).map(",".join),
)
linear = st.lists(
    st.tuples(
        st.sampled_from(["", "-", "+"]),
        st.sampled_from(["", "0.5*", "2*", "1e-5*", "1e308*", "*", "x*"]),
        st.sampled_from(["Li2S", "P2S5", "LiI", "Li2O", "SiO2", "70", "Q", ""]),
    ),
    min_size=1,
    max_size=3,
).map(lambda terms: " ".join(f"{s}{c}{n}" for s, c, n in terms))
constraints = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.lists(st.tuples(linear, st.sampled_from(["<=", ">=", "<", "=", "=>"]), linear).map(" ".join), max_size=3).map(
        "; ".join
    ),
)
state_texts = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.lists(st.sampled_from([*STATES, "melted", "", " glass", "GLASS"]), max_size=3).map(",".join),
)
heat_texts = st.one_of(st.none(), bounds, st.tuples(bounds, bounds).map("-".join), st.text(max_size=8))
route_texts = st.one_of(st.none(), st.sampled_from([*ROUTES, "teleport", "", "Ball_Mill"]), st.text(max_size=8))


def check_space(space):
    """A parsed space is one a user meant: bare formulas, bounds that can sum to 100."""
    assert space.components and len(space.components) == len(space.lower) == len(space.upper)
    formulas = []
    for name, lo, hi in zip(space.components, space.lower, space.upper):
        parsed = parse_composition(name)
        assert parsed.formula and not parsed.components, name
        formulas.append(parsed.formula)
        assert 0 <= lo <= hi <= 100
    assert len(set(formulas)) == len(formulas), space.components  # the same compound twice
    assert sum(space.lower) <= 100 + 1e-6 <= sum(space.upper) + 2e-6
    assert set(space.states) <= set(STATES)
    assert space.route is None or space.route in ROUTES
    if space.heat_treatment_C is not None:
        lo, hi = space.heat_treatment_C
        assert 0 <= lo <= hi <= 1600
    # a point of the space written as the user's composition text reads back as that point
    x = np.array(space.lower, dtype=float)
    for i, hi in enumerate(space.upper):
        x[i] += min(hi - x[i], max(0.0, 100.0 - x.sum()))
    comp = parse_composition(space.composition_text(x))
    expected = {}
    for f, v in zip(formulas, x):
        if round(v, 2) > 0:
            expected[parse_composition(f).formula] = v
    assert set(comp.components) == set(expected), (space.composition_text(x), comp.components)
    for f, v in expected.items():
        assert comp.components[f] == pytest.approx(v, abs=0.05)


def parse_space_or_error(text, constraint, states, heat, route):
    try:
        space = build_space(text, constraint, states, heat, route)
    except SpaceError as exc:
        check_message(exc)
        event("SpaceError")
        return None
    event("space parsed")
    check_space(space)
    return space


@settings(max_examples=2500, **FUZZ)
@given(spaces, constraints, state_texts, heat_texts, route_texts)
def test_space_parsing(text, constraint, states, heat, route):
    parse_space_or_error(text, constraint, states, heat, route)


@settings(max_examples=400, **FUZZ)
@given(
    st.lists(
        st.sampled_from(["Li2S:60-80", "P2S5:20-40", "LiI:0-30", "Li2O:0-100", "SiO2:0-50", "GeS2:5-5", "B2O3:0-1e-3"]),
        min_size=1,
        max_size=5,
        unique=True,
    ).map(",".join),
    constraints,
    state_texts,
    heat_texts,
    st.integers(1, 6),
)
def test_space_sampling(text, constraint, states, heat, n):
    space = parse_space_or_error(text, constraint, states, heat, None)
    if space is None:
        return
    try:
        frame = space.sample(n, max_draws=1 << 13)
    except SpaceError as exc:
        check_message(exc)
        return
    assert 1 <= len(frame) <= n
    x = frame[list(space.components)].to_numpy(dtype=float)
    assert space.feasible(x).all()
    for text_ in frame["composition"]:
        assert parse_composition(text_).components


def test_space_bugs_found_by_fuzzing():
    with pytest.raises(SpaceError, match="not a single compound"):
        build_space("70Li2S:0-100,P2S5:0-100")  # written as 5070Li2S in suggestions before
    with pytest.raises(SpaceError, match="twice"):
        build_space("Li2S:0-100,(Li2S):0-100")  # the same compound under two spellings


# --------------------------------------------------------------------------- predict --input

NA_TEXTS = {
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
}
NUMERIC_OUT = ["log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi", "Ea_eV", "Ea_eV_lo", "Ea_eV_hi", "novelty"]
composition_cells = st.one_of(
    st.sampled_from(
        ["70Li2S-30P2S5", "Li3PS4", "80(0.7Li2S-0.3P2S5)-20LiI", "50Li2O-50SiO2", "Li2.9PO3.3N0.46", "33LiI-67Li3PS4"]
    ),
    glass_text(),
    mutated(st.sampled_from(COMPONENTS)),
    st.text(max_size=30),
    st.sampled_from(sorted(NA_TEXTS)),
    st.sampled_from(["70", "1e400", '"quoted"', "a,b", "line\nbreak", "  ", "Li2S" * 3000, "🔋" * 50, '{"Li2S": 70}']),
)
number_cells = st.one_of(
    st.sampled_from(
        [
            "25",
            "100",
            "-300",
            "-273.15",
            "3001",
            "1e400",
            "nan",
            "inf",
            "hot",
            "",
            " 25 ",
            "0x10",
            "True",
            "25,5",
            "1e-300",
            "9" * 400,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
vocab_cells = st.one_of(
    st.sampled_from([*ROUTES, *STATES, "", "melted", " glass", "GLASS", "nan"]), st.text(max_size=6)
)
OPTIONAL = {
    "temperature_C": number_cells,
    "heat_treatment_C": number_cells,
    "route": vocab_cells,
    "state": vocab_cells,
    "sample_id": st.text(max_size=8),
    "": st.text(max_size=4),
    "ünïcødé, col": st.text(max_size=4),
    "error": st.text(max_size=4),
}


@st.composite
def csv_inputs(draw):
    """Header and records (lists of cells), with composition present most of the time."""
    columns = draw(st.lists(st.sampled_from(sorted(OPTIONAL)), unique=True, max_size=4))
    if draw(st.integers(0, 9)):
        columns.insert(draw(st.integers(0, len(columns))), "composition")
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        rows.append([draw(composition_cells if c == "composition" else OPTIONAL[c]) for c in columns])
    return columns, rows


def write_csv(columns, rows, quoting, newline, bom, blank_after) -> tuple[bytes, list[int]]:
    """CSV bytes and the positions (in the records as read) of the blank lines inserted."""
    if any("\r" in cell for row in [columns, *rows] for cell in row):
        quoting = csv.QUOTE_ALL  # csv quotes a lone CR only when told to
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=quoting, lineterminator=newline)
    writer.writerow(columns)
    blanks = []
    for i, row in enumerate(rows):
        writer.writerow(row)
        if i in blank_after and i < len(rows) - 1:
            buffer.write(newline)  # a blank line between records: a row with every cell empty
            blanks.append(i + 1 + len(blanks))
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8", errors="surrogatepass"), blanks


def read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False)


def check_prediction_file(out: Path, n_rows: int, columns: list[str] | None, temperature: bool) -> pd.DataFrame:
    res = read_output(out)
    assert len(res) == n_rows, (len(res), n_rows)
    if columns is not None:
        assert [c for c in columns if c not in res.columns] == []
    errors = res["error"].fillna("").astype(str)
    for message in errors:
        assert "\n" not in message and len(message) <= MAX_MESSAGE, message[:500]
    numbers = res[NUMERIC_OUT].apply(pd.to_numeric, errors="coerce")
    bad = errors.to_numpy() != ""
    assert numbers[bad].isna().all().all()
    good = numbers[~bad]
    assert np.isfinite(good.to_numpy(dtype=float)).all()
    assert (good["log10_sigma25_lo"] <= good["log10_sigma25"] + 1e-9).all() and (
        good["log10_sigma25"] <= good["log10_sigma25_hi"] + 1e-9
    ).all()
    assert (res.loc[~bad, "normalized_composition"].astype(str).str.len() > 0).all()
    assert (good["novelty"] > 0).all() and (good["Ea_eV_lo"] <= good["Ea_eV_hi"]).all()
    # a usable row is out of the domain exactly when it says why, in one line; a bad row says nothing
    warning = res["warning"].fillna("").astype(str).to_numpy()
    in_domain = res["in_domain"].astype(str).str.lower().isin(("true", "1")).to_numpy()
    assert all("\n" not in w for w in warning)
    assert (warning[bad] == "").all() and not in_domain[bad].any()
    assert ((warning[~bad] == "") == in_domain[~bad]).all()
    if temperature:
        assert "log10_sigma_T" in res
    return res


@pytest.fixture(scope="module")
def fuzz_model(small_model_dir):

    return model_io.load(small_model_dir)


def run_predict_file(model, data: bytes, suffix: str, out_suffix: str, overrides, strict, chunk_rows):
    """predict_file in a fresh folder: (result or UserError, output path, files left over)."""
    from nce.pipelines.predict import predict_file

    folder = Path(tempfile.mkdtemp(prefix="nce-fuzz-"))
    try:
        inp = folder / f"in{suffix}"
        inp.write_bytes(data)
        out = folder / f"out{out_suffix}"
        try:
            outcome = predict_file(model, inp, out, overrides, strict, chunk_rows=chunk_rows)
        except UserError as exc:
            check_message(exc)
            event("UserError")
            outcome = exc
        else:
            event(
                "valid file"
                + (" with row errors" if outcome["errors"] else "")
                + (" and usable rows" if outcome["rows"] > outcome["errors"] else "")
            )
        left = sorted(p.name for p in folder.iterdir() if p.name != inp.name)
        if isinstance(outcome, UserError):
            assert left == [], left  # no partial output, no temporary file
            return outcome, None, folder
        assert left == [out.name], left
        return outcome, out, folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


overrides_st = st.one_of(
    st.just({}),
    st.just({}),
    st.builds(lambda t: {"temperature_C": t}, st.floats(-500, 5000)),
    st.sampled_from([{"route": "ball_mill"}, {"state": "glass_ceramic", "heat_treatment_C": 250.0}]),
)


@settings(max_examples=900, **FUZZ)
@given(
    csv_inputs(),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.sets(st.integers(0, 5), max_size=2),
    st.sampled_from([".csv", ".parquet"]),
    overrides_st,
    st.booleans(),
    st.integers(1, 4),
)
def test_predict_file_well_formed_csv_with_hostile_cells(
    fuzz_model, table, quoting, newline, bom, blank_after, out_suffix, overrides, strict, chunk_rows
):
    columns, rows = table
    data, blanks = write_csv(columns, rows, quoting, newline, bom, blank_after)
    outcome, out, folder = run_predict_file(fuzz_model, data, ".csv", out_suffix, overrides, strict, chunk_rows)
    try:
        n_rows = len(rows) + len(blanks)
        if any("\x00" in cell for row in [columns, *rows] for cell in row):
            assert isinstance(outcome, UserError) and "NUL bytes" in str(outcome)
            return
        if "composition" not in columns:
            assert isinstance(outcome, UserError)
            assert "'composition' is missing" in str(outcome) or not columns, str(outcome)
            return
        if isinstance(outcome, UserError):
            assert strict or n_rows == 0, str(outcome)  # a bad row under --strict, or a file without rows
            if strict and n_rows:
                assert str(outcome).startswith("row ")
            return
        assert outcome["rows"] == n_rows
        kept_columns = [c for c in columns if c]  # pandas names an empty header 'Unnamed: k'
        res = check_prediction_file(
            out, n_rows, kept_columns, "temperature_C" in columns or "temperature_C" in overrides
        )
        if strict:
            assert outcome["errors"] == 0
        # every composition cell is kept as written (pandas reads its NA words as empty)
        cells = [r[columns.index("composition")] for r in rows]
        for position in blanks:
            cells.insert(position, "")
        expected = ["" if c in NA_TEXTS else c for c in cells]
        assert res["composition"].fillna("").astype(str).tolist() == expected
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@st.composite
def damaged_csv(draw) -> bytes:
    columns, rows = draw(csv_inputs())
    data, _ = write_csv(columns, rows, csv.QUOTE_MINIMAL, "\n", False, set())
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 4))
        if op == 0:
            data[pos:pos] = draw(
                st.sampled_from([b'"', b",", b"\n", b"\r", b"\x00", b"\xff\xfe", b"\xe9", b",,,,", b'"a""b', b"\\"])
            )
        elif op == 1:
            del data[pos : pos + draw(st.integers(1, 5))]
        elif op == 2:
            data = data[:pos]  # truncated file
        elif op == 3:
            data[pos:pos] = draw(st.binary(max_size=8))
        else:
            data = bytearray(data.decode("utf-8", errors="replace").encode("utf-16")) if draw(st.booleans()) else data
    return bytes(data)


@settings(max_examples=400, **FUZZ)
@given(damaged_csv(), st.sampled_from([".csv", ".parquet"]), st.integers(1, 3))
def test_predict_file_damaged_csv(fuzz_model, data, out_suffix, chunk_rows):
    outcome, out, folder = run_predict_file(fuzz_model, data, ".csv", out_suffix, {}, False, chunk_rows)
    try:
        if isinstance(outcome, UserError):
            return
        reference = pd.read_csv(io.BytesIO(data), dtype=str, skip_blank_lines=False, index_col=False)
        assert outcome["rows"] == len(reference)
        check_prediction_file(out, len(reference), [str(c) for c in reference.columns], False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def typed_column(kind: str, n: int, draw):
    values = {
        "str": st.one_of(composition_cells, st.none()),
        "int": st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()),
        "float": st.floats(allow_nan=True, allow_infinity=True),
        "bool": st.one_of(st.booleans(), st.none()),
        "binary": st.one_of(st.binary(max_size=10), st.just(b"70Li2S-30P2S5")),
        "list": st.lists(st.integers(0, 9), max_size=3),
    }[kind]
    return [draw(values) for _ in range(n)]


@st.composite
def parquet_inputs(draw):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = draw(st.integers(1, 6))
    columns = {"composition": draw(st.sampled_from(["str", "str", "int", "float", "bool", "binary", "list"]))}
    for name in draw(
        st.lists(
            st.sampled_from(["temperature_C", "heat_treatment_C", "route", "state", "note"]), unique=True, max_size=3
        )
    ):
        columns[name] = draw(st.sampled_from(["str", "int", "float", "bool", "list"]))
    data = {name: typed_column(kind, n, draw) for name, kind in columns.items()}
    buffer = io.BytesIO()
    pq.write_table(pa.table(data), buffer, row_group_size=draw(st.integers(1, 3)))
    return buffer.getvalue(), n, list(columns)


@settings(max_examples=300, **FUZZ)
@given(parquet_inputs(), st.sampled_from([".csv", ".parquet"]), st.integers(1, 3))
def test_predict_file_parquet_with_wrong_types(fuzz_model, table, out_suffix, chunk_rows):
    data, n, columns = table
    outcome, out, folder = run_predict_file(fuzz_model, data, ".parquet", out_suffix, {}, False, chunk_rows)
    try:
        assert not isinstance(outcome, UserError), str(outcome)  # typed files are always readable
        assert outcome["rows"] == n
        check_prediction_file(out, n, columns, "temperature_C" in columns)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_predict_reader_bugs_found_by_fuzzing(fuzz_model, tmp_path):
    """Reader faults the fuzzing found (each silently lost or misread rows before)."""
    from nce.pipelines.predict import predict_file

    out = tmp_path / "out.csv"
    (tmp_path / "nul.csv").write_bytes(b"composition\nLi3\x00PS4\n")  # read as 'Li3' before
    with pytest.raises(UserError, match="NUL bytes"):
        predict_file(fuzz_model, tmp_path / "nul.csv", out)
    (tmp_path / "extra.csv").write_text("composition,temperature_C\n70Li2S-30P2S5,25,99\n")  # column 1 became the index
    with pytest.raises(UserError, match="more fields than the header"):
        predict_file(fuzz_model, tmp_path / "extra.csv", out)
    # a longer row opening a later chunk: pandas dropped its extra field without a word
    (tmp_path / "late.csv").write_text("composition,a,b\nLi3PS4,1,2\nLi3PS4,1,2\nLi3PS4,1,2,9\n")
    with pytest.raises(UserError, match="row 3 has more fields than the header"):
        predict_file(fuzz_model, tmp_path / "late.csv", out, chunk_rows=2)
    (tmp_path / "blank.csv").write_text("composition\nLi3PS4\n\n70Li2S-30P2S5\n")  # the blank row was dropped
    assert predict_file(fuzz_model, tmp_path / "blank.csv", out)["rows"] == 3
    assert read_output(out)["error"].tolist() == ["", "empty composition", ""]
    (tmp_path / "cr.csv").write_text('composition,note\r\nLi3PS4,"a\rb"\r\n')  # the CR split the output row before
    assert predict_file(fuzz_model, tmp_path / "cr.csv", out)["rows"] == 1 and len(read_output(out)) == 1
    (tmp_path / "drift.csv").write_text(
        "composition,temperature_C\nLi3PS4,25\nLi3PS4,hot\n"
    )  # pyarrow traceback before
    counts = predict_file(fuzz_model, tmp_path / "drift.csv", tmp_path / "out.parquet", chunk_rows=1)
    assert counts == {"rows": 2, "errors": 1}
    with pytest.raises(UserError, match="is a folder"):
        predict_file(fuzz_model, tmp_path / "drift.csv", tmp_path)
    assert not list(tmp_path.glob(".out*"))


# --------------------------------------------------------------------------- the command line


@settings(max_examples=50, **FUZZ)
@given(csv_inputs(), st.sampled_from(["out.csv", "out.parquet", None]), st.booleans())
def test_cli_predict_on_generated_files(small_model_dir, table, output, strict):
    from typer.testing import CliRunner

    from nce.cli import app

    columns, rows = table
    data, _ = write_csv(columns, rows, csv.QUOTE_MINIMAL, "\n", False, set())
    folder = Path(tempfile.mkdtemp(prefix="nce-cli-fuzz-"))
    try:
        inp = folder / "in.csv"
        inp.write_bytes(data)
        args = ["predict", "--input", str(inp), "--model", str(small_model_dir), "--quiet"]
        if output:
            args += ["--output", str(folder / output)]
        if strict:
            args.append("--strict")
        result = CliRunner().invoke(app, args)
        event(f"exit code {result.exit_code}")
        assert result.exit_code in (0, 2), (result.exit_code, result.output[-2000:], result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output and "Traceback" not in (result.stderr or "")
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            if output:
                assert not (folder / output).exists() and not list(folder.glob(".out*"))
        elif output:
            assert len(read_output(folder / output)) == len(rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def invoke_suggest(args: list[str], output: Path):
    """``nce suggest`` through the CLI, held to the contract: exit 0, or exit 2 with one
    short line on stderr and no output file; never a traceback."""
    from typer.testing import CliRunner

    from nce.cli import app

    result = CliRunner().invoke(app, args)
    event(f"exit code {result.exit_code}")
    assert result.exit_code in (0, 2), (result.exit_code, result.output[-2000:], result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) <= MAX_MESSAGE, result.stderr
        assert not output.exists()
    return result


@settings(max_examples=40, **FUZZ)
@given(spaces, constraints, state_texts, heat_texts)
def test_cli_suggest_space_on_generated_text(small_model_dir, mlflow_store, text, constraint, states, heat):
    """``nce suggest --space`` as typed: exit 2 with one line, or a written batch."""

    folder = Path(tempfile.mkdtemp(prefix="nce-cli-suggest-"))
    try:
        args = [
            "suggest",
            "--space",
            text,
            "--n",
            "2",
            "--model",
            str(small_model_dir),
            "--output",
            str(folder / "next.csv"),
            "--quiet",
        ]
        for option, value in (("--constraint", constraint), ("--state", states), ("--heat-treatment-C", heat)):
            if value is not None:
                args += [option, value]
        result = invoke_suggest(args, folder / "next.csv")
        if result.exit_code == 0:
            assert 1 <= len(pd.read_csv(folder / "next.csv")) <= 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=30, **FUZZ)
@given(csv_inputs())
def test_cli_suggest_candidates_on_generated_files(small_model_dir, mlflow_store, table):
    """``nce suggest --candidates`` on generated files: one line and exit 2 for any bad row
    (nothing written), or a batch of the file's own rows, none invented and none dropped."""

    columns, rows = table
    data, _ = write_csv(columns, rows, csv.QUOTE_MINIMAL, "\n", False, set())
    folder = Path(tempfile.mkdtemp(prefix="nce-cli-pool-"))
    try:
        (folder / "pool.csv").write_bytes(data)
        args = ["suggest", "--candidates", str(folder / "pool.csv"), "--n", "2"]
        args += ["--model", str(small_model_dir), "--output", str(folder / "next.csv"), "--quiet"]
        result = invoke_suggest(args, folder / "next.csv")
        if result.exit_code == 0:
            assert "temperature_C" not in columns  # a measurement column is refused
            chosen = pd.read_csv(folder / "next.csv")
            assert 1 <= len(chosen) <= min(2, len(rows)) and chosen["candidate_row"].is_unique
            assert chosen["candidate_row"].between(2, len(rows) + 1).all()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    "args,message",
    [
        # the estimators' own parameter constraints, named by the option (a traceback after featurizing before)
        (
            ["train", "--params", '{"n_estimators": "x"}'],
            "--params: The 'n_estimators' parameter of BoostedRegressor must be an int",
        ),
        (
            ["train", "--params", '{"learning_rate": NaN}'],
            "'learning_rate' parameter of BoostedRegressor must be a float in the range (0.0, inf). Got nan",
        ),
        (
            ["train", "--params", '{"subsample": 2}'],
            "'subsample' parameter of BoostedRegressor must be a float in the range (0.0, 1.0]",
        ),
        (["train", "--params", '{"loss": "hinge"}'], "'loss' parameter of BoostedRegressor must be a str among"),
        (["evaluate", "--params", '{"colour": 1}'], "--params: unknown setting 'colour'"),
        (
            ["tune", "--params", '{"max_depth": 0}'],
            "'max_depth' parameter of BoostedRegressor must be an int in the range [1, inf)",
        ),
        (
            ["tune", "--featurizer-params", '{"max_rows_per_table": "abc"}'],
            "--featurizer-params: The 'max_rows_per_table' parameter",
        ),
        (
            ["train", "--featurizer-params", '{"submodel_params": 3}'],
            "'submodel_params' parameter of GlassFeaturizer must be an instance of 'dict'",
        ),
        (["train", "--featurizer-params", '{"submodel_params": {"depth": 3}}'], "unknown sub-model setting 'depth'"),
    ],
)
def test_bad_settings_are_one_line_errors_before_any_work(args, message, mlflow_store):
    from typer.testing import CliRunner

    from nce.cli import app

    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [f"error: {result.stderr.strip()[7:]}"]
    assert message in result.stderr
