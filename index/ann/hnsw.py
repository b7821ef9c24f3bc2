"""Graph search: FAISS IndexHNSWFlat with inner product.

Fast queries at any size and no training, but the build is slow (each insertion walks the
graph) and the graph adds about M*2*4 bytes per vector on top of the raw vectors.
`efSearch` (search-time, stored in the file, overridable at load) trades recall for speed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ._faiss import read_index, write_index
from .base import Ann

DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 80
DEFAULT_EF_SEARCH = 128  # recall@10 ~0.89 at 100k clustered vectors for ~2 ms (docs/benchmarks.md)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class HnswAnn(Ann):
    kind = "hnsw"

    def __init__(
        self,
        dim: int,
        *,
        M: int = DEFAULT_M,
        efConstruction: int = DEFAULT_EF_CONSTRUCTION,
        efSearch: int = DEFAULT_EF_SEARCH,
        _index: "faiss.IndexHNSWFlat | None" = None,
    ) -> None:
        super().__init__(dim)
        if _index is None:
            _index = faiss.IndexHNSWFlat(self.dim, _positive("M", M), faiss.METRIC_INNER_PRODUCT)
            _index.hnsw.efConstruction = _positive("efConstruction", efConstruction)
        _index.hnsw.efSearch = _positive("efSearch", efSearch)
        self._index = _index

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    @property
    def efSearch(self) -> int:
        return int(self._index.hnsw.efSearch)

    @efSearch.setter
    def efSearch(self, value: int) -> None:
        self._index.hnsw.efSearch = _positive("efSearch", value)

    def add(self, vectors: np.ndarray) -> None:
        x = self._rows(vectors, "vectors")
        if len(x):
            self._index.add(x)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = self._rows(queries, "queries")
        k = self._check_k(k)
        if self.ntotal == 0 or len(q) == 0:
            return self._empty_result(len(q), k)
        # efSearch below k would silently cap the result list at efSearch entries.
        params = faiss.SearchParametersHNSW(efSearch=max(self.efSearch, k))
        return self._finish(*self._index.search(q, k, params=params))

    def save(self, path: str | Path) -> None:
        write_index(self._index, path)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> "HnswAnn":
        unknown = set(params) - {"efSearch"}
        if unknown:
            raise ValueError(f"only efSearch can be changed when loading an HNSW index, got {sorted(unknown)}")
        index = read_index(path, faiss.IndexHNSWFlat, cls.kind)
        return cls(index.d, efSearch=params.get("efSearch", index.hnsw.efSearch), _index=index)

    def params(self) -> dict[str, Any]:
        h = self._index.hnsw
        # M is the neighbour count of the upper layers (level 0 holds 2*M).
        return {"M": int(h.nb_neighbors(1)), "efConstruction": int(h.efConstruction), "efSearch": int(h.efSearch)}
