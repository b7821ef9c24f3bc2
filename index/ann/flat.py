"""Exact search by inner product over every vector.  The default — right for anything up to a few hundred
thousand passages (see docs/benchmarks.md, "ANN index types at scale").

The search is one numpy product (what FAISS's IndexFlatIP does, BLAS either way), so answering a question
does not import FAISS: its import was a fifth of a cold `verbatim ask` (docs/benchmarks.md, session 15).
The file stays FAISS's IndexFlatIP format, written by FAISS, so every build reads as before and FAISS
tools read ours; it is read here without FAISS when its header is the one this module knows (checked
field by field, and against the file's size), and by FAISS otherwise.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from .base import Ann

# fourcc "IxFI", d, ntotal, two unused int64, is_trained, metric type, then the codes' float count
_HEADER = struct.Struct("<4siqqq?iQ")
_FOURCC = b"IxFI"
_METRIC_INNER_PRODUCT = 0


class FlatAnn(Ann):
    kind = "flat"

    def __init__(self, dim: int, *, _vectors: np.ndarray | None = None) -> None:
        super().__init__(dim)
        self._vectors = _vectors if _vectors is not None else np.zeros((0, self.dim), dtype=np.float32)

    @property
    def ntotal(self) -> int:
        return len(self._vectors)

    def add(self, vectors: np.ndarray) -> None:
        x = self._rows(vectors, "vectors")
        if len(x):
            self._vectors = np.concatenate([self._vectors, x]) if len(self._vectors) else x.copy()

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.ntotal):
            raise ValueError(f"ids out of range 0..{self.ntotal - 1}")
        return self._vectors[ids]

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top k by inner product, best first; ties by the lower id. Missing slots (k > ntotal) get id -1."""
        scores = q @ self._vectors.T
        n = scores.shape[1]
        take = min(k, n)
        if take < n:
            part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        else:
            part = np.broadcast_to(np.arange(n), scores.shape)
        picked = np.take_along_axis(scores, part, axis=1)
        order = np.lexsort((part, -picked), axis=1)  # by score descending, then id
        ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
        top = np.take_along_axis(picked, order, axis=1)
        if take < k:
            ids = np.pad(ids, ((0, 0), (0, k - take)), constant_values=-1)
            top = np.pad(top, ((0, 0), (0, k - take)), constant_values=-np.inf)
        return top, ids

    def save(self, path: str | Path) -> None:
        import faiss

        from ._faiss import write_index

        index = faiss.IndexFlatIP(self.dim)
        if len(self._vectors):
            index.add(self._vectors)
        write_index(index, path)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> "FlatAnn":
        if params:
            raise ValueError(f"a flat index takes no parameters, got {sorted(params)}")
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no {cls.kind} index file at {p}")
        vectors = _read_flat(p)
        if vectors is None:  # a layout this reader does not know: FAISS reads it, or says what is wrong
            import faiss

            from ._faiss import read_index

            index = read_index(p, faiss.IndexFlatIP, cls.kind)
            vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
            return cls(index.d, _vectors=np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(vectors.shape[1], _vectors=vectors)

    def params(self) -> dict[str, Any]:
        return {}


def _read_flat(path: Path) -> np.ndarray | None:
    """The vectors of a FAISS IndexFlatIP file, or None unless every header field and the size fit."""
    with open(path, "rb") as f:
        head = f.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return None
        fourcc, d, ntotal, _, _, trained, metric, count = _HEADER.unpack(head)
        size = path.stat().st_size
        if fourcc != _FOURCC or d <= 0 or ntotal < 0 or not trained or metric != _METRIC_INNER_PRODUCT \
                or count != d * ntotal or size != _HEADER.size + 4 * count:
            return None
        vectors = np.fromfile(f, dtype="<f4", count=count)
    if len(vectors) != count:
        return None
    return vectors.astype(np.float32, copy=False).reshape(ntotal, d)
