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
    "Li2S",
    "P2S5",
    "LiI",
    "SiO2",
    "B2O3",
    "Na2O",
    "GeS2",
    "Ga2S3",
    "Li2O",
    "P2O5",
    "AgI",
    "AgPO3",
    "LiCl",
    "LiBr",
    "SiS2",
    "B2S3",
    "Al2O3",
    "CaO",
    "K2O",
    "TeO2",
    "V2O5",
    "Li3PS4",
    "Ag2S",
    "As2S3",
    "Li3N",
    "NaPO3",
    "Ca(PO3)2",
    "ZnO",
    "MgO",
    "Li2SO4",
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
def test_round_trip_separators(mapping: dict[str, float], separator: str, as_fraction: bool, suffix: bool) -> None:
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


CHEMISTRY_ALPHABET = 'LiSPOGeIaBrNCl0123456789.()[]-\u2013\u00b7+* {}":,eE%\u2212'


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


# --------------------------------------------------------------------------- literature notations (issue 21)
# Expected fractions are counted by hand from the formula units each notation stands for.

RATIO_FORMS = [
    # one Na2O to two SiO2: Na 2, Si 2, O 1 + 4 = 5 (9 atoms)
    ("Na2O\u00b72SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),
    ("Na2O-2SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),
    ("Na2O \u2013 2SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),
    ("Na2O+2SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),
    ("Na2O*2SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),
    ("Na2O\u22c52SiO2", {"Na2O": 100 / 3, "SiO2": 200 / 3}, {"O": 5, "Na": 2, "Si": 2}),  # dot operator
    # Li 2, B 4, O 1 + 6 = 7
    ("Li2O-2B2O3", {"Li2O": 100 / 3, "B2O3": 200 / 3}, {"Li": 2, "B": 4, "O": 7}),
    ("Li2O\u00b72B2O3", {"Li2O": 100 / 3, "B2O3": 200 / 3}, {"Li": 2, "B": 4, "O": 7}),
    # albite: Na 2, Al 2, Si 6, O 1 + 3 + 12 = 16
    ("Na2O\u00b7Al2O3\u00b76SiO2", {"Na2O": 12.5, "Al2O3": 12.5, "SiO2": 75}, {"O": 16, "Na": 2, "Al": 2, "Si": 6}),
    ("Na2O-Al2O3-6SiO2", {"Na2O": 12.5, "Al2O3": 12.5, "SiO2": 75}, {"O": 16, "Na": 2, "Al": 2, "Si": 6}),
    # diopside: Ca 1, Mg 1, Si 2, O 1 + 1 + 4 = 6
    ("CaO\u00b7MgO\u00b72SiO2", {"CaO": 25, "MgO": 25, "SiO2": 50}, {"O": 6, "Mg": 1, "Si": 2, "Ca": 1}),
    # three Li2S to one P2S5 = Li3PS4: Li 6, P 2, S 3 + 5 = 8
    ("3Li2S\u00b7P2S5", {"Li2S": 75, "P2S5": 25}, {"Li": 6, "P": 2, "S": 8}),
    ("Li2S\u00b7P2S5", {"Li2S": 50, "P2S5": 50}, {"Li": 2, "P": 2, "S": 6}),  # a dot: one of each
    # bracket groups side by side are formula units: nine Li2S to one LaOI (pymatgen reads it so)
    ("(Li2S)9(LaOI)", {"Li2S": 90, "LaOI": 10}, {"Li": 18, "O": 1, "S": 9, "I": 1, "La": 1}),
    ("(Li2S)9 (LaOI)", {"Li2S": 90, "LaOI": 10}, {"Li": 18, "O": 1, "S": 9, "I": 1, "La": 1}),
    # a hydrate: Li3 Mo8 S8 O(8 + 8 + 5 + 1) H(8 + 1 + 2) W1, plus 18 H2O
    (
        "Li3(Mo8S8O8(OH)8(HWO5(H2O)))*(H2O)18",
        {"Li3(Mo8S8O8(OH)8(HWO5(H2O)))": 100 / 19, "H2O": 1800 / 19},
        {"H": 47, "Li": 3, "O": 40, "S": 8, "Mo": 8, "W": 1},
    ),
    # a group made in ratio notation inside percent notation
    (
        "80(Na2O\u00b72SiO2)-20LiI",
        {"Na2O": 80 / 3, "SiO2": 160 / 3, "LiI": 20},
        {"Li": 20, "O": 400 / 3, "Na": 160 / 3, "Si": 160 / 3, "I": 20},
    ),
]


@pytest.mark.parametrize(("text", "components", "counts"), RATIO_FORMS)
def test_ratio_notation(text: str, components: dict[str, float], counts: dict[str, float]) -> None:
    comp = parse_composition(text)
    assert_close(comp.components, components)
    expected = fractions(counts)
    assert_close(comp.atoms, {e: expected[e] for e in comp.atoms})
    assert set(comp.atoms) == set(expected)
    assert any("ratio" in note for note in comp.notes)
    assert_close(parse_composition(comp.normalized).atoms, comp.atoms, rel=1e-5)


FORMULAS_WITH_SPACES = [
    ("(Li2S)(LaOI)", "(Li2S)(LaOI)", {"Li": 2, "O": 1, "S": 1, "I": 1, "La": 1}),  # one Li2S plus one LaOI
    ("(Li0.5Ce0.5)(MoO4)", "(Li0.5Ce0.5)(MoO4)", {"Li": 0.5, "O": 4, "Mo": 1, "Ce": 0.5}),
    ("Li1.4Al0.4Ti1.6 (PO4)3", "Li1.4Al0.4Ti1.6(PO4)3", {"Li": 1.4, "O": 12, "Al": 0.4, "P": 3, "Ti": 1.6}),
    ("Li6.02P0.98Si0.02S5 Br", "Li6.02P0.98Si0.02S5Br", {"Li": 6.02, "Si": 0.02, "P": 0.98, "S": 5, "Br": 1}),
    (
        "Li0.022 La0.117 Ti0.208 Al0.001 O0.626",
        "Li0.022La0.117Ti0.208Al0.001O0.626",
        {"Li": 0.022, "O": 0.626, "Al": 0.001, "Ti": 0.208, "La": 0.117},
    ),
    ("La0.62 Li0.14(Mg0.5W0.5)O3", "La0.62Li0.14(Mg0.5W0.5)O3", {"Li": 0.14, "O": 3, "Mg": 0.5, "La": 0.62, "W": 0.5}),
    ("Li6PS5 Cl", "Li6PS5Cl", {"Li": 6, "P": 1, "S": 5, "Cl": 1}),
]


@pytest.mark.parametrize(("text", "formula", "counts"), FORMULAS_WITH_SPACES)
def test_formula_with_spaces(text: str, formula: str, counts: dict[str, float]) -> None:
    comp = parse_composition(text)
    assert comp.components == {}
    assert comp.formula == formula == comp.normalized
    assert_close(comp.atoms, fractions(counts))
    assert comp.notes == ()


def test_space_inside_a_component_formula() -> None:
    comp = parse_composition("65Li6PS5 Cl-35LiI")
    assert_close(comp.components, {"Li6PS5Cl": 65, "LiI": 35})
    # Li 390 + 35, P 65, S 325, Cl 65, I 35
    assert_close(comp.atoms, fractions({"Li": 425, "P": 65, "S": 325, "Cl": 65, "I": 35}))


@pytest.mark.parametrize(
    "text", ['"70Li2S-30P2S5"', "'70Li2S-30P2S5'", "\u201c70Li2S-30P2S5\u201d", ' " (Li2S)70 (P2S5)30 " ']
)
def test_one_pair_of_wrapping_quotes_is_removed(text: str) -> None:
    comp = parse_composition(text)
    assert comp.text == text
    assert_close(comp.components, LPS_COMPONENTS)
    assert comp.notes == ()


@pytest.mark.parametrize("text", ['""70Li2S-30P2S5""', '"70Li2S-30P2S5', "'70Li2S-30P2S5\"", '""'])
def test_other_quotes_stay_errors(text: str) -> None:
    with pytest.raises(CompositionError):
        parse_composition(text)


def test_percent_forms_are_unchanged() -> None:
    """The forms that gave amounts before still do (a bracket group with an amount is not ratio)."""
    assert_close(parse_composition("(Li2S)70 (P2S5)30").components, LPS_COMPONENTS)
    assert_close(parse_composition("(YPO4)0.8(Li3PO4)0.2").components, {"YPO4": 80, "Li3PO4": 20})
    assert_close(parse_composition("0.5Li2S\u00b70.5SiS2").components, {"Li2S": 50, "SiS2": 50})
    assert parse_composition("70%Li2S (P2S5)30").notes == ()


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # a system, not a composition (kept from before); the message names both ways out
        ("Li2S-P2S5", ["no amounts given", "50Li2S-50P2S5", "Li2S\u00b7P2S5"]),
        ("Li2S + P2S5", ["no amounts given", "Li2S\u00b7P2S5"]),
        # one formula with a stray space, or two components without amounts
        ("Li2S P2S5", ["no amounts given", "Li2SP2S5", "Li2S\u00b7P2S5"]),
        # a ratio 70:1 or 70 mol % with P2S5's amount missing
        ("70Li2S-P2S5", ["missing amount for 'P2S5'", "70:1", "70Li2S\u00b7P2S5", "70Li2S-30P2S5"]),
        ("(Li2S)70 P2S5", ["missing amount for 'P2S5'", "70:1"]),
        # numbers that look like the rest of 100 mol % (or of 1) when the first has none
        ("Na2O-30SiO2-20B2O3", ["ambiguous", "1:30:20", "Na2O\u00b730SiO2\u00b720B2O3", "50Na2O-30SiO2-20B2O3"]),
        ("Na2O-0.5SiO2", ["ambiguous", "1:0.5", "0.5Na2O-0.5SiO2"]),
        # a percent sign rules out the ratio reading
        ("Na2O-2%SiO2", ["missing amount for 'Na2O'", "98Na2O-2SiO2"]),
        # a ratio or a subscript set apart from its element
        ("Na2O 2SiO2", ["ambiguous", "1:2", "Na2O\u00b72SiO2", "Na2O2SiO2"]),
        ("Li2O.2SiO2", ["unexpected '.'", "Li2O\u00b72SiO2", "Li2O0.2SiO2"]),
        # amounts in two notations or one formula with a space
        ("70Li2S (P2S5)30", ["ambiguous", "70Li2S-30P2S5", "70Li2S(P2S5)30"]),
        ("80Li1.4Al0.4Ti1.6 (PO4)3-20LiI", ["ambiguous", "80Li1.4Al0.4Ti1.6(PO4)3"]),
    ],
)
def test_ambiguous_texts_name_their_readings(text: str, tokens: list[str]) -> None:
    with pytest.raises(CompositionError) as info:
        parse_composition(text)
    message = str(info.value)
    assert "\n" not in message and len(message) <= 300
    for token in tokens:
        assert token in message


def test_ratio_notation_is_molar() -> None:
    with pytest.raises(CompositionError, match="ratio notation"):
        parse_composition("Na2O\u00b72SiO2", basis="wt")
    # a formula with a space has no amounts, so the basis does not matter
    assert parse_composition("Li6PS5 Cl", basis="wt").atoms == parse_composition("Li6PS5Cl").atoms


# --------------------------------------------------------------------------- literature notation properties

ELEMENTS = [
    "Li",
    "Na",
    "K",
    "Ag",
    "La",
    "Ti",
    "Al",
    "Zr",
    "Ge",
    "Ga",
    "P",
    "S",
    "O",
    "Si",
    "B",
    "I",
    "Br",
    "Cl",
    "N",
]
DOTS = ["\u00b7", "\u2022", "\u2219", "\u22c5", "*", " \u00b7 "]
DASHES = ["-", "\u2013", "\u2212", "+", " - "]
subscripts = st.one_of(st.just(""), st.integers(1, 12).map(str), st.integers(1, 999).map(lambda n: f"{n / 1000:g}"))


def count(text: str) -> float:
    return 1.0 if text == "" else float(text)


def expected_atoms(units: dict[str, float]) -> dict[str, float]:
    """Atomic fractions of formula -> number of formula units, counted with pymatgen per formula."""
    from pymatgen.core import Composition as PmgComposition

    counts: dict[str, float] = {}
    for formula, n in units.items():
        for element, k in PmgComposition(formula).get_el_amt_dict().items():
            counts[element] = counts.get(element, 0.0) + n * k
    return fractions(counts)


def assert_same_atoms(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for element, value in expected.items():
        assert actual[element] == pytest.approx(value, rel=1e-9, abs=1e-12), element


ratio_systems = st.lists(st.sampled_from(GLASS_COMPONENTS), min_size=2, max_size=4, unique=True).flatmap(
    lambda comps: st.tuples(st.just(comps), st.lists(st.integers(1, 12), min_size=len(comps), max_size=len(comps)))
)


@settings(max_examples=150, deadline=None)
@given(ratio_systems, st.sampled_from(DOTS), st.booleans())
def test_round_trip_dot_ratio_notation(system: tuple[list[str], list[int]], dot: str, quoted: bool) -> None:
    """``Na2O·2SiO2``: a coefficient of 1 is left out; the components get the ratio as mol %."""
    comps, ratio = system
    text = dot.join(f"{'' if n == 1 else n}{c}" for c, n in zip(comps, ratio))
    comp = parse_composition(f'"{text}"' if quoted else text)
    assert_close(comp.components, expected_percent(dict(zip(comps, map(float, ratio)))), rel=1e-9)
    assert_same_atoms(comp.atoms, expected_atoms(dict(zip(comps, map(float, ratio)))))


@settings(max_examples=150, deadline=None)
@given(ratio_systems, st.sampled_from(DASHES))
def test_round_trip_dash_ratio_notation(system: tuple[list[str], list[int]], dash: str) -> None:
    """``Na2O-2SiO2``: the first component without a number counts 1, the others carry ratios."""
    comps, ratio = system
    ratio = [1] + [1 + n % 3 for n in ratio[1:]]  # small ratios, as glass notation writes them
    text = comps[0] + dash + dash.join(f"{n}{c}" for c, n in zip(comps[1:], ratio[1:]))
    comp = parse_composition(text)
    assert_close(comp.components, expected_percent(dict(zip(comps, map(float, ratio)))), rel=1e-9)
    assert_same_atoms(comp.atoms, expected_atoms(dict(zip(comps, map(float, ratio)))))


@settings(max_examples=150, deadline=None)
@given(ratio_systems, st.lists(st.booleans(), min_size=4, max_size=4), st.sampled_from(["", " "]))
def test_round_trip_bracket_formula_units(system: tuple[list[str], list[int]], bare: list[bool], gap: str) -> None:
    """``(Li2S)9(LaOI)``: a bracket group without a number counts 1, as pymatgen reads it."""
    comps, ratio = system
    bare = bare[: len(comps)]
    if all(bare):
        bare[0] = False
    units = {c: 1.0 if b else float(n) for c, n, b in zip(comps, ratio, bare)}
    text = gap.join(f"({c})" if b else f"({c}){n}" for c, n, b in zip(comps, ratio, bare))
    comp = parse_composition(text)
    assert_close(comp.components, expected_percent(units), rel=1e-9)
    assert_same_atoms(comp.atoms, expected_atoms(units))
    assert_same_atoms(comp.atoms, expected_atoms({text.replace(" ", ""): 1.0}))  # pymatgen's reading


element_pairs = st.lists(
    st.tuples(st.sampled_from(ELEMENTS), subscripts), min_size=2, max_size=6, unique_by=lambda p: p[0]
)


@settings(max_examples=150, deadline=None)
@given(element_pairs, st.sampled_from([" ", "  ", "\t"]), st.booleans())
def test_round_trip_element_amount_pairs_with_spaces(pairs: list[tuple[str, str]], space: str, quoted: bool) -> None:
    """``Li0.022 La0.117 Ti0.208 O0.626``: element-amount pairs set apart by spaces are one formula."""
    text = space.join(symbol + n for symbol, n in pairs)
    comp = parse_composition(f"'{text}'" if quoted else text)
    assert comp.components == {}
    assert comp.formula == text.replace(space, "")
    assert_same_atoms(comp.atoms, fractions({symbol: count(n) for symbol, n in pairs}))


GROUP_ATOMS = {
    "PO4": {"P": 1, "O": 4},
    "SO4": {"S": 1, "O": 4},
    "MoO4": {"Mo": 1, "O": 4},
    "OH": {"O": 1, "H": 1},
    "BH4": {"B": 1, "H": 4},
    "SiO4": {"Si": 1, "O": 4},
}


@settings(max_examples=150, deadline=None)
@given(element_pairs, st.sampled_from(sorted(GROUP_ATOMS)), subscripts, st.sampled_from(["", " "]))
def test_round_trip_formula_and_group_with_a_space(
    pairs: list[tuple[str, str]], group: str, n: str, space: str
) -> None:
    """``Li1.4Al0.4Ti1.6 (PO4)3``: a formula and a bracket group set apart by a space are one formula."""
    base = "".join(symbol + k for symbol, k in pairs)
    text = f"{base}{space}({group}){n}"
    comp = parse_composition(text)
    assert comp.formula == f"{base}({group}){n}"
    counts = {symbol: count(k) for symbol, k in pairs}
    for element, k in GROUP_ATOMS[group].items():
        counts[element] = counts.get(element, 0.0) + count(n) * k
    assert_same_atoms(comp.atoms, fractions(counts))
