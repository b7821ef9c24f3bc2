"""Inverted-file search: FAISS IndexIVFFlat with inner product.

The vectors are clustered into `nlist` lists by k-means; a query scans only the `nprobe`
lists whose centroids are closest.  Cheapest approximate index to build and no bigger than
flat on disk, but it must be *trained*, and that changes how it is used:

* **IVF is built in one add.**  The first `add` trains the centroids on the vectors it is given
  (choosing `nlist` from their number when it was not set) and then stores them.  Give that
  first call the whole corpus: later adds are accepted but are only assigned to the existing
  centroids, which fit them worse the more the data drift.
* `nlist` defaults to about 4*sqrt(n), capped so that k-means has at least 39 training points
  per list (FAISS's own minimum); a tiny corpus degrades gracefully to nlist=1, which is an
  exact scan.
* k-means trains on at most `max_train_per_list` * nlist points (a random sample), which
  bounds the build time at a million vectors.
* `nprobe` (search-time, stored in the file, overridable at load) trades recall for speed.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ._faiss import read_index
from .base import Ann, positive_int

MIN_TRAIN_PER_LIST = 39  # below this FAISS warns that k-means is unreliable
DEFAULT_NPROBE = 64  # recall@10 ~0.92 at 100k clustered vectors for ~0.5 ms (docs/benchmarks.md)
DEFAULT_MAX_TRAIN_PER_LIST = 64
DEFAULT_NITER = 10


def default_nlist(n: int) -> int:
    """~4*sqrt(n) lists, but never fewer than MIN_TRAIN_PER_LIST training points per list."""
    if n <= 0:
        return 1
    return max(1, min(int(round(4 * math.sqrt(n))), n // MIN_TRAIN_PER_LIST))



class IvfAnn(Ann):
    kind = "ivf"

    def __init__(
        self,
        dim: int,
        *,
        nlist: int | None = None,
        nprobe: int = DEFAULT_NPROBE,
        max_train_per_list: int = DEFAULT_MAX_TRAIN_PER_LIST,
        niter: int = DEFAULT_NITER,
        seed: int = 1234,
        _index: "faiss.IndexIVFFlat | None" = None,
    ) -> None:
        super().__init__(dim)
        self._nlist = None if nlist is None else positive_int("nlist", nlist)
        self._nprobe = positive_int("nprobe", nprobe)
        self._max_train = positive_int("max_train_per_list", max_train_per_list)
        self._niter = positive_int("niter", niter)
        self._seed = int(seed)
        self._index = _index  # None until the first add trains it
        if _index is not None:
            self._nlist = int(_index.nlist)
            _index.nprobe = self._nprobe

    # -- properties --------------------------------------------------------------------------
    @property
    def nlist(self) -> int | None:
        return self._nlist

    @property
    def nprobe(self) -> int:
        return self._nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._nprobe = positive_int("nprobe", value)
        if self._index is not None:
            self._index.nprobe = self._nprobe

    # -- build -------------------------------------------------------------------------------
    def _train(self, x: np.ndarray) -> None:
        n = len(x)
        nlist = self._nlist if self._nlist is not None else default_nlist(n)
        if nlist > n:
            raise ValueError(
                f"cannot train an IVF index with nlist={nlist} on {n} vectors: "
                f"give the first add at least nlist vectors (ideally {MIN_TRAIN_PER_LIST}*nlist), "
                f"or leave nlist unset"
            )
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True  # the index owns its quantizer (survives this frame)
        quantizer.this.disown()
        if nlist > 1:
            index.cp.niter = self._niter
            index.cp.seed = self._seed
            index.cp.max_points_per_centroid = self._max_train  # FAISS subsamples above this
            index.cp.min_points_per_centroid = 1  # we chose nlist; don't warn on tiny corpora
            # Centroids of unit vectors, compared by inner product: keep them on the sphere.
            index.cp.spherical = True
            index.train(x)
        else:  # one list: nothing to cluster, every vector goes to it and a search is exact
            quantizer.add(np.zeros((1, self.dim), dtype=np.float32))
            index.is_trained = True
        index.nprobe = self._nprobe
        self._index = index
        self._nlist = nlist

    def _before_add(self, x: np.ndarray) -> None:
        if self._index is None:
            self._train(x)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if self._index is not None and self._index.direct_map.type == faiss.DirectMap.NoMap:
            self._index.make_direct_map()  # an id -> list position map, built once on first use
        return super().vectors(ids)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        if self._index is None:
            raise ValueError("an IVF index is trained and built by its first add; there is nothing to save yet")
        super().save(path)

    @classmethod
    def load(cls, path: str | Path, **params: Any) -> "IvfAnn":
        unknown = set(params) - {"nprobe"}
        if unknown:
            raise ValueError(f"only nprobe can be changed when loading an IVF index, got {sorted(unknown)}")
        index = read_index(path, faiss.IndexIVFFlat, cls.kind)
        return cls(index.d, nprobe=params.get("nprobe", int(index.nprobe)), _index=index)

    def params(self) -> dict[str, Any]:
        return {"nlist": self._nlist, "nprobe": self._nprobe}
