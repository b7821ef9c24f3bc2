#!/usr/bin/env python
"""How to store the embedding cache: SQLite layouts compared, then index.embedding_cache itself (prints figures).

N random 384-dim float32 vectors (the content does not matter to storage) with 32-byte keys are written
in transactions of 1,000 rows and read back by key in batches of 500 in random order, as a build does.
Layouts: a WITHOUT ROWID table keyed by the blob (rows over ~1 KB spill to overflow pages), and a rowid
table with a UNIQUE key at 4, 8 and 16 KiB pages. Then `EmbeddingCache.put_many` / `get_many` (checksums
verified on every read) and `prune`.

    python bench/embedding_cache_store.py --rows 100000
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embedding_cache import EmbeddingCache  # noqa: E402

LAYOUTS = {
    "WITHOUT ROWID, key primary, 4 KiB pages": (4096, "CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL,"
                                                      " checksum BLOB NOT NULL) WITHOUT ROWID"),
    "rowid + UNIQUE key, 4 KiB pages": (4096, None),
    "rowid + UNIQUE key, 8 KiB pages (chosen)": (8192, None),
    "rowid + UNIQUE key, 16 KiB pages": (16384, None),
}
ROWID = ("CREATE TABLE vectors (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, vector BLOB NOT NULL,"
         " checksum BLOB NOT NULL)")


def layout(path: Path, page: int, schema: str | None, keys, vectors) -> tuple[float, float, int]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={page}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(schema or ROWID)
    t = time.perf_counter()
    for i in range(0, len(keys), 1000):
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO vectors (key, vector, checksum) VALUES (?, ?, ?)",
                       [(keys[j], vectors[j].tobytes(), b"01234567") for j in range(i, min(len(keys), i + 1000))])
        db.execute("COMMIT")
    write = time.perf_counter() - t
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    db = sqlite3.connect(path)
    order = random.Random(1).sample(keys, len(keys))
    t = time.perf_counter()
    for i in range(0, len(order), 500):
        chunk = order[i:i + 500]
        db.execute(f"SELECT key, vector, checksum FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                   chunk).fetchall()
    read = time.perf_counter() - t
    db.close()
    return write, read, path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print(f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    n = args.rows
    vectors = np.random.default_rng(0).standard_normal((n, 384), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    print()
    print(f"| layout ({n:,} vectors of 1,536 bytes) | write rows/s | read rows/s | bytes a vector on disk | file |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (page, schema)) in enumerate(LAYOUTS.items()):
            w, r, size = layout(Path(tmp) / f"{i}.db", page, schema, keys, vectors)
            print(f"| {name} | {n / w:,.0f} | {n / r:,.0f} | {size / n:,.0f} | {size / 2**20:.0f} MiB |")
        with EmbeddingCache(Path(tmp) / "cache" / "vectors.sqlite3", 384) as cache:
            t = time.perf_counter()
            for i in range(0, n, 16):  # one transaction per embedding batch, as a build stores them
                cache.put_many(keys[i:i + 16], vectors[i:i + 16])
            put = time.perf_counter() - t
            order = random.Random(1).sample(keys, n)
            t = time.perf_counter()
            found = cache.get_many(order)
            get = time.perf_counter() - t
            assert len(found) == n and np.array_equal(found[keys[7]], vectors[7])
            t = time.perf_counter()
            removed = cache.prune(keys[: n // 2])
            prune = time.perf_counter() - t
        size = (Path(tmp) / "cache" / "vectors.sqlite3").stat().st_size
    print()
    print(f"EmbeddingCache: put_many in batches of 16 {n / put:,.0f} rows/s, get_many (checksums verified) "
          f"{n / get:,.0f} rows/s, prune of {removed:,} rows {prune:.2f} s (file {size / 2**20:.0f} MiB after it)")


if __name__ == "__main__":
    main()
