"""Novelty descriptors: near glasses are near, far ones far, rare elements are rare, save/load is exact."""

import numpy as np
import pandas as pd

from nce.models import io
from nce.models.domain import DESCRIPTORS, ApplicabilityDomain


def _table(rng, n, shift=0.0, with_cs=False):
    X = pd.DataFrame(rng.normal(size=(n, 4)) + shift, columns=[f"x{i}" for i in range(4)])
    X["frac_Li"] = 0.2
    X["frac_O"] = 0.8
    X["frac_Cs"] = 0.0
    if with_cs:
        X["frac_Cs"] = 0.1
    return X


def test_far_glasses_are_farther_than_near_ones_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    train = _table(rng, 800)
    domain = ApplicabilityDomain(n_components=6).fit(train)
    near, far = domain.describe(_table(rng, 200)), domain.describe(_table(rng, 50, shift=12.0))
    assert near.shape == (200, len(DESCRIPTORS))
    assert far[:, 0].min() > near[:, 0].max() and far[:, 1].min() > near[:, 1].max()
    io.save(domain, tmp_path)
    loaded = io.load(tmp_path)
    np.testing.assert_array_equal(loaded.describe(train[:30]), domain.describe(train[:30]))
    dist, idx = loaded.kneighbors(train[:3], 2)
    assert idx[:, 0].tolist() == [0, 1, 2] and np.allclose(dist[:, 0], 0)


def test_rarest_element_count_is_log10_of_training_glasses_holding_it():
    rng = np.random.default_rng(1)
    train = pd.concat([_table(rng, 99), _table(rng, 9, with_cs=True)], ignore_index=True)
    domain = ApplicabilityDomain(n_components=4).fit(train)
    plain, caesium = domain.describe(_table(rng, 1)), domain.describe(_table(rng, 1, with_cs=True))
    assert plain[0, 2] == np.log10(1 + 108)  # Li and O: in all 108 training glasses
    assert caesium[0, 2] == np.log10(1 + 9)  # Cs: in 9
    unseen = _table(rng, 1).assign(frac_Li=0.0)  # no element of a training glass but O
    assert domain.describe(unseen)[0, 2] == np.log10(1 + 108)
