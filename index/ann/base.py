"""The one interface every vector-index backend implements.

Vectors are float32 rows of a fixed dimension, L2-normalised by the caller (the embedders
already return unit vectors), so every backend's inner-product score is the cosine similarity.
Row ids are assigned in insertion order (0, 1, 2, ...), matching the passage ids of the store.

`search` returns `(scores [m, k] float32, ids [m, k] int64)`, best first.  Where fewer than `k`
neighbours are found (k > ntotal, or an approximate backend that visited too few candidates)
the missing slots hold id -1 and score -inf, so the scores stay in descending order and a caller
only has to drop ids < 0.
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


class Ann(abc.ABC):
    """A k-nearest-neighbour index over unit vectors, scored by inner product (cosine)."""

    kind: ClassVar[str]
    _index: Any = None  # the FAISS index behind HNSW and IVF (None until IVF trains); flat keeps numpy rows

    def __init__(self, dim: int) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self._dim = int(dim)

    # -- properties --------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._dim

    @property
    def ntotal(self) -> int:
        """Number of vectors stored."""
        return 0 if self._index is None else int(self._index.ntotal)

    # -- operations --------------------------------------------------------------------------
    def add(self, vectors: np.ndarray) -> None:
        """Append rows (float32 [n, dim], normalised); they get ids ntotal .. ntotal+n-1."""
        x = self._rows(vectors, "vectors")
        if len(x):
            self._before_add(x)
            self._index.add(x)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by inner product for each query row: (scores [m,k] float32, ids [m,k] int64)."""
        q = self._rows(queries, "queries")
        k = self._check_k(k)
        if self.ntotal == 0 or len(q) == 0:
            return self._empty_result(len(q), k)
        return self._finish(*self._search(q, k))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored rows of these ids, float32 [len(ids), dim]: exact scores over a chosen subset of
        passages (one article's), however large the index and whatever its type."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0 or self._index is None:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def save(self, path: str | Path) -> None:
        """Write the index to one file."""
        from ._faiss import write_index  # FAISS is imported when an index is made or read, not with index.ann

        write_index(self._index, path)

    # -- backend hooks -----------------------------------------------------------------------
    def _before_add(self, x: np.ndarray) -> None:
        """Called with the validated rows before they are added (IVF trains on its first add)."""

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.search(q, k)

    @classmethod
    @abc.abstractmethod
    def load(cls, path: str | Path, **params: Any) -> "Ann":
        """Read an index written by `save`; `params` may override search-time settings."""

    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The build and search parameters, for the manifest (JSON-serialisable)."""

    # -- shared helpers ----------------------------------------------------------------------
    def _rows(self, x: np.ndarray, what: str) -> np.ndarray:
        """Validate and return `x` as a C-contiguous float32 [n, dim] array.

        A single 1-D vector of length `dim` is accepted as one row.
        """
        a = np.asarray(x)
        if a.ndim == 1:
            a = a.reshape(1, -1)
        if a.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array [n, {self._dim}], got shape {a.shape}")
        if a.shape[1] != self._dim:
            raise ValueError(
                f"{what} have dimension {a.shape[1]} but this {self.kind} index has dimension "
                f"{self._dim} (was it built with another embedding model?)"
            )
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"{what} must be floating point, got dtype {a.dtype}")
        a = np.ascontiguousarray(a, dtype=np.float32)
        if a.size and not np.isfinite(a).all():
            raise ValueError(f"{what} contain NaN or infinite values")
        return a

    @staticmethod
    def _check_k(k: int) -> int:
        return positive_int("k", k)

    @staticmethod
    def _finish(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalise FAISS output: int64 ids, float32 scores, -inf where the id is -1."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        scores = np.array(scores, dtype=np.float32, copy=True)
        scores[ids < 0] = -np.inf
        return scores, ids

    def _empty_result(self, m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.full((m, k), -np.inf, dtype=np.float32), np.full((m, k), -1, dtype=np.int64))

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        return f"<{type(self).__name__} dim={self.dim} ntotal={self.ntotal} {self.params()}>"


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
