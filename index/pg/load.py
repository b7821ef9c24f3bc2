"""Reading a PostgreSQL build into the same in-memory `StoredIndex` the file backend loads.

Serving stays in memory (FAISS, numpy, the keyword arrays), so ranking, answers and the JSON contract
are the file backend's exactly, and a database outage never fails a question. Everything read goes
through the file backend's checks (index.build_checks) before it is trusted.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from psycopg import sql

from ..ann import DEFAULT_KIND, load_ann, make_ann
from ..build_checks import BuildDamaged, check_keyword_arrays, check_manifest, check_passage_row, check_vectors
from ..errors import IndexCorrupt, IndexMismatch, IndexMissing, VerbatimError
from ..model import Location, Passage
from ..ranking.keyword import KeywordIndex
from ..store import StoredIndex, damaged
from .builds import ANN_BLOB, SCHEMA_VERSION
from .connection import database_errors
from .copy_format import CopyDamaged, read_fixed
from .keywords import read_keywords
from .schema import SCHEMA, build_tables
from .url import redacted


def load_build(conn, url: str, build_id: str) -> StoredIndex:
    """The complete build `build_id`, checked; IndexCorrupt names the build if anything does not fit."""
    with database_errors(url), conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # one snapshot of the build
        row = conn.execute(f"SELECT manifest, dim FROM {SCHEMA}.builds WHERE build_id = %s AND state = 'complete'",
                           (build_id,)).fetchone()
        if row is None:
            raise IndexMissing(f"the database at {redacted(url)} has no complete build {build_id}: "
                               "run `verbatim index build`")
        manifest, dim = row
        if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
            version = manifest.get("schema_version") if isinstance(manifest, dict) else None
            raise IndexMismatch(f"index build {build_id} has schema {version!r}, this version reads {SCHEMA_VERSION}: "
                                "run `verbatim index build`")
        try:
            check_manifest(dict(manifest, files=manifest.get("files", {})), ())
            if manifest["dim"] != dim:
                raise BuildDamaged(f"its manifest says dim {manifest['dim']}, its tables {dim}")
            return _read(conn, build_id, manifest, build_tables(build_id))
        except VerbatimError:
            raise
        except (BuildDamaged, CopyDamaged, ValueError, KeyError, TypeError) as e:
            raise damaged(build_id, e) from None


def _read(conn, build_id: str, manifest: dict, tables: dict[str, str]) -> StoredIndex:
    dim = manifest["dim"]
    rows = conn.execute(sql.SQL("SELECT id, text, location FROM {} ORDER BY id").format(
        sql.Identifier(SCHEMA, tables["passages"]))).fetchall()
    owner, _, starts, ends, sentence_vectors = read_fixed(
        conn, sql.SQL("SELECT passage_id, n, start_at, end_at, embedding FROM {} ORDER BY passage_id, n").format(
            sql.Identifier(SCHEMA, tables["sentences"])), [("int4", 0), ("int4", 0), ("int4", 0), ("int4", 0),
                                                           ("vector", dim)])
    spans: list[list[list[int]]] = [[] for _ in rows]
    for passage_id, start, end in zip(owner.tolist(), starts.tolist(), ends.tolist()):
        if not 0 <= passage_id < len(rows):
            raise BuildDamaged(f"a sentence belongs to passage {passage_id}, which does not exist")
        spans[passage_id].append([start, end])
    passages = []
    for expected, (passage_id, text, location) in enumerate(rows):
        row = {"id": passage_id, "text": text, "location": location, "sentences": spans[expected]}
        check_passage_row(row, expected)
        passages.append(Passage(id=passage_id, text=text, location=Location(**location)))
    ids, passage_vectors = read_fixed(conn, sql.SQL("SELECT id, embedding FROM {} ORDER BY id").format(
        sql.Identifier(SCHEMA, tables["passages"])), [("int4", 0), ("vector", dim)])
    check_vectors(passage_vectors, len(passages), dim, "passage vectors")
    check_vectors(sentence_vectors, len(owner), dim, "sentence vectors")
    index = _ann(conn, manifest, tables, passage_vectors)
    if index.ntotal != len(passages) or index.dim != dim:
        raise BuildDamaged(f"its vector index holds {index.ntotal} vectors of dimension {index.dim} "
                           f"for {len(passages)} passages of dimension {dim}")
    arrays = read_keywords(conn, tables, dim)
    check_keyword_arrays(arrays, len(passages), dim, KeywordIndex.FORMAT)
    keywords = KeywordIndex.from_arrays(arrays) or KeywordIndex.fit([p.text for p in passages])
    return StoredIndex(build_id, manifest, tuple(passages), tuple(tuple(map(tuple, s)) for s in spans),
                       owner.astype(np.int64), sentence_vectors, index, keywords)


def _ann(conn, manifest: dict, tables: dict[str, str], vectors: np.ndarray):
    """Flat: rebuilt from the passage vectors (exact either way). HNSW, IVF: the stored FAISS index itself,
    so the graph or the lists are the build's, not a re-run that could differ."""
    kind = manifest.get("ann", DEFAULT_KIND)
    if kind == DEFAULT_KIND:
        index = make_ann(kind, vectors.shape[1])
        index.add(vectors)
        return index
    row = conn.execute(sql.SQL("SELECT data FROM {} WHERE name = %s").format(
        sql.Identifier(SCHEMA, tables["arrays"])), (ANN_BLOB,)).fetchone()
    if row is None or row[0] is None:
        raise IndexCorrupt(f"the index build {manifest.get('build_id')} has no stored {kind} index: "
                           "run `verbatim index build`")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ANN_BLOB
        path.write_bytes(bytes(row[0]))
        return load_ann(kind, path)
