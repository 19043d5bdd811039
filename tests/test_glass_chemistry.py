"""Hand calculations and contract checks for nce.featurize.glass_chemistry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from nce.featurize.glass_chemistry import (
    ANION_POLARIZABILITY_A3,
    GlassChemistry,
    borate_n4_fraction,
    glass_fractions,
    mobile_ion_features,
    network_connectivity,
)


def atoms(**counts: float) -> pd.DataFrame:
    """One-row atomic-fraction table from atom counts (exact fractions)."""
    total = sum(counts.values())
    return pd.DataFrame([{el: n / total for el, n in counts.items()}])


def row(df: pd.DataFrame) -> pd.Series:
    return df.iloc[0]


# --- bond counting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "nbo", "free", "qn"),
    [
        (dict(Li=3, P=1, S=4), 1.0, 0.0, 0.0),  # Li3PS4: isolated PS4(3-), Q0
        (dict(Li=4, P=2, S=7), 6 / 7, 0.0, 1.0),  # Li4P2S7: P2S7(4-) dimers, Q1
        (dict(Si=1, O=2), 0.0, 0.0, 4.0),  # SiO2: Q4
        (dict(P=2, O=5), 0.4, 0.0, 3.0),  # P2O5: Q3 with one P=O each
        (dict(Li=160, P=40, S=180), 160 / 180, 20 / 180, 0.0),  # 80Li2S-20P2S5: excess Li2S
        (dict(Na=2, Si=2, O=5), 2 / 5, 0.0, 3.0),  # Na2O.2SiO2: Q3 sheets
        (dict(Li=2, Si=1, O=3), 2 / 3, 0.0, 2.0),  # Li2SiO3: Q2 chains
    ],
)
def test_bond_counting_hand_values(counts, nbo, free, qn):
    r = row(network_connectivity(atoms(**counts)))
    assert r["nbo_fraction"] == pytest.approx(nbo)
    assert r["free_anion_fraction"] == pytest.approx(free)
    assert r["mean_Qn"] == pytest.approx(qn)
    parts = r[["nbo_fraction", "free_anion_fraction", "bridging_fraction"]]
    assert parts.sum() == pytest.approx(1.0)
    assert r["has_network"] == 1.0


def test_lithium_borate_R_0_3_uses_dell_bray_n4():
    # 0.3 Li2O . B2O3: Li 0.6, B 2, O 3.3. N4 = R = 0.3, so c_B = 3.3 and N_t = 6.6 = 2A:
    # every O bridges (nbo 0) and each B has 3.3 bridging O. Trigonal-only B would give
    # nbo = (2*3.3 - 6)/3.3 = 0.18.
    r = row(network_connectivity(atoms(Li=0.6, B=2, O=3.3)))
    assert r["borate_N4_fraction"] == pytest.approx(0.3)
    assert r["nbo_fraction"] == pytest.approx(0.0, abs=1e-12)
    assert r["mean_Qn"] == pytest.approx(3.3)


def test_lithium_metaborate_R_1():
    # Li2O . B2O3 (R = 1): N4 = (2 - 1)/3, c_B = 10/3, N_t = 20/3, A = 4:
    # b = 8/3, nbo = 8 - 20/3 = 4/3 -> 1/3 of O; Q^n = 2 b / n_B = 8/3.
    r = row(network_connectivity(atoms(Li=2, B=2, O=4)))
    assert r["borate_N4_fraction"] == pytest.approx(1 / 3)
    assert r["nbo_fraction"] == pytest.approx(1 / 3)
    assert r["mean_Qn"] == pytest.approx(8 / 3)


def test_halide_salt_does_not_touch_network():
    base = row(network_connectivity(atoms(Li=3, P=1, S=4)))
    doped = row(network_connectivity(atoms(Li=4, P=1, S=4, I=1)))  # Li3PS4 + LiI
    pd.testing.assert_series_equal(base, doped, check_names=False)
    # Li2O.2B2O3 + LiI: the Li of LiI is not modifier oxide, N4 stays 0.5.
    borate = row(network_connectivity(atoms(Li=3, B=4, O=7, I=1)))
    assert borate["borate_N4_fraction"] == pytest.approx(0.5)


def test_aluminium_takes_modifier_before_boron():
    # Na2O . Al2O3 . B2O3: all Na compensates AlO4-, none left for BO4-.
    r = row(network_connectivity(atoms(Na=2, Al=2, B=2, O=7)))
    assert r["borate_N4_fraction"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("R", "K", "n4"),
    [
        (0.0, 0.0, 0.0),
        (0.3, 0.0, 0.3),
        (0.5, 0.0, 0.5),
        (1.1, 0.0, 0.3),  # (2 - R)/3
        (2.5, 0.0, 0.0),
        (0.7, 4.0, 0.7),  # below R_max = 0.75
        (1.2, 4.0, 0.75),  # plateau up to R_d1 = 1.5
        (4.0, 4.0, 1 / 3),  # (8 + K)/12 (1 - R/(2 + K))
    ],
)
def test_dell_bray_n4(R, K, n4):
    assert borate_n4_fraction(np.array([R]), np.array([K]))[0] == pytest.approx(n4)


def test_dell_bray_n4_is_continuous():
    for K in (0.0, 1.0, 4.0, 8.0):
        R = np.linspace(0, 12, 20001)
        assert np.abs(np.diff(borate_n4_fraction(R, np.full_like(R, K)))).max() < 1e-3


# --- Te rule, fractions, mobile ion ---------------------------------------------------------


def test_tellurium_is_former_in_oxides_and_anion_otherwise():
    tellurite = row(GlassChemistry().transform(atoms(Te=1, O=2)))
    assert tellurite["nbo_fraction"] == pytest.approx(0.0)
    assert tellurite["mean_Qn"] == pytest.approx(4.0)
    assert tellurite["network_former_fraction"] == pytest.approx(1 / 3)
    assert tellurite["anion_Te_share"] == 0.0
    telluride = row(GlassChemistry().transform(atoms(As=2, Te=3)))
    assert telluride["anion_Te_share"] == pytest.approx(1.0)
    assert telluride["network_anion_fraction"] == pytest.approx(3 / 5)
    assert telluride["nbo_fraction"] == pytest.approx(0.0)  # As2Te3: AsTe3 pyramids, Q3
    assert telluride["anion_polarizability_A3"] == pytest.approx(ANION_POLARIZABILITY_A3["Te"])


def test_glass_fractions_of_lithium_thiophosphate_with_iodide():
    # 33LiI-67Li3PS4 per formula unit scaled: Li 3*67+33, P 67, S 268, I 33
    r = row(glass_fractions(atoms(Li=234, P=67, S=268, I=33)))
    total = 234 + 67 + 268 + 33
    assert r["network_former_fraction"] == pytest.approx(67 / total)
    assert r["modifier_fraction"] == pytest.approx(234 / total)
    assert r["network_anion_fraction"] == pytest.approx(268 / total)
    assert r["halide_fraction"] == pytest.approx(33 / total)
    assert r["modifier_to_former_ratio"] == pytest.approx(234 / 67)
    assert r["anion_S_share"] == pytest.approx(268 / 301)
    assert r["anion_I_share"] == pytest.approx(33 / 301)


def test_mobile_ion_identity_size_and_mixing():
    r = row(mobile_ion_features(atoms(Li=3, Na=1, Si=2, O=6)))
    assert r["mobile_ion_fraction"] == pytest.approx(4 / 12)
    assert r["mobile_is_Li"] == 1.0 and r["mobile_is_Na"] == 0.0
    assert r["mixed_mobile_ion"] == pytest.approx(0.25)
    # Shannon (1976) VI radii: Li+ 0.76, Na+ 1.02 Angstrom
    assert r["mobile_ion_radius_A"] == pytest.approx(0.75 * 0.76 + 0.25 * 1.02)
    assert r["mobile_ion_charge"] == 1.0
    assert r["mobile_ion_mass_amu"] == pytest.approx(0.75 * 6.94 + 0.25 * 22.98977, rel=1e-3)
    iv = row(mobile_ion_features(atoms(Li=1, I=1), radius_coordination="IV"))
    assert iv["mobile_ion_radius_A"] == pytest.approx(0.59)


def test_pure_silver_iodide_has_no_network():
    r = row(GlassChemistry().transform(atoms(Ag=1, I=1)))
    assert r["has_network"] == 0.0
    for name in ("nbo_fraction", "bridging_fraction", "free_anion_fraction", "mean_Qn"):
        assert r[name] == 0.0
    assert r["mobile_is_Ag"] == 1.0
    assert r["mobile_ion_radius_A"] == pytest.approx(1.15)
    assert r["anion_polarizability_A3"] == pytest.approx(ANION_POLARIZABILITY_A3["I"])
    assert r["halide_fraction"] == pytest.approx(0.5)


def test_electronic_risk_fractions():
    r = row(GlassChemistry().transform(atoms(Cu=1, As=2, Se=4, V=1, O=2)))
    assert r["tm_fraction"] == pytest.approx(2 / 10)
    assert r["chalcogenide_metalloid_fraction"] == pytest.approx(6 / 10)


# --- contract --------------------------------------------------------------------------------


ELEMENTS = [
    "Li",
    "Na",
    "K",
    "Ag",
    "Cu",
    "H",
    "Mg",
    "Zn",
    "Si",
    "Ge",
    "P",
    "B",
    "Al",
    "Ga",
    "As",
    "Sb",
    "Te",
    "V",
    "W",
    "Mo",
    "Bi",
    "Fe",
    "O",
    "S",
    "Se",
    "N",
    "F",
    "Cl",
    "Br",
    "I",
]


def random_atoms(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.dirichlet(np.full(len(ELEMENTS), 0.3), size=n)
    x[rng.random(x.shape) < 0.6] = 0.0
    x[x.sum(axis=1) == 0, 0] = 1.0
    x /= x.sum(axis=1, keepdims=True)
    return pd.DataFrame(x, columns=ELEMENTS, index=pd.RangeIndex(100, 100 + n))


@pytest.mark.parametrize(
    "counts",
    [dict(Ag=1, I=1), dict(Si=1, O=2), dict(Li=1), dict(Li=2, S=1), dict(Te=1), dict(H=1, O=1)],
)
def test_no_nan_for_edge_compositions(counts):
    featurizer = GlassChemistry()
    out = featurizer.transform(atoms(**counts))
    assert list(out.columns) == featurizer.feature_labels()
    assert np.isfinite(out.to_numpy()).all()
    assert all(dtype == np.float64 for dtype in out.dtypes)


def test_feature_labels_match_columns_and_index_kept():
    featurizer = GlassChemistry()
    x = random_atoms(50)
    out = featurizer.transform(x)
    assert list(out.columns) == featurizer.feature_labels()
    assert list(featurizer.get_feature_names_out()) == featurizer.feature_labels()
    assert out.index.equals(x.index)
    assert np.isfinite(out.to_numpy()).all()
    assert ((out.filter(like="_fraction") >= 0) & (out.filter(like="_fraction") <= 1)).all().all()


def test_batch_equals_row_by_row():
    featurizer = GlassChemistry()
    x = random_atoms(100, seed=1)
    batch = featurizer.transform(x)
    single = pd.concat([featurizer.transform(x.iloc[[i]]) for i in range(len(x))])
    pd.testing.assert_frame_equal(batch, single, rtol=1e-12, atol=1e-12)


def test_column_order_and_missing_elements_do_not_matter():
    featurizer = GlassChemistry()
    x = random_atoms(20, seed=2)
    shuffled = x[x.columns[::-1]]
    pd.testing.assert_frame_equal(featurizer.transform(x), featurizer.transform(shuffled))
    li3ps4 = atoms(Li=3, P=1, S=4)
    padded = li3ps4.assign(O=0.0, Si=0.0, I=0.0)
    pd.testing.assert_frame_equal(featurizer.transform(li3ps4), featurizer.transform(padded))


def test_bad_input_is_rejected():
    featurizer = GlassChemistry()
    with pytest.raises(ValueError, match="element symbols"):
        featurizer.transform(pd.DataFrame({"Li": [0.5], "Foo": [0.5]}))
    with pytest.raises(ValueError, match="NaN"):
        featurizer.transform(pd.DataFrame({"Li": [np.nan], "S": [1.0]}))
    with pytest.raises(ValueError, match="positive sum"):
        featurizer.transform(pd.DataFrame({"Li": [0.0], "S": [0.0]}))


def test_sklearn_contract_and_metadata():
    featurizer = clone(GlassChemistry(radius_coordination="IV"))
    assert featurizer.get_params() == {"radius_coordination": "IV"}
    assert featurizer.fit(random_atoms(5)) is featurizer
    out = featurizer.featurize_dataframe_fast(random_atoms(5))
    assert out.shape == (5, len(featurizer.feature_labels()))
    cites = featurizer.citations()
    assert all(c.startswith("@article{") for c in cites)
    assert any("Dell" in c for c in cites) and any("Shannon" in c for c in cites)
    assert featurizer.implementors()
