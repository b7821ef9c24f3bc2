"""Vectors already computed, found again by what was embedded: a build embeds only texts it has never embedded.

One SQLite file shared by every build of a data directory (`data_dir/embeddings/vectors.sqlite3`), one row
per vector, keyed by the sha256 of (backend, model id, kind, exact text): another model, or the same text
embedded as a query rather than a passage (e5 prefixes them differently), never meets the entry.

Why SQLite rather than one file per vector or hand-made shard files: hundreds of thousands of 1.5 KiB rows
in one file, looked up by key in batches, written in transactions that a killed build either finished or
never started (its journal rolls an interrupted one back), pruned with one DELETE; it ships with Python
(measured in docs/benchmarks.md, "Embedding cache"). Vectors are stored as the float32 the embedder
returned, so a build from the cache has exactly the vectors of a fresh one.

Nothing read is trusted: each row carries a checksum of its key and vector, and a row of the wrong size, a
wrong checksum or non-finite values is ignored (and re-embedded); a database file SQLite cannot read is
moved aside and the cache starts empty. The cache can make a build faster, never wrong and never fail.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from functools import lru_cache
from json.encoder import encode_basestring  # what json.dumps(..., ensure_ascii=False) encodes a str with
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .private_files import narrow_if_exists, private_dir, private_file

log = logging.getLogger(__name__)

KINDS = ("passage", "query")  # Embedder.embed_passages, Embedder.embed_queries
TOKENS = "tokens"  # the key of a text's token count (Embedder.count_tokens), kept beside the vectors
DIRNAME = "embeddings"
FILENAME = "vectors.sqlite3"
KEY_BYTES = 32
SCHEMA = 1  # PRAGMA user_version of the layout below
PAGE_SIZE = 8192  # five 1.6 KiB rows a page: 1.69 KB a 384-dim vector on disk (bench/embedding_cache_store.py)
_LOOKUP_CHUNK = 500  # keys per SELECT (below SQLite's 999 host-parameter limit of old builds)


def cache_dir(data_dir: Path) -> Path:
    return data_dir / DIRNAME


def text_key(backend: str, model_id: str, kind: str, text: str) -> bytes:
    """sha256 of the exact text and everything that decides its vector; unambiguous (JSON-encoded list):
    sha256(json.dumps([backend, model_id, kind, text], ensure_ascii=False)), the keys every cache holds."""
    return key_function(backend, model_id, kind)(text)


@lru_cache(maxsize=32)
def key_function(backend: str, model_id: str, kind: str) -> Callable[[str], bytes]:
    """`text_key` for one (backend, model, kind): the same bytes, a third of the time (the JSON list's head
    encoded once, the text by json's own string encoder): a build keys every text it holds, 30,000 and more."""
    if kind not in KINDS + (TOKENS,):
        raise ValueError(f"unknown embedding kind {kind!r}: use one of {', '.join(KINDS)}")
    head = json.dumps([backend, model_id, kind], ensure_ascii=False)[:-1] + ", "
    sha256 = hashlib.sha256

    def key(text: str) -> bytes:
        return sha256((head + encode_basestring(text) + "]").encode()).digest()

    return key


def _checksum(key: bytes, blob: bytes) -> bytes:
    return hashlib.blake2b(key + blob, digest_size=8).digest()


class EmbeddingCache:
    """The vectors of one data directory. Used only by builds, under the build lock (one writer)."""

    def __init__(self, path: Path, dim: int):
        self.path = path
        self.dim = dim
        self._db: sqlite3.Connection | None = None
        self.damaged = 0  # rows found unusable (ignored, re-embedded) since opening
        self._open()

    @classmethod
    def for_data_dir(cls, data_dir: Path, dim: int) -> "EmbeddingCache":
        return cls(cache_dir(data_dir) / FILENAME, dim)

    # -- opening ------------------------------------------------------------------------------
    def _open(self) -> None:
        private_dir(self.path.parent)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as e:  # not a database, or damaged beyond reading: start afresh
            self._move_aside(e)
            try:
                self._db = self._connect()
            except sqlite3.DatabaseError as e2:
                log.warning("embedding cache disabled for this build: %s", e2)
                self._db = None

    def _move_aside(self, error: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        log.warning("embedding cache %s is unreadable (%s): moved to %s, starting an empty cache",
                    self.path, error, aside.name)
        for suffix in ("", "-wal", "-shm", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))

    def _connect(self) -> sqlite3.Connection:
        private_file(self.path)  # before SQLite creates it: its journals copy the mode
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only takes effect on a new file
            db.execute("PRAGMA journal_mode=WAL")  # readers never block; an interrupted write is rolled back
            db.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; never inconsistent
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                db.execute("DROP TABLE IF EXISTS vectors")  # another layout: its entries are not trusted
                db.execute(f"PRAGMA user_version={SCHEMA}")
            # A rowid table keeps each ~1.6 KiB row whole in one 8 KiB page (a WITHOUT ROWID table, an index
            # b-tree, spills such rows to overflow pages: 2.8x the size and a third of the speed, measured).
            db.execute("CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE,"
                       " vector BLOB NOT NULL, checksum BLOB NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS tokens (key BLOB PRIMARY KEY, count INTEGER NOT NULL,"
                       " checksum BLOB NOT NULL) WITHOUT ROWID")  # small rows: the layout made for them
            db.execute("SELECT 1 FROM vectors LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        for suffix in ("-wal", "-shm"):
            narrow_if_exists(self.path.with_name(self.path.name + suffix))
        return db

    @property
    def usable(self) -> bool:
        return self._db is not None

    def _failed(self, what: str, error: Exception) -> None:
        log.warning("embedding cache %s failed (%s): disabled for the rest of this build", what, error)
        try:
            self._db.close()
        except Exception:  # noqa: BLE001 - already broken; closing is best effort
            pass
        self._db = None
        if getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            self._move_aside(error)  # damaged pages: the next build starts from an empty cache

    # -- reading and writing ------------------------------------------------------------------
    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, np.ndarray]:
        """The usable vectors among these keys (float32 [dim] each); missing or damaged keys are absent."""
        found: dict[bytes, np.ndarray] = {}
        if self._db is None:
            return found
        keys = list(keys)
        size = self.dim * 4
        try:
            for i in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[i:i + _LOOKUP_CHUNK]
                rows = self._db.execute(f"SELECT key, vector, checksum FROM vectors WHERE key IN "
                                        f"({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, blob, checksum in rows:
                    if len(blob) != size or checksum != _checksum(key, blob):
                        self.damaged += 1
                        continue
                    vector = np.frombuffer(blob, dtype="<f4")
                    if not np.isfinite(vector).all():
                        self.damaged += 1
                        continue
                    found[bytes(key)] = vector
        except sqlite3.DatabaseError as e:
            self._failed("reading", e)
            return {}
        return found

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Stores these rows in one transaction (a row already there is replaced: it may have been damaged)."""
        if self._db is None or not len(keys):
            return
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        rows = []
        for key, vector in zip(keys, vectors):
            blob = vector.tobytes()
            rows.append((key, blob, _checksum(key, blob)))
        try:
            with self._db:  # one transaction: all rows or none
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector, checksum) VALUES (?, ?, ?)", rows)
        except sqlite3.DatabaseError as e:
            self._failed("writing", e)

    def get_counts(self, keys: Iterable[bytes]) -> dict[bytes, int]:
        """Token counts stored for these keys (chunking asks the model's tokenizer for each block)."""
        found: dict[bytes, int] = {}
        if self._db is None:
            return found
        keys = list(keys)
        try:
            for i in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[i:i + _LOOKUP_CHUNK]
                for key, count, checksum in self._db.execute(
                        f"SELECT key, count, checksum FROM tokens WHERE key IN ({','.join('?' * len(chunk))})", chunk):
                    if isinstance(count, int) and count >= 0 and checksum == _checksum(key, str(count).encode()):
                        found[bytes(key)] = count
                    else:
                        self.damaged += 1
        except sqlite3.DatabaseError as e:
            self._failed("reading", e)
            return {}
        return found

    def put_counts(self, counts: dict[bytes, int]) -> None:
        if self._db is None or not counts:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO tokens (key, count, checksum) VALUES (?, ?, ?)",
                                     [(k, c, _checksum(k, str(c).encode())) for k, c in counts.items()])
        except sqlite3.DatabaseError as e:
            self._failed("writing", e)

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def prune(self, keep: Iterable[bytes]) -> int:
        """Deletes every entry whose key is not in `keep`; returns how many. Compacts a mostly empty file."""
        if self._db is None:
            return 0
        try:
            db = self._db
            with db:
                db.execute("BEGIN")
                db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY) WITHOUT ROWID")
                db.execute("DELETE FROM keep")
                db.executemany("INSERT OR IGNORE INTO keep (key) VALUES (?)", ((k,) for k in keep))
                removed = db.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM keep)").rowcount
                db.execute("DELETE FROM tokens WHERE key NOT IN (SELECT key FROM keep)")
                db.execute("DELETE FROM keep")
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
            if pages > 256 and free > pages // 2:  # more than half the file is free space: give it back
                db.execute("VACUUM")
            return int(removed)
        except sqlite3.DatabaseError as e:
            self._failed("pruning", e)
            return 0

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
            self._db.close()
            self._db = None

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Progress = Callable[[int, int], None]


class CachedEncoder:
    """An embedder's two encodings in front of the cache, for one build.

    `want(kind, texts)` registers what the build needs; `run()` looks every distinct text up once and
    embeds only what the cache lacks, in batches, storing each batch as soon as it is embedded (a build
    killed later keeps that work); `vectors(kind, texts)` then returns the rows in the order asked.
    """

    def __init__(self, embedder, cache: EmbeddingCache | None, batch: int = 16):
        self.embedder = embedder
        self.cache = cache if cache is not None and cache.usable else None
        self.batch = batch
        self._wanted: dict[bytes, tuple[str, str]] = {}  # key -> (kind, text), first-seen order
        self._vectors: dict[bytes, np.ndarray] = {}
        self._key_of: dict[str, dict[str, bytes]] = {kind: {} for kind in KINDS}  # text → key, computed once
        self.embedded = 0  # texts sent to the model by run()
        self.reused = 0  # distinct texts found in the cache

    def key(self, kind: str, text: str) -> bytes:
        known = self._key_of.setdefault(kind, {})
        key = known.get(text)
        if key is None:
            key = known[text] = key_function(self.embedder.backend, self.embedder.model_id, kind)(text)
        return key

    def want(self, kind: str, texts: Iterable[str]) -> None:
        wanted, key = self._wanted, self.key
        for text in texts:
            wanted.setdefault(key(kind, text), (kind, text))

    @property
    def keys(self) -> list[bytes]:
        """Every distinct key this build uses (what pruning must keep for it)."""
        return list(self._wanted)

    def run(self, progress: Progress | None = None) -> None:
        missing = [k for k in self._wanted if k not in self._vectors]
        if self.cache is not None:
            found = self.cache.get_many(missing)
            self._vectors.update(found)
            self.reused += len(found)
            missing = [k for k in missing if k not in found]
        total, done = len(missing), 0
        for kind in KINDS:
            keys = [k for k in missing if self._wanted[k][0] == kind]
            encode = self.embedder.embed_passages if kind == "passage" else self.embedder.embed_queries
            for i in range(0, len(keys), self.batch):
                chunk = keys[i:i + self.batch]
                vectors = np.asarray(encode([self._wanted[k][1] for k in chunk]), dtype=np.float32)
                if self.cache is not None:
                    self.cache.put_many(chunk, vectors)
                self._vectors.update(zip(chunk, vectors))
                self.embedded += len(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)

    def vectors(self, kind: str, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[self.key(kind, t)] for t in texts]).astype(np.float32, copy=False)


class CachedTokenCounter:
    """`Embedder.count_tokens` remembered across builds: chunking counts every block's tokens (~1 ms a
    block with e5's tokenizer, the largest fixed cost of a rebuild before this), and a block that did not
    change has the same count."""

    def __init__(self, embedder, cache: EmbeddingCache | None):
        self.embedder = embedder
        self.cache = cache if cache is not None and cache.usable else None
        self._counts: dict[bytes, int] = {}
        self._new: dict[bytes, int] = {}
        self._key_of: dict[str, bytes] = {}  # text → key: each block is keyed at prefetch and when counted
        self.used: list[bytes] = []

    def _key(self, text: str) -> bytes:
        key = self._key_of.get(text)
        if key is None:
            key = self._key_of[text] = key_function(self.embedder.backend, self.embedder.model_id, TOKENS)(text)
        return key

    def prefetch(self, texts: Iterable[str]) -> None:
        if self.cache is not None:
            self._counts.update(self.cache.get_counts({self._key(t) for t in texts}))

    def __call__(self, text: str) -> int:
        key = self._key(text)
        self.used.append(key)
        count = self._counts.get(key)
        if count is None:
            count = self._counts[key] = self._new[key] = self.embedder.count_tokens(text)
        return count

    def flush(self) -> None:
        if self.cache is not None:
            self.cache.put_counts(self._new)
        self._new = {}


def build_keys(folder: Path, filename: str) -> set[bytes]:
    """The cache keys a build recorded it uses (none for a build older than the cache, or a damaged list)."""
    try:
        raw = (folder / filename).read_bytes()
    except OSError:
        return set()
    if len(raw) % KEY_BYTES:
        return set()
    return {raw[i:i + KEY_BYTES] for i in range(0, len(raw), KEY_BYTES)}
