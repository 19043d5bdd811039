"""The GlassNet comparison removes every test glass and test composition before training,
its bootstrap ratio interval behaves as a ratio of paired MAEs should, and NCE's interval and
domain columns exist for every test row, with resistivity bounds flipped from sigma's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import glassnet  # noqa: E402

from nce.data.arrhenius import K_B_EV_PER_K, LN10, log10_sigma_at  # noqa: E402


def _ids(elements):
    # one test glass: KOD 1 / GLASNO 10, Li0.2 O0.5 B0.3
    return pd.DataFrame(
        {"dedup_index": [7], "KOD": [1], "GLASNO": [10], **{e: [v] for e, v in zip(elements, (0.2, 0.5, 0.3, 0.0))}}
    )


def test_exclusion_removes_test_glasses_and_same_compositions_only():
    elements = ["Li", "O", "B", "Na"]
    ids = _ids(elements)
    table = pd.DataFrame(
        {
            "KOD": [1, 2, 3, 4, 5],
            "GLASNO": [10, 20, 30, 40, 50],
            # the test glass itself; same composition to 3 decimals (other paper, in atomic %);
            # 0.0004 away (rounds equal); 0.002 away (a different glass); a sodium glass
            "Li": [0.2, 20.0, 0.2004, 0.202, 0.0],
            "O": [0.5, 50.0, 0.4996, 0.498, 0.5],
            "B": [0.3, 30.0, 0.3, 0.3, 0.3],
            "Na": [0.0, 0.0, 0.0, 0.0, 0.2],
        }
    )
    excluded = glassnet.exclusion_mask(table, ids, elements)
    assert excluded.tolist() == [True, True, True, False, False]


def test_exclusion_sees_elements_the_test_set_lacks():
    elements = ["Li", "O", "B", "Na"]
    table = pd.DataFrame({"KOD": [9], "GLASNO": [9], "Li": [0.2], "O": [0.5], "B": [0.299], "Na": [0.0], "Ag": [0.001]})
    # 0.1 % silver is a different composition, even though the test set has no Ag column
    assert glassnet.exclusion_mask(table, _ids(elements), elements).tolist() == [False]


def test_bootstrap_ratio_interval():
    rng = np.random.default_rng(0)
    err = rng.normal(size=500)
    assert glassnet.bootstrap_ratio(err, err, 200, 0) == (1.0, 1.0)
    lo, hi = glassnet.bootstrap_ratio(0.5 * err, err, 200, 0)
    assert np.isclose(lo, 0.5) and np.isclose(hi, 0.5)
    noisier = err + rng.normal(scale=0.5, size=500)
    point = np.abs(noisier).mean() / np.abs(err).mean()
    lo, hi = glassnet.bootstrap_ratio(noisier, err, 500, 0)
    assert 1.0 < lo < point < hi


def test_negative_stored_resistivity_is_not_a_plausible_truth():
    truth = pd.DataFrame({"RO20": [5.0, -3.0, np.nan], "Tg_K": [700.0, -1.0, 600.0]})
    assert glassnet.plausible(truth, "RO20").tolist() == [True, False, True]
    assert glassnet.plausible(truth, "Tg_K").all()


def _uniform_quantiles(low: float, high: float, n_rows: int = 1) -> np.ndarray:
    levels = np.asarray(glassnet.QUANTILE_LEVELS)
    return np.tile(low + (high - low) * levels, (n_rows, 1))


def test_resistivity_interval_flips_the_sigma_percentiles():
    levels = glassnet.QUANTILE_LEVELS
    slope_K = 1.0 / (LN10 * K_B_EV_PER_K)  # decades per eV per (1/K)
    # at 20 degC, Ea fixed at 0.4 eV: log10 sigma20 = sigma25 - 0.4 * slope_K * (1/293.15 - 1/298.15),
    # sigma25 uniform on [-6, -2] (5th and 95th percentiles -5.8 and -2.2), so RO20 spans [2.2 + c, 5.8 + c]
    c = 0.4 * slope_K * (1 / 293.15 - 1 / 298.15)
    lo, hi = glassnet.resistivity_interval(_uniform_quantiles(-6, -2), _uniform_quantiles(0.4, 0.4), levels, 20.0)
    assert np.allclose([lo[0], hi[0]], [2.2 + c, 5.8 + c], atol=0.05)
    # at 300 degC a larger Ea means a higher sigma: sigma25 fixed at -4, Ea uniform on [0.2, 0.6] eV,
    # RO300 = 4 - Ea * d with d > 0, so the lower resistivity bound comes from Ea's 95th percentile (0.58 eV)
    d = slope_K * (1 / 298.15 - 1 / 573.15)
    lo, hi = glassnet.resistivity_interval(_uniform_quantiles(-4, -4), _uniform_quantiles(0.2, 0.6), levels, 300.0)
    assert np.allclose([lo[0], hi[0]], [4 - 0.58 * d, 4 - 0.22 * d], atol=0.05)
    # fixed seed: the same interval twice; every row drawn with the same shares
    again = glassnet.resistivity_interval(_uniform_quantiles(-4, -4), _uniform_quantiles(0.2, 0.6), levels, 300.0)
    assert (again[0] == lo).all() and (again[1] == hi).all()


def test_draws_follow_the_quantile_function():
    levels = np.asarray(glassnet.QUANTILE_LEVELS)
    q = _uniform_quantiles(0.0, 1.0, n_rows=2) * np.array([[1.0], [10.0]])
    shares = np.array([0.0, 0.3, 0.5, 1.0])
    # linear between levels; held at the end levels (0.0025 and 0.9975) beyond them
    assert np.allclose(glassnet.draw(q, levels, shares), [[0.0025, 0.3, 0.5, 0.9975], [0.025, 3.0, 5.0, 9.975]])


def test_nce_columns_for_every_test_row(small_model_dir):
    from nce.data.datasets import load_conductivity
    from nce.data.schema import element_columns
    from nce.models import io

    model = io.load(small_model_dir)
    cond = load_conductivity().sample(n=40, random_state=3)
    atoms = cond[element_columns(cond)].fillna(0.0).reset_index(drop=True)
    # glasses far from the ionic conductors: silica, a low-Tg selenide
    odd = pd.DataFrame([{"Si": 1 / 3, "O": 2 / 3}, {"As": 0.4, "Se": 0.6}])
    query = pd.concat([atoms, odd], ignore_index=True).fillna(0.0).set_axis(np.arange(100, 142))
    query["route"], query["state"] = "melt_quench", "glass"
    out = glassnet.nce_columns(model, query, n_draws=500)

    assert out.index.equals(query.index)
    for target in glassnet.TARGETS:
        assert {target, f"{target}_lo", f"{target}_hi"} <= set(out.columns)
    for target in [*glassnet.TEMPERATURES_C, *glassnet.NCE_TARGETS]:
        lo, hi = out[f"{target}_lo"].to_numpy(), out[f"{target}_hi"].to_numpy()
        assert np.isfinite(lo).all() and np.isfinite(hi).all() and (lo <= hi).all(), target
    assert out[["Tg_K_lo", "Tg_K_hi"]].isna().all().all() and out["Tg_K"].notna().all()
    assert out["in_domain"].notna().all() and out["novelty"].notna().all()
    assert out["in_domain"].dtype == bool and (out["novelty"] >= 0).all()
    # the point resistivity is the Arrhenius value of the point sigma25 and Ea
    for target, T_C in glassnet.TEMPERATURES_C.items():
        expected = -log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T_C)
        assert np.allclose(out[target], expected)
        # in domain at T: the glass is, and T is not above its predicted Tg
        rule = out["in_domain"].to_numpy() & ~(T_C > out["Tg_K"].to_numpy() - 273.15)
        assert (out[f"{target}_in_domain"].to_numpy() == rule).all(), target
    # the RO interval mirrors the sigma interval's direction: at 20 degC (Ea counts little) the
    # resistivity bounds sit near minus the sigma25 bounds, swapped
    near = np.abs(out["RO20_lo"] + out["log10_sigma25_hi"]) < np.abs(out["RO20_lo"] + out["log10_sigma25_lo"])
    assert near.mean() > 0.9
