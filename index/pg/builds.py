"""Builds in PostgreSQL: written under a new id, switched current in one transaction, pruned, rolled back.

A build (index.build decides what it contains; this module only stores it):
1. `BuildSession` takes a session advisory lock (the `build.lock` of files; a killed build's lock goes
   with its connection), creates the schema if needed and drops the leftovers of dead builds.
2. `begin` records the build as `writing` and creates its empty tables, in one transaction.
3. `write` COPYs every row (binary), adds the keys and the HNSW index only then (never insert into an
   indexed table), checks every passage against its document's text and the row counts, then in ONE
   transaction marks it complete, makes it current (the old current becomes `previous`) and sends
   `NOTIFY verbatim_build` (delivered at commit: no process hears of a build that is not current).
A build killed before that commit stays `writing`; the current build keeps serving.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from ..errors import IndexMissing, VerbatimError
from ..model import Passage
from ..rollback_plan import rollback_plan
from .connection import connect, database_errors, psycopg_module
from .copy_format import copy_fixed, register_vector
from .keywords import create_tables as create_keyword_tables, read_refit_arrays, write_keywords
from .schema import BUILD_NOTIFY_CHANNEL, SCHEMA, TABLE_KINDS, build_tables, ensure_schema, has_schema
from .url import redacted

SCHEMA_VERSION = 1  # of a build's tables and manifest (index.store.SCHEMA_VERSION is the files')
ANN_BLOB = "passages.faiss"  # in arrays_<b>: the FAISS index itself when it is not flat (HNSW, IVF)
HNSW_OPTIONS = "m = 16, ef_construction = 64"  # pgvector's defaults
LOCK_WAIT_S = 3


def _t(name: str) -> sql.Identifier:
    return sql.Identifier(SCHEMA, name)


class BuildSession:
    """A connection holding the build lock; use as a context manager (`with BuildSession(url) as s:`)."""

    def __init__(self, url: str):
        self.url = url
        self.conn = None

    def __enter__(self) -> "BuildSession":
        self.conn = connect(self.url, autocommit=True)
        try:
            with database_errors(self.url):
                ensure_schema(self.conn)
                self._lock()
                register_vector(self.conn)
                self.clean_leftovers()
        except BaseException:
            self.conn.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()  # the advisory lock goes with the session

    def _lock(self) -> None:
        """Waits a moment for the lock: the session of a build killed a moment ago may still be closing."""
        psycopg = psycopg_module()
        self.conn.execute(f"SET lock_timeout = '{LOCK_WAIT_S}s'")
        try:
            self.conn.execute("SELECT pg_advisory_lock(hashtext('verbatim build'))")
        except psycopg.errors.LockNotAvailable:
            raise VerbatimError(f"another build is writing to the database at {redacted(self.url)}; "
                                "wait for it to finish") from None
        finally:
            self.conn.execute("RESET lock_timeout")

    def clean_leftovers(self) -> list[str]:
        """Drops the builds that died writing (none can be alive: we hold the lock)."""
        dead = [r[0] for r in self.conn.execute(
            f"SELECT build_id FROM {SCHEMA}.builds WHERE state <> 'complete' ORDER BY build_id")]
        for build_id in dead:
            self._drop(build_id)
        return dead

    def begin(self, build_id: str, dim: int) -> None:
        """The build's row (`writing`) and its empty tables, in one transaction."""
        tables = build_tables(build_id)
        with database_errors(self.url), self.conn.transaction():
            self.conn.execute(f"INSERT INTO {SCHEMA}.builds (build_id, state, dim) VALUES (%s, 'writing', %s)",
                              (build_id, dim))
            create_tables(self.conn, tables, dim)

    def write(self, build_id: str, manifest: dict, documents: list[tuple[str, str, str, str]],
              passages: list[Passage], sentences: list[list[tuple[int, int]]], passage_vectors: np.ndarray,
              sentence_vectors: np.ndarray, keyword_arrays: dict[str, np.ndarray], embedding_keys: bytes = b"",
              ann_blob: bytes | None = None) -> dict:
        """Fills the tables `begin` made, checks them, and makes the build current. `documents`: (id, title,
        language, text). Returns the stored manifest."""
        tables = build_tables(build_id)
        dim = int(passage_vectors.shape[1])
        check_passage_texts(documents, passages)
        manifest = dict(manifest, build_id=build_id, schema_version=SCHEMA_VERSION, storage="postgresql",
                        tables=tables)
        with database_errors(self.url):
            with self.conn.transaction():
                self._copy_documents(tables, documents)
                self._copy_passages(tables, passages, passage_vectors)
                self._copy_sentences(tables, sentences, sentence_vectors)
                write_keywords(self.conn, tables, keyword_arrays)
                if ann_blob is not None:
                    self.conn.execute(sql.SQL("INSERT INTO {} (name, dtype, shape, data) VALUES (%s, '|u1', %s, %s)")
                                      .format(_t(tables["arrays"])), (ANN_BLOB, [len(ann_blob)], ann_blob))
                self._index(tables, len(passages), dim)
                self._check(tables, len(documents), len(passages), len(sentence_vectors))
            with self.conn.transaction():
                self.conn.execute(f"UPDATE {SCHEMA}.builds SET state = 'complete', manifest = %s, embedding_keys = %s "
                                  "WHERE build_id = %s", (Jsonb(manifest), embedding_keys, build_id))
                switch_current(self.conn, build_id)
        return manifest

    def prune(self, keep: int) -> list[str]:
        """Keeps `keep` builds, never dropping the current or the previous one (rollback's target)."""
        with database_errors(self.url):
            current, previous = current_pair(self.conn)
            complete = complete_builds(self.conn)
            kept = [b for b in (current, previous) if b]
            others = [b for b in complete if b not in kept]
            room = max(keep - len(kept), 0)
            old = others[:len(others) - room] if room else others
            for build_id in old:
                self._drop(build_id)
        return old

    def used_embedding_keys(self) -> set[bytes]:
        with database_errors(self.url):
            blobs = [bytes(r[0]) for r in self.conn.execute(
                f"SELECT embedding_keys FROM {SCHEMA}.builds WHERE state = 'complete'")]
        return {blob[i:i + 32] for blob in blobs for i in range(0, len(blob) - 31, 32)}

    def refit_source(self):
        """What the current build stored to refit its keyword index from (`Refit`), as the file backend's
        `store.previous_refit`: the next build reads only the passages it did not have. None: a full fit."""
        from ..ranking.keyword_refit import Refit

        build_id = current_pair(self.conn)[0]
        if build_id is None:
            return None
        try:
            return Refit.from_arrays(read_refit_arrays(self.conn, build_tables(build_id)))
        except Exception:  # noqa: BLE001 - a build written before refit arrays were kept, a damaged one: a full fit
            return None

    def _drop(self, build_id: str) -> None:
        with self.conn.transaction():
            for kind in TABLE_KINDS:
                self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_t(build_tables(build_id)[kind])))
            self.conn.execute(f"DELETE FROM {SCHEMA}.builds WHERE build_id = %s", (build_id,))

    def _copy_documents(self, tables: dict[str, str], documents) -> None:
        with self.conn.cursor().copy(sql.SQL("COPY {} (doc_id, title, language, text) FROM STDIN (FORMAT binary)")
                                     .format(_t(tables["documents"]))) as copy:
            copy.set_types(["text", "text", "text", "text"])
            for row in documents:
                copy.write_row(row)

    def _copy_passages(self, tables: dict[str, str], passages: list[Passage], vectors: np.ndarray) -> None:
        with self.conn.cursor().copy(sql.SQL("COPY {} (id, doc_id, kind, start_at, end_at, text, location, embedding) "
                                             "FROM STDIN (FORMAT binary)").format(_t(tables["passages"]))) as copy:
            copy.set_types(["int4", "text", "text", "int4", "int4", "text", "jsonb", "vector"])
            for passage, vector in zip(passages, vectors):
                loc = passage.location
                copy.write_row((passage.id, loc.doc_id, loc.kind, loc.start, loc.end, passage.text, loc.to_dict(),
                                vector))

    def _copy_sentences(self, tables: dict[str, str], sentences, vectors: np.ndarray) -> None:
        owner = np.array([pid for pid, spans in enumerate(sentences) for _ in spans], dtype=np.int32)
        number = np.array([n for spans in sentences for n in range(len(spans))], dtype=np.int32)
        flat = np.array([span for spans in sentences for span in spans], dtype=np.int32).reshape(-1, 2)
        columns = sql.SQL("{} (passage_id, n, start_at, end_at, embedding)").format(_t(tables["sentences"]))
        copy_fixed(self.conn, columns, [("int4", owner), ("int4", number), ("int4", flat[:, 0]), ("int4", flat[:, 1]),
                                        ("vector", np.asarray(vectors, dtype=np.float32))])

    def _index(self, tables: dict[str, str], passages: int, dim: int) -> None:
        """Keys and the HNSW graph, built once over the loaded rows, with memory for the whole graph."""
        for kind, key in (("documents", "doc_id"), ("passages", "id"), ("sentences", "passage_id, n")):
            self.conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(_t(tables[kind]), sql.SQL(key)))
        graph_mb = max(64, min(4096, passages * (4 * dim + 400) * 5 // 4 >> 20))
        self.conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(f"{graph_mb}MB")))
        self.conn.execute(sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding vector_ip_ops) WITH ({})").format(
            sql.Identifier(tables["passages"] + "_hnsw"), _t(tables["passages"]), sql.SQL(HNSW_OPTIONS)))

    def _check(self, tables: dict[str, str], documents: int, passages: int, sentences: int) -> None:
        """What was stored, read back: counts, and each passage equal to its document's text at its location."""
        counts = self.conn.execute(sql.SQL("SELECT (SELECT count(*) FROM {}), (SELECT count(*) FROM {}), "
                                           "(SELECT count(*) FROM {})").format(
            _t(tables["documents"]), _t(tables["passages"]), _t(tables["sentences"]))).fetchone()
        if tuple(counts) != (documents, passages, sentences):
            raise VerbatimError(f"the database stored {counts} documents, passages, sentences instead of "
                                f"{(documents, passages, sentences)}: run `verbatim index build` again")
        bad = self.conn.execute(sql.SQL(
            "SELECT p.id FROM {} p LEFT JOIN {} d USING (doc_id) WHERE d.doc_id IS NULL "
            "OR substr(d.text, p.start_at + 1, p.end_at - p.start_at) IS DISTINCT FROM p.text ORDER BY p.id LIMIT 1")
            .format(_t(tables["passages"]), _t(tables["documents"]))).fetchone()
        if bad:
            raise VerbatimError(f"passage {bad[0]} as stored is not its document's text at its location: "
                                "nothing was made current")


def create_tables(conn, tables: dict[str, str], dim: int) -> None:
    vector = sql.SQL("vector({})").format(sql.Literal(dim))
    conn.execute(sql.SQL("CREATE TABLE {} (doc_id text NOT NULL, title text NOT NULL, language text NOT NULL, "
                         "text text NOT NULL)").format(_t(tables["documents"])))
    conn.execute(sql.SQL("CREATE TABLE {} (id int4 NOT NULL, doc_id text NOT NULL, kind text NOT NULL, "
                         "start_at int4 NOT NULL, end_at int4 NOT NULL, text text NOT NULL, location jsonb NOT NULL, "
                         "embedding {} NOT NULL)").format(_t(tables["passages"]), vector))
    conn.execute(sql.SQL("CREATE TABLE {} (passage_id int4 NOT NULL, n int4 NOT NULL, start_at int4 NOT NULL, "
                         "end_at int4 NOT NULL, embedding {} NOT NULL)").format(_t(tables["sentences"]), vector))
    create_keyword_tables(conn, tables, dim)


def check_passage_texts(documents, passages: list[Passage]) -> None:
    """Quotes are never altered: each passage is its document's text at its location, before anything is written."""
    texts = {doc_id: text for doc_id, _, _, text in documents}
    for p in passages:
        text = texts.get(p.location.doc_id)
        if text is None or text[p.location.start:p.location.end] != p.text:
            raise VerbatimError(f"passage {p.id} is not the text of document {p.location.doc_id!r} at "
                                f"{p.location.start}:{p.location.end}: nothing was written")


def switch_current(conn, build_id: str, previous: str | None = None, *, keep_previous: bool = False) -> None:
    """Makes `build_id` current, in the caller's transaction, and notifies at commit. The old current becomes
    `previous`, unless `previous` is given (rollback names the build a further rollback would pick)."""
    if keep_previous:
        conn.execute(f"UPDATE {SCHEMA}.current_build SET previous_build_id = %s, build_id = %s",
                     (previous, build_id))
    else:
        conn.execute(f"UPDATE {SCHEMA}.current_build SET previous_build_id = build_id, build_id = %s", (build_id,))
    conn.execute("SELECT pg_notify(%s, %s)", (BUILD_NOTIFY_CHANNEL, build_id))


def current_pair(conn) -> tuple[str | None, str | None]:
    if not has_schema(conn):
        return None, None
    row = conn.execute(f"SELECT build_id, previous_build_id FROM {SCHEMA}.current_build").fetchone()
    return (row[0], row[1]) if row else (None, None)


def complete_builds(conn) -> list[str]:
    """Build ids, oldest first (ids sort by creation time)."""
    if not has_schema(conn):
        return []
    return [r[0] for r in conn.execute(f"SELECT build_id FROM {SCHEMA}.builds WHERE state = 'complete' "
                                       "ORDER BY build_id")]


def read_manifest(url: str, build_id: str | None = None) -> dict:
    """The manifest of the current (or the named) build."""
    with connect(url, autocommit=True) as conn, database_errors(url):
        build_id = build_id or current_pair(conn)[0]
        if build_id is None:
            raise IndexMissing(f"no index in the database at {redacted(url)}: run `verbatim index build` "
                               "or `verbatim index push`")
        row = conn.execute(f"SELECT manifest FROM {SCHEMA}.builds WHERE build_id = %s AND state = 'complete'",
                           (build_id,)).fetchone()
    if row is None:
        raise IndexMissing(f"the database at {redacted(url)} has no complete build {build_id}")
    return row[0]


def indexed_counts(url: str) -> dict[str, tuple[int, int]] | None:
    """Per document of the current build: (passages, comments with a passage); None when there is no build."""
    with connect(url, autocommit=True) as conn, database_errors(url):
        build_id = current_pair(conn)[0]
        if build_id is None:
            return None
        rows = conn.execute(sql.SQL(
            "SELECT doc_id, count(*), count(DISTINCT location->>'comment') FILTER (WHERE kind = 'comment') "
            "FROM {} GROUP BY doc_id").format(_t(build_tables(build_id)["passages"]))).fetchall()
    return {doc_id: (int(passages), int(comments)) for doc_id, passages, comments in rows}


def rollback(url: str) -> tuple[str, str | None]:
    """Makes the build that was current before the current one current again, as files do, after
    checking it loads (read whole, through the same checks as serving): a damaged build is refused and
    nothing changes. Returns (now, was)."""
    from .load import load_build

    with connect(url, autocommit=True) as conn, database_errors(url):
        current, previous = current_pair(conn)
        target, further = rollback_plan(current, previous, complete_builds(conn))
        if target is None:
            raise VerbatimError("there is no earlier build to roll back to")
        try:
            load_build(conn, url, target)
        except VerbatimError as e:
            raise VerbatimError(f"cannot roll back to build {target}: {str(e).split(': run ')[0]}; the current "
                                f"build {current} stays") from None
        with conn.transaction():
            conn.execute(f"SELECT 1 FROM {SCHEMA}.current_build FOR UPDATE")
            if current_pair(conn)[0] != current:
                raise VerbatimError("another build was made current meanwhile: run `verbatim index rollback` again")
            switch_current(conn, target, further, keep_previous=True)
    return target, current


@contextmanager
def session(url: str) -> Iterator[BuildSession]:
    with BuildSession(url) as s:
        yield s
