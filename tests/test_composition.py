"""Tests for nce.featurize.composition."""

from __future__ import annotations

import json
import math
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nce.featurize import (
    Composition,
    CompositionError,
    format_components,
    parse_composition,
    parse_many,
)


def assert_close(actual: dict[str, float], expected: dict[str, float], rel: float = 1e-9) -> None:
    assert list(actual) == list(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=rel, abs=1e-12), key


def fractions(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {element: n / total for element, n in counts.items()}


# Li2S-P2S5 70:30 -> Li 140, P 60, S 70 + 150 = 220 (420 atoms); atoms ordered by Z.
LPS_COMPONENTS = {"Li2S": 70.0, "P2S5": 30.0}
LPS_ATOMS = fractions({"Li": 140, "P": 60, "S": 220})


# --------------------------------------------------------------------------- DESIGN.md forms


@pytest.mark.parametrize(
    "text",
    [
        "70Li2S-30P2S5",
        "70Li2S\u201330P2S5",  # en dash
        "70Li2S\u201430P2S5",  # em dash
        "70Li2S\u221230P2S5",  # minus sign
        "0.7Li2S\u00b70.3P2S5",  # middle dot
        "0.7Li2S\u20220.3P2S5",  # bullet
        "0.7Li2S*0.3P2S5",
        "0.7Li2S+0.3P2S5",
        "70 Li2S \u2013 30 P2S5",
        "(Li2S)70 (P2S5)30",
        "[Li2S]70 [P2S5]30",
        "(Li2S)70(P2S5)30",
        "7e1Li2S-3E1P2S5",
        '{"Li2S": 70, "P2S5": 30}',
    ],
)
def test_binary_forms(text: str) -> None:
    comp = parse_composition(text)
    assert isinstance(comp, Composition)
    assert comp.text == text
    assert_close(comp.components, LPS_COMPONENTS)
    assert_close(comp.atoms, LPS_ATOMS)
    assert comp.notes == ()
    assert comp.normalized == "70Li2S-30P2S5"


def test_python_dict() -> None:
    comp = parse_composition({"Li2S": 70, "P2S5": 30})
    assert_close(comp.components, LPS_COMPONENTS)
    assert_close(comp.atoms, LPS_ATOMS)


def test_group_with_prefix() -> None:
    comp = parse_composition("80(0.7Li2S-0.3P2S5)-20LiI")
    assert_close(comp.components, {"Li2S": 56, "P2S5": 24, "LiI": 20})
    # Li 112 + 20, P 48, S 56 + 120, I 20
    assert_close(comp.atoms, fractions({"Li": 132, "P": 48, "S": 176, "I": 20}))
    assert comp.normalized == "56Li2S-24P2S5-20LiI"


def test_nested_suffix_groups() -> None:
    comp = parse_composition("(LiI)0.3 ((Li2S)0.3 ((Ga2S3)0.1 (GeS2)0.9)0.7)0.7")
    assert_close(comp.components, {"LiI": 30, "Li2S": 21, "Ga2S3": 4.9, "GeS2": 44.1})
    # Li 30 + 42, S 21 + 14.7 + 88.2, Ga 9.8, Ge 44.1, I 30
    expected = fractions({"Li": 72, "S": 123.9, "Ga": 9.8, "Ge": 44.1, "I": 30})
    assert_close(comp.atoms, expected)
    assert comp.normalized == "30LiI-21Li2S-4.9Ga2S3-44.1GeS2"


def test_bare_formula_li3ps4() -> None:
    comp = parse_composition("Li3PS4")
    assert comp.components == {}
    assert_close(comp.atoms, {"Li": 3 / 8, "P": 1 / 8, "S": 4 / 8})
    assert comp.formula == "Li3PS4"
    assert comp.normalized == "Li3PS4"


def test_bare_formula_lipon() -> None:
    comp = parse_composition("Li2.9PO3.3N0.46")
    assert comp.components == {}
    total = 2.9 + 1 + 3.3 + 0.46
    assert_close(comp.atoms, {"Li": 2.9 / total, "N": 0.46 / total, "O": 3.3 / total, "P": 1 / total})
    assert comp.normalized == "Li2.9PO3.3N0.46"


def test_bare_formula_basis_irrelevant() -> None:
    assert parse_composition("Li3PS4", basis="wt").atoms == parse_composition("Li3PS4").atoms


def test_bracketed_bare_formula_is_unwrapped() -> None:
    assert parse_composition(" (Li3PS4) ").normalized == "Li3PS4"


def test_compound_components() -> None:
    comp = parse_composition("33LiI-67Li3PS4")
    assert_close(comp.components, {"LiI": 33, "Li3PS4": 67})
    # Li 33 + 201, P 67, S 268, I 33
    assert_close(comp.atoms, fractions({"Li": 234, "P": 67, "S": 268, "I": 33}))


def test_formula_parentheses() -> None:
    comp = parse_composition("Ca(PO3)2")
    assert comp.components == {}
    assert_close(comp.atoms, fractions({"O": 6, "P": 2, "Ca": 1}))
    mixed = parse_composition("50NaPO3-50Ca(PO3)2")
    assert_close(mixed.components, {"NaPO3": 50, "Ca(PO3)2": 50})
    # O 150 + 300, Na 50, P 50 + 100, Ca 50
    assert_close(mixed.atoms, fractions({"O": 450, "Na": 50, "P": 150, "Ca": 50}))
    assert mixed.normalized == "50NaPO3-50Ca(PO3)2"


def test_formula_starting_with_bracket() -> None:
    comp = parse_composition("50(NH4)2SO4-50Li2O")
    assert_close(comp.components, {"(NH4)2SO4": 50, "Li2O": 50})


def test_square_brackets_in_formulas() -> None:
    comp = parse_composition("50Ca[PO3]2-50Ca(PO3)2")
    assert_close(comp.components, {"Ca(PO3)2": 100})
    assert parse_composition("Ca[PO3]2").normalized == "Ca(PO3)2"


def test_bracket_only_formula_round_trips() -> None:
    comp = parse_composition({"(Li2S)2": 50, "P2S5": 50})
    assert comp.normalized == "50(Li2S)2-50P2S5"
    assert_close(parse_composition(comp.normalized).components, comp.components)


def test_duplicates_merge_in_order() -> None:
    comp = parse_composition("50Li2S-20P2S5-30Li2S")
    assert_close(comp.components, {"Li2S": 80, "P2S5": 20})


def test_zero_component_dropped_with_note() -> None:
    comp = parse_composition("0LiI-70Li2S-30P2S5")
    assert_close(comp.components, LPS_COMPONENTS)
    assert any("LiI" in note for note in comp.notes)


def test_percent_signs() -> None:
    assert_close(parse_composition("70%Li2S-30%P2S5").components, LPS_COMPONENTS)


def test_unicode_subscripts() -> None:
    assert parse_composition("Li\u2082S").normalized == "Li2S"


def test_deuterium_counts_as_hydrogen() -> None:
    # pymatgen treats D and T as hydrogen isotopes; they are accepted and counted as H.
    assert_close(parse_composition("D2O").atoms, {"H": 2 / 3, "O": 1 / 3})


# --------------------------------------------------------------------------- normalization, wt %


def test_normalization_note() -> None:
    comp = parse_composition("65Li2S-30P2S5")
    assert_close(comp.components, {"Li2S": 6500 / 95, "P2S5": 3000 / 95})
    assert comp.notes == ("amounts summed to 95; normalized to 100 mol %",)


@pytest.mark.parametrize("text", ["70Li2S-30P2S5", "0.7Li2S-0.3P2S5", "70.2Li2S-30P2S5"])
def test_no_note_near_1_or_100(text: str) -> None:
    assert parse_composition(text).notes == ()


def test_weight_percent() -> None:
    comp = parse_composition("50Li2O-50SiO2", basis="wt")
    li2o, sio2 = 50 / 29.88, 50 / 60.08  # molar masses in g/mol
    expected = {"Li2O": 100 * li2o / (li2o + sio2), "SiO2": 100 * sio2 / (li2o + sio2)}
    assert_close(comp.components, expected, rel=1e-3)
    assert comp.components["Li2O"] == pytest.approx(66.79, abs=0.01)
    assert_close(parse_composition({"Li2O": 50, "SiO2": 50}, basis="wt").components, comp.components)


def test_unknown_basis() -> None:
    with pytest.raises(CompositionError, match="basis"):
        parse_composition("70Li2S-30P2S5", basis="vol")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("", "empty"),
        ("   \t", "empty"),
        ("Xx2O", "'Xx'"),
        ("70Li2S-30Xx2S5", "'Xx'"),
        ("Rf2O", "'Rf'"),
        ("(Li2S)70 (P2S5", "unbalanced bracket"),
        ("70Li2S)-30P2S5", "unbalanced bracket"),
        ("(Li2S]70", "unbalanced bracket"),
        ("-5Li2S-105P2S5", "negative amount -5 for 'Li2S'"),
        ("70Li2S--5P2S5", "negative amount -5 for 'P2S5'"),
        ("0Li2S-0P2S5", "all amounts are zero"),
        ("70Li2S--", "'-'"),
        ("70Li2S-", "'-'"),
        ("abc", "'abc'"),
        ("li2s", "'li2s'"),
        ("Li2S-P2S5", "no amounts given"),
        ("70Li2S-P2S5", "'P2S5'"),
        ("70-30P2S5", "'70'"),
        ("80(0.7Li2S-0.3P2S5)20LiI", "two amounts"),
        ("Li0S", "'Li'"),
        ("1e999Li2S", "'1e999'"),
        ('{"Li2S": 70, ', "JSON"),
        ("[1, 2]", "'[1, 2]'"),
        ('{"Li2S": -5}', "negative amount -5 for 'Li2S'"),
        ('{"Li2S": "a lot"}', "'Li2S'"),
        ('{"70Li2S": 1}', "'70Li2S'"),
    ],
)
def test_errors(text: str, token: str) -> None:
    with pytest.raises(CompositionError) as info:
        parse_composition(text)
    message = str(info.value)
    assert token in message
    assert "\n" not in message


def test_mapping_errors() -> None:
    with pytest.raises(CompositionError, match="negative amount -5 for 'Li2S'"):
        parse_composition({"Li2S": -5, "P2S5": 105})
    with pytest.raises(CompositionError, match="empty"):
        parse_composition({})
    with pytest.raises(CompositionError, match="'Xx'"):
        parse_composition({"Xx": 1.0})
    with pytest.raises(CompositionError, match="all amounts are zero"):
        parse_composition({"Li2S": 0})


def test_non_text_input() -> None:
    with pytest.raises(CompositionError, match="float"):
        parse_composition(math.nan)  # type: ignore[arg-type]


def test_error_is_value_error() -> None:
    assert issubclass(CompositionError, ValueError)


# --------------------------------------------------------------------------- object behaviour


def test_composition_is_read_only_and_picklable() -> None:
    comp = parse_composition("70Li2S-30P2S5")
    with pytest.raises(TypeError):
        comp.components["Li2S"] = 1.0  # type: ignore[index]
    assert json.loads(json.dumps(comp.components)) == comp.components
    clone = pickle.loads(pickle.dumps(comp))
    assert clone == comp
    assert hash(clone) == hash(comp)


def test_format_components() -> None:
    assert format_components({"Li2S": 56.0, "P2S5": 24.0, "LiI": 20.0}) == "56Li2S-24P2S5-20LiI"
    assert format_components({"Li2S": 100 / 3, "P2S5": 200 / 3}) == "33.3333Li2S-66.6667P2S5"
    assert format_components({"Li2S": 99.99999, "LiI": 0.00001}) == "100Li2S-1e-05LiI"


def test_parse_many() -> None:
    texts = ["70Li2S-30P2S5", "Xx2O", "70Li2S-30P2S5", "Li3PS4", None, "Xx2O"]
    results = parse_many(texts)  # type: ignore[arg-type]
    assert len(results) == len(texts)
    assert isinstance(results[0], Composition) and results[0] is results[2]
    assert isinstance(results[1], CompositionError) and results[1] is results[5]
    assert results[3].normalized == "Li3PS4"  # type: ignore[union-attr]
    assert isinstance(results[4], CompositionError)


# --------------------------------------------------------------------------- properties

GLASS_COMPONENTS = [
    "Li2S", "P2S5", "LiI", "SiO2", "B2O3", "Na2O", "GeS2", "Ga2S3", "Li2O", "P2O5",
    "AgI", "AgPO3", "LiCl", "LiBr", "SiS2", "B2S3", "Al2O3", "CaO", "K2O", "TeO2",
    "V2O5", "Li3PS4", "Ag2S", "As2S3", "Li3N", "NaPO3", "Ca(PO3)2", "ZnO", "MgO", "Li2SO4",
]
SEPARATORS = ["-", "\u2013", " - ", "\u00b7", "+", " ", "\u2212", "*"]

component_maps = st.dictionaries(
    st.sampled_from(GLASS_COMPONENTS),
    st.integers(min_value=1, max_value=10_000).map(lambda n: n / 100),
    min_size=1,
    max_size=5,
)


def expected_percent(mapping: dict[str, float]) -> dict[str, float]:
    total = sum(mapping.values())
    return {key: 100 * value / total for key, value in mapping.items()}


@settings(max_examples=300, deadline=None)
@given(component_maps)
def test_round_trip_format_components(mapping: dict[str, float]) -> None:
    comp = parse_composition(format_components(mapping))
    assert_close(comp.components, expected_percent(mapping), rel=1e-6)
    assert math.fsum(comp.atoms.values()) == pytest.approx(1.0, rel=1e-12)
    again = parse_composition(comp.normalized)  # 4 decimals, then renormalized
    assert list(again.components) == list(comp.components)
    for key, value in comp.components.items():
        assert again.components[key] == pytest.approx(value, abs=5e-4)


@settings(max_examples=300, deadline=None)
@given(component_maps, st.sampled_from(SEPARATORS), st.booleans(), st.booleans())
def test_round_trip_separators(
    mapping: dict[str, float], separator: str, as_fraction: bool, suffix: bool
) -> None:
    total = sum(mapping.values())
    amounts = {key: (value / total if as_fraction else value) for key, value in mapping.items()}
    if suffix:
        text = separator.join(f"({key}){value!r}" for key, value in amounts.items())
    else:
        text = separator.join(f"{value!r}{key}" for key, value in amounts.items())
    comp = parse_composition(text)
    assert_close(comp.components, expected_percent(mapping), rel=1e-6)
    assert math.fsum(comp.atoms.values()) == pytest.approx(1.0, rel=1e-12)
    assert math.fsum(comp.components.values()) == pytest.approx(100.0, rel=1e-12)


def check_total_or_error(text: str) -> None:
    try:
        comp = parse_composition(text)
    except CompositionError as exc:
        assert str(exc)
        return
    assert math.fsum(comp.atoms.values()) == pytest.approx(1.0, rel=1e-9)
    if comp.components:
        assert math.fsum(comp.components.values()) == pytest.approx(100.0, rel=1e-9)
    else:
        assert comp.formula


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text_only_raises_composition_error(text: str) -> None:
    check_total_or_error(text)


CHEMISTRY_ALPHABET = "LiSPOGeIaBrNCl0123456789.()[]-\u2013\u00b7+* {}\":,eE%\u2212"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=CHEMISTRY_ALPHABET, max_size=40))
def test_chemistry_text_only_raises_composition_error(text: str) -> None:
    check_total_or_error(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GLASS_COMPONENTS + ["(", ")", "-", "0.5", "70", " ", "Xx"]), max_size=12))
def test_token_soup_only_raises_composition_error(tokens: list[str]) -> None:
    check_total_or_error("".join(tokens))


def test_hydrate_style_dot_is_an_error_not_a_misread_subscript():
    """'Li2O.2SiO2' must not be read as Li2 O0.2 Si O2."""
    with pytest.raises(CompositionError, match="unexpected '.'"):
        parse_composition("Li2O.2SiO2")
