"""Vector-index backends behind one interface (in the style of txtai's `ann/`).

    ann = make_ann("hnsw", 384, efSearch=128)
    ann.add(vectors)                    # float32 [n, 384], L2-normalised
    scores, ids = ann.search(q, 10)     # cosine scores, best first; id -1 where missing
    ann.save(path); ann = load_ann("hnsw", path)

Kinds: "flat" (exact, the default), "hnsw" (graph), "ivf" (inverted lists; built in one add).
When to switch away from flat: docs/benchmarks.md, "ANN index types at scale".
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Ann

ANN_KINDS = ("flat", "hnsw", "ivf")
DEFAULT_KIND = "flat"


def _cls(kind: str) -> type[Ann]:
    # Imported on demand so `import index.ann` does not pay for FAISS until an index is used.
    if kind == "flat":
        from .flat import FlatAnn

        return FlatAnn
    if kind == "hnsw":
        from .hnsw import HnswAnn

        return HnswAnn
    if kind == "ivf":
        from .ivf import IvfAnn

        return IvfAnn
    raise ValueError(f"unknown index type {kind!r}; choose one of {', '.join(ANN_KINDS)}")


def make_ann(kind: str, dim: int, **params: Any) -> Ann:
    """A new, empty index of `kind` for `dim`-dimensional unit vectors."""
    cls = _cls(kind)
    try:
        return cls(dim, **params)
    except TypeError as exc:  # unknown keyword
        raise ValueError(f"bad parameters for a {kind!r} index: {exc}") from exc


def load_ann(kind: str, path: str | Path, **params: Any) -> Ann:
    """Read an index of `kind` written by `Ann.save`; `params` may override search-time
    settings (hnsw: efSearch; ivf: nprobe)."""
    return _cls(kind).load(path, **params)


__all__ = ["ANN_KINDS", "DEFAULT_KIND", "Ann", "make_ann", "load_ann"]
