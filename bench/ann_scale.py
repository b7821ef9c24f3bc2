#!/usr/bin/env python
"""ANN index types at scale: flat vs HNSW vs IVF on random unit vectors (a script, not a test).

For each size it prints build time, index size on disk, single-query search latency
(p50/p95 over --queries queries, one query per call, through the index.ann layer the service
uses) and recall@10 against the exact flat index.

Random unit vectors in 384 dimensions (--data random, the default) are the worst case for
approximate search: there is no structure, and a query's 10 nearest neighbours are barely
nearer than the rest, so their recall is a lower bound.  --data clustered draws each vector as
a mix of two "topic" directions plus noise, closer to how sentence embeddings group; real
corpora lie between the two.  Flat timing does not depend on the data; HNSW's does a little.

HNSW builds are slow on two cores; sizes above --max-hnsw are not built and the script prints
an estimate extrapolated (n log n) from the largest size it did build, marked "est.".

    python bench/ann_scale.py                       # 100k and 1M, HNSW at 100k only
    python bench/ann_scale.py --sizes 100000 --max-hnsw 100000
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faiss  # noqa: E402

from index.ann import make_ann  # noqa: E402

DIM = 384
K = 10
SEARCH_THREADS = 1  # --search-threads


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def unit_vectors(n: int, seed: int, centers: np.ndarray | None = None, chunk: int = 100_000) -> np.ndarray:
    """n unit vectors (float32), generated in chunks to keep peak memory at ~1x.

    Without `centers`: uniform on the sphere.  With `centers` ("topics"): each vector is a random
    mix w*a + (1-w)*b of two topic directions plus isotropic noise, so neighbourhoods overlap
    in a continuum, a crude model of passages about one or two subjects.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        block = rng.standard_normal((m, DIM), dtype=np.float32)
        if centers is not None:
            block *= CLUSTER_NOISE
            w = rng.random((m, 1), dtype=np.float32)
            block += w * centers[rng.integers(0, len(centers), m)]
            block += (1 - w) * centers[rng.integers(0, len(centers), m)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


CLUSTER_NOISE = 0.088  # per-dimension noise std (cos(topic, pure member) ~ 0.5)
CLUSTER_SIZE = 100


def latency_ms(ann, queries: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """Wall p50, p95 and CPU-time p50 of one-query searches, and the ids found (for recall).

    CPU time (all threads of this process) is what a query costs, whatever else the machine
    is running; wall time is what a user waits and grows with the machine's load.
    """
    build_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(SEARCH_THREADS)
    ann.search(queries[:3], K)  # warm up
    times = np.empty(len(queries))
    cpu = np.empty(len(queries))
    ids = np.empty((len(queries), K), dtype=np.int64)
    for i in range(len(queries)):
        c = time.process_time()
        t = time.perf_counter()
        _, found = ann.search(queries[i : i + 1], K)
        times[i] = (time.perf_counter() - t) * 1000
        cpu[i] = (time.process_time() - c) * 1000
        ids[i] = found[0]
    faiss.omp_set_num_threads(build_threads)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), float(np.percentile(cpu, 50)), ids


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / truth.size


def size_on_disk(ann, tmp: Path) -> int:
    path = tmp / f"{ann.kind}.faiss"
    ann.save(path)
    size = path.stat().st_size
    path.unlink()
    return size


def fmt_n(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def fmt_size(b: int) -> str:
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes")
    ap.add_argument("--queries", type=int, default=200, help="single queries timed per setting")
    ap.add_argument("--max-hnsw", type=int, default=100_000, help="build HNSW only up to this size")
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument("--ef-search", default="64,128,256", help="HNSW efSearch values to time")
    ap.add_argument("--nprobe", default="16,64,256", help="IVF nprobe values to time")
    ap.add_argument("--search-threads", type=int, default=1,
                    help="FAISS threads while timing single queries (builds use all cores); on this "
                         "2-core box one thread is ~2x faster per query than two for flat search")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=540,
                    help="seconds; an index type not yet started when they are spent is skipped (and said so)")
    ap.add_argument("--data", choices=("random", "clustered"), default="random",
                    help="random: uniform on the sphere (worst case for recall); clustered: "
                         f"mixes of two of n/{CLUSTER_SIZE} topics plus noise, queries drawn alike")
    args = ap.parse_args()

    global SEARCH_THREADS
    SEARCH_THREADS = args.search_threads
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    efs = [int(x) for x in args.ef_search.split(",") if x]
    nprobes = [int(x) for x in args.nprobe.split(",") if x]

    print("$ python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:]))
    print(
        f"faiss {faiss.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"faiss threads {faiss.omp_get_max_threads()} to build, {SEARCH_THREADS} to search, dim {DIM}, {args.queries} single queries, "
        + ("random unit vectors (worst case for recall)" if args.data == "random" else
           f"clustered unit vectors (each a mix of two of n/{CLUSTER_SIZE} topics + noise)")
    )
    print()
    header = ("| vectors | index | params | build s | size on disk | search p50 ms | search p95 ms "
              "| CPU p50 ms | recall@10 |")
    print(header)
    print("|---|---|---|---:|---:|---:|---:|---:|---:|", flush=True)

    load0 = os.getloadavg()[0]
    hnsw_rate: tuple[int, float] | None = None  # (n, seconds) of the largest HNSW build
    t_script = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ann_scale_") as tmpdir:
        tmp = Path(tmpdir)
        for n in sizes:
            log(f"n={n}: generating vectors")
            centers = None
            if args.data == "clustered":
                centers = unit_vectors(max(1, n // CLUSTER_SIZE), seed=args.seed + 7)
            data = unit_vectors(n, seed=args.seed, centers=centers)
            queries = unit_vectors(args.queries, seed=args.seed + 1_000_003, centers=centers)
            rows = []

            # -- flat: exact, and the ground truth -------------------------------------------
            log(f"n={n}: flat build")
            t = time.perf_counter()
            flat = make_ann("flat", DIM)
            flat.add(data)
            build = time.perf_counter() - t
            _, truth = flat.search(queries, K)
            size = size_on_disk(flat, tmp)
            log(f"n={n}: flat search")
            p50, p95, cpu, found = latency_ms(flat, queries)
            rows.append((n, "flat", "exact", f"{build:.1f}", fmt_size(size), p50, p95, cpu, recall(found, truth)))
            print_row(rows[-1])
            del flat
            gc.collect()

            # -- IVF -------------------------------------------------------------------------
            if over_budget(t_script, args.budget, rows, n, "ivf"):
                continue
            log(f"n={n}: ivf build (train + add)")
            t = time.perf_counter()
            ivf = make_ann("ivf", DIM)
            ivf.add(data)
            build = time.perf_counter() - t
            size = size_on_disk(ivf, tmp)
            nlist = ivf.params()["nlist"]
            log(f"n={n}: ivf built in {build:.1f}s (nlist={nlist})")
            for nprobe in nprobes:
                ivf.nprobe = nprobe
                p50, p95, cpu, found = latency_ms(ivf, queries)
                rows.append((n, "ivf", f"nlist={nlist} nprobe={nprobe}", f"{build:.1f}", fmt_size(size),
                             p50, p95, cpu, recall(found, truth)))
                print_row(rows[-1])
            del ivf
            gc.collect()

            # -- HNSW ------------------------------------------------------------------------
            params = f"M={args.hnsw_m} efC={args.ef_construction}"
            if n <= args.max_hnsw:
                if over_budget(t_script, args.budget, rows, n, "hnsw"):
                    continue
                log(f"n={n}: hnsw build (M={args.hnsw_m}, efConstruction={args.ef_construction})")
                t = time.perf_counter()
                hnsw = make_ann("hnsw", DIM, M=args.hnsw_m, efConstruction=args.ef_construction)
                for start in range(0, n, 100_000):
                    hnsw.add(data[start : start + 100_000])
                    log(f"n={n}: hnsw {min(n, start + 100_000)}/{n} added, {time.perf_counter() - t:.0f}s")
                build = time.perf_counter() - t
                hnsw_rate = (n, build)
                size = size_on_disk(hnsw, tmp)
                for ef in efs:
                    hnsw.efSearch = ef
                    p50, p95, cpu, found = latency_ms(hnsw, queries)
                    rows.append((n, "hnsw", f"{params} efSearch={ef}", f"{build:.1f}", fmt_size(size),
                                 p50, p95, cpu, recall(found, truth)))
                    print_row(rows[-1])
                del hnsw
                gc.collect()
            else:
                if hnsw_rate:
                    n0, s0 = hnsw_rate
                    est = s0 * (n / n0) * (math.log(n) / math.log(n0))
                    build = f"est. {est:.0f}"
                else:
                    build = "not built"
                graph = n * (2 * args.hnsw_m + args.hnsw_m / (args.hnsw_m - 1)) * 4 + n * DIM * 4
                rows.append((n, "hnsw", f"{params} (not built: > --max-hnsw)", build,
                             "est. " + fmt_size(int(graph)), None, None, None, None))
                print_row(rows[-1])
            del data
            gc.collect()
    log(f"done in {time.perf_counter() - t_script:.0f}s")
    print(f"\nwall {time.perf_counter() - t_script:.0f} s; load average at end {os.getloadavg()[0]:.2f} "
          f"(at start {load0:.2f}) on {os.cpu_count()} CPUs: wall times grow with other load, CPU times much less")


def over_budget(t_script: float, budget: float, rows: list, n: int, kind: str) -> bool:
    spent = time.perf_counter() - t_script
    if spent <= budget:
        return False
    rows.append((n, kind, f"skipped: --budget {budget:.0f} s spent ({spent:.0f} s)", "–", "–", None, None, None, None))
    print_row(rows[-1])
    return True


def print_row(r) -> None:
    n, kind, params, build, size, p50, p95, cpu, rec = r
    cell = (lambda v, f: "–" if v is None else f.format(v))
    print(f"| {fmt_n(n)} | {kind} | {params} | {build} | {size} | {cell(p50, '{:.2f}')} | "
          f"{cell(p95, '{:.2f}')} | {cell(cpu, '{:.2f}')} | {cell(rec, '{:.3f}')} |", flush=True)


if __name__ == "__main__":
    main()
