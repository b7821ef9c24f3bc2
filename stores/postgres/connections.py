"""A handful of connections to the shared database, that recover by themselves when it comes back.

Why not psycopg_pool: measured here, after the server came back its pool still failed the next four
requests (6 s, its reconnect backoff), and the brief is "the next question after it comes back is
answered". So: connections are opened on demand (loopback refuses in milliseconds when the server is
down, so a question learns it at once instead of waiting out a pool timeout), kept idle for reuse, and
dropped at the first sign of trouble. An idle connection can be dead without knowing it (the server
restarted since it was last used): its failure drops every idle one and the work is retried once on a
fresh connection, so the first request after a restart does not fail.

Every statement runs in autocommit unless the work opens `conn.transaction()`.
Connection trouble becomes `DatabaseUnavailable`, naming the server without its password.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, TypeVar

from index.errors import DatabaseUnavailable
from index.pg.connection import _first_line, connect
from index.pg.url import redacted

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT_S = 2  # libpq's smallest; loopback refuses at once anyway
SLOT_WAIT_S = 2.0  # how long a caller waits for one of `max_open` connections
# Dead peers are noticed in seconds, not after the kernel's 15 minutes of retransmissions.
TCP_OPTIONS = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
               "tcp_user_timeout": 5000}


class Connections:
    def __init__(self, url: str, *, max_open: int = 8, max_idle: int = 4):
        self.url = url
        self.where = redacted(url)
        self._psycopg = None
        self._idle: list = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_open)
        self._max_idle = max_idle
        self._closed = False

    def _new(self):
        conn = connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, **TCP_OPTIONS)
        if self._psycopg is None:
            import psycopg

            self._psycopg = psycopg
        return conn

    def _take(self) -> tuple[Any, bool]:
        with self._lock:
            if self._closed:
                raise DatabaseUnavailable(f"the connections to {self.where} are closed")
            if self._idle:
                return self._idle.pop(), True
        return self._new(), False

    def _give_back(self, conn) -> None:
        with self._lock:
            if not self._closed and not conn.closed and not conn.broken and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def run(self, work: Callable[[Any], T]) -> T:
        """`work(connection)`; DatabaseUnavailable if the database cannot be reached (other errors pass)."""
        if not self._slots.acquire(timeout=SLOT_WAIT_S):
            raise DatabaseUnavailable(f"every connection to the database at {self.where} stayed busy")
        try:
            conn, reused = self._take()
            try:
                return self._attempt(work, conn)
            except _Broken as broken:
                if not reused:
                    raise broken.unavailable from None
                log.info("a kept connection to %s was dead (%s); retrying on a new one", self.where, broken.reason)
                self._drop_idle()
            conn = self._new()
            try:
                return self._attempt(work, conn)
            except _Broken as broken:
                raise broken.unavailable from None
        finally:
            self._slots.release()

    def _attempt(self, work: Callable[[Any], T], conn) -> T:
        psycopg = self._psycopg
        try:
            result = work(conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as e:
            reason = _first_line(e, self.url)
            conn.close()
            raise _Broken(reason, DatabaseUnavailable(f"the database at {self.where} is unavailable: {reason}"))
        except BaseException:
            self._give_back(conn)
            raise
        self._give_back(conn)
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._drop_idle()


class _Broken(Exception):
    def __init__(self, reason: str, unavailable: DatabaseUnavailable):
        super().__init__(reason)
        self.reason, self.unavailable = reason, unavailable
