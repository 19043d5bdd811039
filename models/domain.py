"""Applicability domain: is a candidate near the glasses the model was trained on?

Distance is measured in the model's own feature space, robustly scaled and reduced by PCA;
a candidate's score is its mean distance to the k nearest training glasses. The threshold
is the ``quantile`` of the same score for held-out *groups* (publications) against the rest,
so "in domain" means "as close to the training data as a new publication usually is".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted


class ApplicabilityDomain(BaseEstimator):
    """k-nearest-neighbour distance domain with a held-out-group threshold.

    Parameters
    ----------
    n_neighbors: neighbours averaged in the distance score.
    n_components: PCA dimensions kept (at most the number of features).
    quantile: share of held-out glasses that count as in domain.
    random_state: seed of the PCA solver.
    """

    def __init__(self, n_neighbors: int = 5, n_components: int = 20, quantile: float = 0.95, random_state: int = 0):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.quantile = quantile
        self.random_state = random_state

    def _embed(self, X: np.ndarray) -> np.ndarray:
        Z = (np.nan_to_num(np.asarray(X, dtype=float), nan=0.0) - self.center_) / self.scale_
        return (Z - self.pca_mean_) @ self.pca_components_.T

    def fit(self, X, groups=None):
        from sklearn.decomposition import PCA  # fitting only: prediction starts faster without it
        from sklearn.model_selection import GroupKFold

        X = np.nan_to_num(np.asarray(X, dtype=float), nan=0.0)
        self.center_ = np.median(X, axis=0)
        q75, q25 = np.percentile(X, [75, 25], axis=0)
        scale = q75 - q25
        std = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
        Z = (X - self.center_) / self.scale_
        pca = PCA(n_components=min(self.n_components, Z.shape[1], Z.shape[0]), random_state=self.random_state).fit(Z)
        self.pca_mean_, self.pca_components_ = pca.mean_, pca.components_
        self.train_embedding_ = self._embed(X)
        groups = np.arange(len(X)) if groups is None else np.asarray(groups)
        held_out = np.empty(len(X))
        n_splits = min(5, len(np.unique(groups)))
        for train, test in GroupKFold(n_splits=n_splits).split(X, groups=groups):
            held_out[test] = self._score(self.train_embedding_[test], self.train_embedding_[train])
        self.threshold_ = float(np.quantile(held_out, self.quantile))
        return self

    def _score(self, query: np.ndarray, reference: np.ndarray) -> np.ndarray:
        k = min(self.n_neighbors, len(reference))
        dist, _ = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(query)
        return dist.mean(axis=1)

    def score(self, X) -> np.ndarray:
        """Mean distance to the k nearest training glasses (in scaled PCA units)."""
        check_is_fitted(self, "threshold_")
        return self._score(self._embed(X), self.train_embedding_)

    def kneighbors(self, X, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances and training-row indices of the nearest measured glasses."""
        check_is_fitted(self, "threshold_")
        nn = NearestNeighbors(n_neighbors=min(n_neighbors, len(self.train_embedding_))).fit(self.train_embedding_)
        return nn.kneighbors(self._embed(X))

    def in_domain(self, X) -> np.ndarray:
        return self.score(X) <= self.threshold_

    # -- persistence (nce.models.io: NumPy arrays without pickle) -------------------------
    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "threshold_")
        np.savez(
            directory / "domain.npz",
            center=self.center_,
            scale=self.scale_,
            pca_mean=self.pca_mean_,
            pca_components=self.pca_components_,
            train_embedding=self.train_embedding_,
        )
        return {"threshold": self.threshold_}

    def _load_state(self, state: dict, directory: Path) -> None:
        with np.load(directory / "domain.npz", allow_pickle=False) as arrays:
            self.center_, self.scale_ = arrays["center"], arrays["scale"]
            self.pca_mean_, self.pca_components_ = arrays["pca_mean"], arrays["pca_components"]
            self.train_embedding_ = arrays["train_embedding"]
        self.threshold_ = float(state["threshold"])
