#!/usr/bin/env python
"""Cost of Documents.local_norms at 10k-article size (a script that prints figures, not a test).

Synthetic postings shaped like a 10k-article build (360k passages, ~110 n-gram postings each, 1.5M grams of
Zipf-distributed document frequency, 10k documents): how long the per-document passage norms take when a
build is loaded, and the peak RSS of the process (the postings themselves included).

    nice python bench/local_norms.py
"""
import sys, time; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
import numpy as np
from index.ranking.documents import Documents
from index.ranking.keyword import CharNgramIndex
rng = np.random.default_rng(0)
P, D, R, per = 360_000, 10_000, 1_500_000, 110
total = P * per
# postings by gram then passage: Zipf-sized rows
sizes = rng.zipf(1.3, R).astype(np.int64); sizes = np.minimum(sizes, P); sizes = (sizes * (total / sizes.sum())).astype(np.int64) + 1
indptr = np.r_[0, np.cumsum(sizes)]
ids = rng.integers(0, P, int(indptr[-1]), dtype=np.int32)
rows = np.repeat(np.arange(R), sizes)
order = np.lexsort((ids, rows)); ids = ids[order]; del order, rows
weights = rng.random(len(ids), dtype=np.float32)
idf = (rng.random(R) * 5 + 0.1).astype(np.float32)
ng = CharNgramIndex({}, idf, indptr, ids, weights, P, (4, 5))
class Loc:  # minimal passage stand-ins
    def __init__(self, d): self.doc_id, self.role, self.kind = d, "paragraph", "article"
class Pa:
    def __init__(self, i, d): self.id, self.location = i, Loc(d)
passages = [Pa(i, f"d{i * D // P}") for i in range(P)]
docs = Documents(passages)
print("postings", len(ids))
t = time.perf_counter(); docs.local_norms(ng); print("local_norms s", round(time.perf_counter() - t, 2))
import resource; print("maxrss MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
