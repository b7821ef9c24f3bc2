"""What a serving process asks the database: which build is current (a cheap poll), and that build's rows;
and a listener that hears `NOTIFY verbatim_build` so a new build is picked up at once, not at the next poll.

One connection is kept for the poll and reopened after a failure, so `Retriever.refresh()` costs one
tiny query; while the database is down the poll raises DatabaseUnavailable and the caller keeps the
build it has in memory. The listener has its own connection (LISTEN needs a session of its own; a
pooler in transaction mode would not carry it) and reconnects with backoff; notifications sent while
it was disconnected are lost, which is why the poll stays.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from ..errors import DatabaseUnavailable, IndexMissing
from ..store import StoredIndex
from .connection import connect, database_errors
from .schema import BUILD_NOTIFY_CHANNEL, SCHEMA, has_schema
from .url import redacted


log = logging.getLogger(__name__)

RECONNECT_S = (1, 2, 5, 10, 30)  # the listener's backoff after a failure, then every 30 s


class PgIndexSource:
    def __init__(self, url: str):
        self.url = url
        self._conn = None
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

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

    def listen(self, on_notify: Callable[[], None]) -> None:
        """Calls `on_notify()` from a daemon thread after each `NOTIFY verbatim_build` (once per reconnect
        too: what was sent while disconnected is lost). Idempotent; `close()` stops it."""
        with self._lock:
            if self._listener is not None or self._stop.is_set():
                return
            self._listener = threading.Thread(target=self._listen, args=(on_notify,), name="verbatim-build-listener",
                                              daemon=True)
            self._listener.start()

    def _listen(self, on_notify: Callable[[], None]) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {BUILD_NOTIFY_CHANNEL}")
                    if failures:
                        on_notify()  # a build may have been switched while we were away
                    failures = 0
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            on_notify()
            except Exception as e:  # noqa: BLE001 - the listener must outlive any failure; the poll still works
                if self._stop.is_set():
                    return
                wait = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                log.warning("not listening for new index builds (retrying in %s s): %s", wait,
                            str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
                self._stop.wait(wait)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._close()
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.join(timeout=3)

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
