"""What a serving process asks the database: which build is current (a cheap poll), and that build's rows.

One connection is kept for the poll and reopened after a failure, so `Retriever.refresh()` costs one
tiny query; while the database is down the poll raises DatabaseUnavailable and the caller keeps the
build it has in memory.
"""
from __future__ import annotations

import threading

from ..errors import DatabaseUnavailable, IndexMissing
from ..store import StoredIndex
from .connection import connect, database_errors
from .schema import SCHEMA, has_schema
from .url import redacted


class PgIndexSource:
    def __init__(self, url: str):
        self.url = url
        self._conn = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"the database at {redacted(self.url)}"

    def current_build_id(self) -> str | None:
        with self._lock:
            conn = self._connection()
            try:
                with database_errors(self.url):
                    if not has_schema(conn):
                        return None
                    row = conn.execute(f"SELECT build_id FROM {SCHEMA}.current_build").fetchone()
            except DatabaseUnavailable:
                self._close()
                raise
            return row[0] if row else None

    def load(self, build_id: str | None) -> StoredIndex:
        from .load import load_build

        build_id = build_id or self.current_build_id()
        if build_id is None:
            raise IndexMissing(f"no index in {self.where}: run `verbatim index build` or `verbatim index push`")
        with self._lock:
            conn = self._connection()
            try:
                return load_build(conn, self.url, build_id)
            except DatabaseUnavailable:
                self._close()
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _connection(self):
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url, autocommit=True)
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
