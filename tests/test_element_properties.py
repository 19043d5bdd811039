"""FastElementFeatures against matminer's own featurizers, and against hand-computed values."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from nce.featurize.element_properties import AMOUNT_TOLERANCE, FastElementFeatures

GLASS_ELEMENTS = (
    "Li Na K Rb Cs Ag Cu H B C N O F Mg Ca Sr Ba Zn Al Ga In Si Ge Sn Pb P As Sb Bi S Se Te "
    "Cl Br I Ti Zr V Nb Ta W Mo Fe La"
).split()
# Elements with missing (NaN) Magpie data for some properties, mixed with common ones.
NAN_ELEMENTS = "He Ne Ar Kr Rn Fr At Bk Cf Es Lr O Si Li Na".split()


def random_fractions(elements: list[str], n: int, seed: int) -> pd.DataFrame:
    """n compositions of 1-6 elements. Half the rows use Dirichlet fractions, half small
    integer counts, so that ties in the largest fraction (matminer's mode rule) are common."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, len(elements)))
    for i in range(n):
        k = rng.integers(1, 7)
        cols = rng.choice(len(elements), size=k, replace=False)
        amounts = rng.dirichlet(np.ones(k)) if i % 2 else rng.integers(1, 4, size=k) / 1.0
        x[i, cols] = amounts / amounts.sum()
    return pd.DataFrame(x, columns=elements, index=pd.RangeIndex(100, 100 + n, name="glass"))


def matminer_features(atoms: pd.DataFrame) -> pd.DataFrame:
    """matminer's ElementProperty(magpie) + Stoichiometry + ValenceOrbital, one row at a time."""
    from matminer.featurizers.composition import ElementProperty, Stoichiometry, ValenceOrbital
    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        featurizers = [ElementProperty.from_preset("magpie"), Stoichiometry(), ValenceOrbital()]
        for f in featurizers:
            f.set_n_jobs(1)
        rows = []
        for _, row in atoms.iterrows():
            comp = Composition({el: x for el, x in row.items() if x != 0})
            rows.append([v for f in featurizers for v in f.featurize(comp)])
    labels = [label for f in featurizers for label in f.feature_labels()]
    return pd.DataFrame(np.array(rows, dtype=float), index=atoms.index, columns=labels)


@pytest.mark.parametrize(
    ("elements", "n", "seed"),
    [(GLASS_ELEMENTS, 1000, 0), (NAN_ELEMENTS, 200, 1)],
    ids=["glass-elements", "elements-with-nan-data"],
)
def test_equals_matminer(elements, n, seed):
    atoms = random_fractions(elements, n, seed)
    expected = matminer_features(atoms)
    got = FastElementFeatures().transform(atoms)

    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(atoms.index)
    np.testing.assert_array_equal(np.isnan(got.to_numpy()), np.isnan(expected.to_numpy()))
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)
    if elements is NAN_ELEMENTS:
        assert np.isnan(got.to_numpy()).any()


def test_silica_by_hand():
    atoms = pd.DataFrame({"Si": [1 / 3], "O": [2 / 3]})
    got = FastElementFeatures().transform(atoms).iloc[0]
    # Magpie (Pauling) electronegativity: Si 1.90, O 3.44
    assert got["MagpieData mean Electronegativity"] == pytest.approx((1.90 + 2 * 3.44) / 3)
    assert got["MagpieData minimum Electronegativity"] == pytest.approx(1.90)
    assert got["MagpieData maximum Electronegativity"] == pytest.approx(3.44)
    assert got["MagpieData range Electronegativity"] == pytest.approx(1.54)
    assert got["MagpieData avg_dev Electronegativity"] == pytest.approx(4 / 9 * 1.54)
    assert got["MagpieData mode Electronegativity"] == pytest.approx(3.44)  # O is most abundant
    assert got["MagpieData mean Number"] == pytest.approx((14 + 2 * 8) / 3)
    assert got["0-norm"] == 2
    assert got["2-norm"] == pytest.approx(np.sqrt(5) / 3)
    assert got["10-norm"] == pytest.approx((1 / 3**10 + 2**10 / 3**10) ** 0.1)
    # valence s/p: Si 3s2 3p2, O 2s2 2p4
    assert got["avg s valence electrons"] == pytest.approx(2.0)
    assert got["avg p valence electrons"] == pytest.approx(10 / 3)
    assert got["avg d valence electrons"] == 0.0
    assert got["frac s valence electrons"] == pytest.approx(2 / (16 / 3))
    assert got["frac p valence electrons"] == pytest.approx(0.625)


def test_mode_ties_and_nan():
    atoms = pd.DataFrame(
        {
            "Li": [0.5, 0.0, 0.0, 0.5 - 1e-7, 0.5 - 1e-4],
            "O": [0.5, 0.5, 0.8, 0.5 + 1e-7, 0.5 + 1e-4],
            "He": [0.0, 0.5, 0.2, 0.0, 0.0],
        },
        index=["Li-O tie", "He-O tie", "O-rich", "np.isclose tie", "no tie"],
    )
    got = FastElementFeatures().transform(atoms)
    mode, mean = "MagpieData mode Electronegativity", "MagpieData mean Electronegativity"
    assert got.loc["Li-O tie", mode] == pytest.approx(0.98)  # tie -> smaller value (Li)
    assert np.isnan(got.loc["He-O tie", mode])  # He has no electronegativity, and is tied
    assert got.loc["O-rich", mode] == pytest.approx(3.44)  # He present but not the mode
    assert got.loc["np.isclose tie", mode] == pytest.approx(0.98)  # rtol 1e-5 counts as a tie
    assert got.loc["no tie", mode] == pytest.approx(3.44)
    assert np.isnan(got.loc["O-rich", mean])
    assert got.loc["O-rich", "MagpieData mean Number"] == pytest.approx(0.8 * 8 + 0.2 * 2)


def test_single_element_and_column_order():
    fe = FastElementFeatures()
    pure = fe.transform(pd.DataFrame({"O": [0.0], "Si": [1.0]})).iloc[0]
    assert pure["MagpieData avg_dev Number"] == 0.0
    assert pure["MagpieData range Number"] == 0.0
    assert pure["MagpieData mode Number"] == 14.0
    assert pure["0-norm"] == 1 and pure["7-norm"] == pytest.approx(1.0)

    atoms = random_fractions(GLASS_ELEMENTS, 50, seed=3)
    shuffled = atoms[list(reversed(atoms.columns))]
    pd.testing.assert_frame_equal(fe.transform(atoms), fe.transform(shuffled), rtol=1e-12)


def test_amounts_below_pymatgen_tolerance_are_absent():
    tiny = AMOUNT_TOLERANCE / 10
    got = FastElementFeatures().transform(pd.DataFrame({"Si": [1 / 3], "O": [2 / 3], "Fr": [tiny]}))
    assert got.loc[0, "0-norm"] == 2
    assert not np.isnan(got.loc[0, "MagpieData mean MeltingT"])  # Fr's NaN is not used


def test_tolerance_matches_pymatgen():
    from pymatgen.core import Composition

    assert Composition.amount_tolerance == AMOUNT_TOLERANCE


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"Si": [0.5], "Xx": [0.5]}), "Xx"),
        (pd.DataFrame({"Si": [0.5], "Rf": [0.5]}), "Rf"),
        (pd.DataFrame({"Si": [0.5], "temperature": [0.5]}), "temperature"),
        (pd.DataFrame({"Si": [1.5], "O": [-0.5]}), "negative"),
        (pd.DataFrame({"Si": [np.nan], "O": [1.0]}), "non-finite"),
        (pd.DataFrame({"Si": [1.0, 0.0], "O": [0.0, 0.0]}), "without any element"),
    ],
)
def test_bad_input_raises(frame, message):
    with pytest.raises(ValueError, match=message):
        FastElementFeatures().transform(frame)


def test_sklearn_contract():
    fe = FastElementFeatures()
    atoms = pd.DataFrame({"Na": [0.2], "Si": [0.2], "O": [0.6]})
    assert clone(fe).get_params() == {}
    assert fe.fit(atoms) is fe and fe.n_features_in_ == 3
    names = fe.get_feature_names_out()
    assert len(names) == 146 == len(set(names))
    assert list(fe.fit_transform(atoms).columns) == list(names)
    assert FastElementFeatures().transform(atoms.iloc[:0]).shape == (0, 146)
    assert len(fe.citations()) == 3 and all(c.startswith("@article") for c in fe.citations())
    assert "Logan Ward" in fe.implementors()
