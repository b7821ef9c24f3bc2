"""Exact search: FAISS IndexFlatIP.  The default — right for anything up to a few hundred
thousand passages (see docs/benchmarks.md, "ANN index types at scale")."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss

from ._faiss import read_index
from .base import Ann


class FlatAnn(Ann):
    kind = "flat"

    def __init__(self, dim: int, *, _index: "faiss.IndexFlatIP | None" = None) -> None:
        super().__init__(dim)
        self._index = _index if _index is not None else faiss.IndexFlatIP(self.dim)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> "FlatAnn":
        if params:
            raise ValueError(f"a flat index takes no parameters, got {sorted(params)}")
        index = read_index(path, faiss.IndexFlatIP, cls.kind)
        return cls(index.d, _index=index)

    def params(self) -> dict[str, Any]:
        return {}
