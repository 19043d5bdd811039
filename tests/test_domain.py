"""Applicability domain: near points are in, far points are out, save/load is exact."""

import numpy as np

from nce.models import io
from nce.models.domain import ApplicabilityDomain


def test_far_candidates_are_out_of_domain(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 6))
    groups = rng.integers(0, 80, size=800)
    domain = ApplicabilityDomain(n_components=6).fit(X, groups=groups)
    near = rng.normal(size=(200, 6))
    far = rng.normal(size=(50, 6)) + 12.0
    assert domain.in_domain(near).mean() > 0.85
    assert not domain.in_domain(far).any()
    io.save(domain, tmp_path)
    loaded = io.load(tmp_path)
    np.testing.assert_allclose(loaded.score(far), domain.score(far))
    dist, idx = loaded.kneighbors(X[:3], 2)
    assert idx[:, 0].tolist() == [0, 1, 2] and np.allclose(dist[:, 0], 0)
