"""Exact search: FAISS IndexFlatIP.  The default — right for anything up to a few hundred
thousand passages (see docs/benchmarks.md, "ANN index types at scale")."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ._faiss import read_index, write_index
from .base import Ann


class FlatAnn(Ann):
    kind = "flat"

    def __init__(self, dim: int, *, _index: "faiss.IndexFlatIP | None" = None) -> None:
        super().__init__(dim)
        self._index = _index if _index is not None else faiss.IndexFlatIP(self.dim)

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        x = self._rows(vectors, "vectors")
        if len(x):
            self._index.add(x)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = self._rows(queries, "queries")
        k = self._check_k(k)
        if self.ntotal == 0 or len(q) == 0:
            return self._empty_result(len(q), k)
        return self._finish(*self._index.search(q, k))

    def save(self, path: str | Path) -> None:
        write_index(self._index, path)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> "FlatAnn":
        if params:
            raise ValueError(f"a flat index takes no parameters, got {sorted(params)}")
        index = read_index(path, faiss.IndexFlatIP, cls.kind)
        return cls(index.d, _index=index)

    def params(self) -> dict[str, Any]:
        return {}
