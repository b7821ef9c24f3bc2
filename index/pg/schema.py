"""The `verbatim` schema: created on first use, versioned, and the names of one build's tables.

Each build has its own tables (`passages_<build>`, ...): the vector dimension is part of the column
type and may change between builds, an HNSW index per build needs no filter, and dropping an old
build is `DROP TABLE`. Migrations are numbered SQL run in order; `schema_version` holds the last.
"""
from __future__ import annotations

import re

from ..errors import ConfigError, DatabaseUnavailable

SCHEMA = "verbatim"
BUILD_NOTIFY_CHANNEL = "verbatim_build"

MIGRATIONS: tuple[str, ...] = (
    # 1: builds and the pointer to the current one (one row, `one` is always true).
    f"""
    CREATE TABLE {SCHEMA}.builds (
        build_id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('writing', 'complete', 'failed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        dim int NOT NULL,
        manifest jsonb,
        embedding_keys bytea NOT NULL DEFAULT ''::bytea
    );
    CREATE TABLE {SCHEMA}.current_build (
        one bool PRIMARY KEY DEFAULT true CHECK (one),
        build_id text REFERENCES {SCHEMA}.builds,
        previous_build_id text REFERENCES {SCHEMA}.builds
    );
    INSERT INTO {SCHEMA}.current_build (one) VALUES (true);
    """,
)

# Per-build tables, in the order they are dropped (no foreign keys between them).
TABLE_KINDS = ("documents", "passages", "sentences", "keyword_grams", "keyword_postings", "keyword_words",
               "arrays")


def table_name(kind: str, build_id: str) -> str:
    """`passages_20261201t195407_123z_2d99c4`: the build id folded to what an identifier may hold."""
    return f"{kind}_{re.sub(r'[^a-z0-9]+', '_', build_id.lower())}"


def build_tables(build_id: str) -> dict[str, str]:
    return {kind: table_name(kind, build_id) for kind in TABLE_KINDS}


def ensure_schema(conn) -> None:
    """Creates the extension, the schema and its tables, or migrates them; idempotent.

    Serialised by a transaction-level advisory lock so two processes starting at once do not race.
    A server without pgvector, or a role not allowed to enable it, gets the one-line fix.
    """
    psycopg = _psycopg()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('verbatim schema'))")
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as e:
                raise missing_vector(conn, e) from None
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version int NOT NULL)")
        row = conn.execute(f"SELECT version FROM {SCHEMA}.schema_version").fetchone()
        version = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise ConfigError(f"the database schema {SCHEMA} has version {version}, newer than this verbatim "
                              f"({len(MIGRATIONS)}): upgrade verbatim")
        for number in range(version + 1, len(MIGRATIONS) + 1):
            conn.execute(MIGRATIONS[number - 1])
        if version == 0:
            conn.execute(f"INSERT INTO {SCHEMA}.schema_version VALUES (%s)", (len(MIGRATIONS),))
        elif version < len(MIGRATIONS):
            conn.execute(f"UPDATE {SCHEMA}.schema_version SET version = %s", (len(MIGRATIONS),))


def has_schema(conn) -> bool:
    """Whether the schema exists yet (a reader never creates it: a database without it has no build)."""
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.current_build",)).fetchone()[0]


def missing_vector(conn, error: Exception) -> DatabaseUnavailable:
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    where = f"{conn.info.dbname} on {conn.info.host}:{conn.info.port}"
    return DatabaseUnavailable(f"the database {where} has no pgvector extension and this role cannot add it "
                               f"({reason}): run `CREATE EXTENSION vector;` in it as its owner or an administrator "
                               "(managed PostgreSQL: enable the `vector` extension)")


def _psycopg():
    from .connection import psycopg_module

    return psycopg_module()
