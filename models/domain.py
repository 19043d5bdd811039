"""Where a glass sits relative to the training glasses: the descriptors of its novelty.

Distance is measured in the model's own feature space, robustly scaled and reduced by PCA:
the distance to the nearest training glass and the mean distance to the k nearest; beside
them, how many training glasses contain the glass's rarest element (from the ``frac_*``
atomic-fraction features). These descriptors are what nce.models.uncertainty learns the
size of the error from; whether a glass is "in domain" is decided there, on held-out
families (NCEModel's ``novelty`` and ``in_domain``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

#: Column names of :meth:`ApplicabilityDomain.describe`.
DESCRIPTORS = ("mean_knn_distance", "nearest_distance", "log10_rarest_element_count")
ATOM_PREFIX = "frac_"


class ApplicabilityDomain(BaseEstimator):
    """Novelty descriptors from k-nearest-neighbour distances and element rarity.

    Parameters
    ----------
    n_neighbors: neighbours averaged in the mean distance.
    n_components: PCA dimensions kept (at most the number of features).
    random_state: seed of the PCA solver.
    """

    def __init__(self, n_neighbors: int = 5, n_components: int = 20, random_state: int = 0):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.random_state = random_state

    def _embed(self, X: np.ndarray) -> np.ndarray:
        Z = (np.nan_to_num(np.asarray(X, dtype=float), nan=0.0) - self.center_) / self.scale_
        return (Z - self.pca_mean_) @ self.pca_components_.T

    def fit(self, X, y=None):
        """Learn the scaling and the reference glasses; ``X`` is the feature table (a DataFrame
        with ``frac_*`` columns gives the element-rarity descriptor; an array gives 0 there)."""
        from sklearn.decomposition import PCA  # fitting only: prediction starts faster without it

        names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else []
        self.atom_columns_ = np.array([i for i, c in enumerate(names) if c.startswith(ATOM_PREFIX)], dtype=int)
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
        self.element_counts_ = (X[:, self.atom_columns_] > 0).sum(axis=0).astype(float)
        return self

    def score(self, X) -> np.ndarray:
        """Mean distance to the k nearest training glasses (in scaled PCA units)."""
        return self.describe(X)[:, 0]

    def describe(self, X) -> np.ndarray:
        """The :data:`DESCRIPTORS` of each glass: mean distance to the k nearest training
        glasses, distance to the nearest (scaled PCA units), and log10(1 + the number of
        training glasses that contain its rarest element)."""
        check_is_fitted(self, "train_embedding_")
        X = np.nan_to_num(np.asarray(X, dtype=float), nan=0.0)
        k = min(self.n_neighbors, len(self.train_embedding_))
        dist, _ = NearestNeighbors(n_neighbors=k).fit(self.train_embedding_).kneighbors(self._embed(X))
        rarest = np.zeros(len(X))
        if self.atom_columns_.size:
            present = X[:, self.atom_columns_] > 0
            rarest = np.where(present, self.element_counts_[None, :], np.inf).min(axis=1)
            rarest = np.log10(1.0 + np.where(np.isfinite(rarest), rarest, 0.0))
        return np.column_stack([dist.mean(axis=1), dist[:, 0], rarest])

    def kneighbors(self, X, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances and training-row indices of the nearest measured glasses."""
        check_is_fitted(self, "train_embedding_")
        nn = NearestNeighbors(n_neighbors=min(n_neighbors, len(self.train_embedding_))).fit(self.train_embedding_)
        return nn.kneighbors(self._embed(X))

    # -- persistence (nce.models.io: NumPy arrays without pickle) -------------------------
    def _save_state(self, directory: Path) -> dict:
        check_is_fitted(self, "train_embedding_")
        np.savez(
            directory / "domain.npz",
            center=self.center_,
            scale=self.scale_,
            pca_mean=self.pca_mean_,
            pca_components=self.pca_components_,
            train_embedding=self.train_embedding_,
            atom_columns=self.atom_columns_,
            element_counts=self.element_counts_,
        )
        return {}

    def _load_state(self, state: dict, directory: Path) -> None:
        with np.load(directory / "domain.npz", allow_pickle=False) as arrays:
            self.center_, self.scale_ = arrays["center"], arrays["scale"]
            self.pca_mean_, self.pca_components_ = arrays["pca_mean"], arrays["pca_components"]
            self.train_embedding_ = arrays["train_embedding"]
            self.atom_columns_, self.element_counts_ = arrays["atom_columns"], arrays["element_counts"]
