#!/usr/bin/env python
"""The flat index's numpy search against FAISS's IndexFlatIP, side by side (a script that prints figures).

Since session 15 `index/ann/flat.py` searches with one numpy product instead of FAISS, so that answering
does not import FAISS. This measures what that costs per query where exact search is used: single queries
(what answering does), alternated between the two so machine noise hits both alike, on clustered unit
vectors (bench/ann_scale.py's generator), at the thread count given (1: one answer per core).

    OMP_NUM_THREADS=1 nice python bench/flat_search.py --sizes 10000 100000 1000000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402

from bench.ann_scale import CLUSTER_SIZE, DIM, unit_vectors  # noqa: E402
from index.ann import make_ann  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=200, help="the shortlist answering asks for (`candidates`)")
    args = parser.parse_args()
    print(f"faiss {faiss.__version__}, numpy {np.__version__}, dim {DIM}, k {args.k}, {args.queries} single queries, "
          f"faiss threads {faiss.omp_get_max_threads()}")
    print("| vectors | FAISS p50 / p95 ms | numpy p50 / p95 ms | numpy / FAISS p50 | same ids |")
    print("|---:|---:|---:|---:|---|")
    for n in args.sizes:
        centers = unit_vectors(max(1, n // CLUSTER_SIZE), seed=7)
        data = unit_vectors(n, seed=0, centers=centers)
        queries = unit_vectors(args.queries, seed=1_000_003, centers=centers)
        reference = faiss.IndexFlatIP(DIM)
        reference.add(data)
        ours = make_ann("flat", DIM)
        ours.add(data)
        times: dict[str, list[float]] = {"faiss": [], "numpy": []}
        same = True
        for q in queries:
            q = q.reshape(1, -1)
            t = time.perf_counter()
            _, want = reference.search(q, args.k)
            times["faiss"].append(time.perf_counter() - t)
            t = time.perf_counter()
            _, got = ours.search(q, args.k)
            times["numpy"].append(time.perf_counter() - t)
            same = same and set(want[0].tolist()) == set(got[0].tolist())
        f50, n50 = (statistics.median(times[x]) * 1000 for x in ("faiss", "numpy"))
        f95, n95 = (float(np.percentile(times[x], 95)) * 1000 for x in ("faiss", "numpy"))
        print(f"| {n:,} | {f50:.2f} / {f95:.2f} | {n50:.2f} / {n95:.2f} | {n50 / f50:.2f}x | {same} |")
        del reference, ours, data


if __name__ == "__main__":
    main()
