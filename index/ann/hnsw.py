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

from ._faiss import read_index
from .base import Ann, positive_int

DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 80
DEFAULT_EF_SEARCH = 128  # recall@10 ~0.89 at 100k clustered vectors for ~2 ms (docs/benchmarks.md)



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
            _index = faiss.IndexHNSWFlat(self.dim, positive_int("M", M), faiss.METRIC_INNER_PRODUCT)
            _index.hnsw.efConstruction = positive_int("efConstruction", efConstruction)
        _index.hnsw.efSearch = positive_int("efSearch", efSearch)
        self._index = _index

    @property
    def efSearch(self) -> int:
        return int(self._index.hnsw.efSearch)

    @efSearch.setter
    def efSearch(self, value: int) -> None:
        self._index.hnsw.efSearch = positive_int("efSearch", value)

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # efSearch below k would silently cap the result list at efSearch entries.
        params = faiss.SearchParametersHNSW(efSearch=max(self.efSearch, k))
        return self._index.search(q, k, params=params)

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
