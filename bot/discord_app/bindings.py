"""Which article a channel or thread talks about, kept in SQLite so it survives restarts.

Two kinds of rows, one per channel or thread:
- "set": `/article set` bound it (a member with Manage Channels); `/article clear` removes it;
- "thread": the bot answered a question in a thread that nothing bound, so follow-ups there keep
  the article of that first answer.
A question is resolved in that order of strength: the thread's or channel's own "set" binding,
then its parent channel's, then the thread's remembered article.

Same database file as the answers (`data/discord/answers.sqlite3`), its own table and its own
connection (WAL lets the two share the file). Every call runs off the event loop (`asyncio.to_thread`).
"""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from stores.records import Binding, governing_binding  # one type for these bindings and the shared ones

SCHEMA = """
CREATE TABLE IF NOT EXISTS article_bindings (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    article_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('set', 'thread')),
    set_by INTEGER,
    set_at REAL NOT NULL
);
"""


class ArticleBindings:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # The thread itself gives up on a locked file before the caller's deadline (DEADLINE_S): a write the
        # asker was told failed must not land later.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=1.5)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=1500")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----- async API, for the event loop ---------------------------------------------------------------

    # Each call gives up after DEADLINE_S (asyncio.TimeoutError, which callers answer as "unavailable, try
    # again"): a file another process holds locked must not keep a reply past Discord's 3 s window.
    async def resolve(self, channel_id: int, parent_id: int | None = None) -> Binding | None:
        return await _within(self.resolve_now, channel_id, parent_id)

    async def bind(self, channel_id: int, guild_id: int | None, article_id: str, user_id: int) -> None:
        await _within(self._write, channel_id, guild_id, article_id, "set", user_id, True)

    async def remember_thread(self, thread_id: int, guild_id: int | None, article_id: str) -> None:
        """The thread's first answered question sets its article; later ones never change it."""
        await _within(self._write, thread_id, guild_id, article_id, "thread", None, False)

    async def clear(self, channel_id: int) -> Binding | None:
        """Removes the channel's or thread's own row; returns what it was."""
        return await _within(self._clear, channel_id)

    async def own(self, channel_id: int) -> Binding | None:
        return await _within(self._own, channel_id)

    # ----- synchronous parts, in a worker thread -----------------------------------------------------------

    def resolve_now(self, channel_id: int, parent_id: int | None = None) -> Binding | None:
        ids = [channel_id] + ([parent_id] if parent_id else [])
        with self._lock:
            rows = self._db.execute(
                f"SELECT channel_id, article_id, origin FROM article_bindings WHERE channel_id IN "
                f"({','.join('?' * len(ids))})", ids).fetchall()
        return governing_binding(rows, channel_id, parent_id)

    def _own(self, channel_id: int) -> Binding | None:
        with self._lock:
            row = self._db.execute("SELECT channel_id, article_id, origin FROM article_bindings WHERE channel_id = ?",
                                   (channel_id,)).fetchone()
        return Binding(int(row[0]), row[1], row[2]) if row else None

    def _write(self, channel_id: int, guild_id: int | None, article_id: str, origin: str, user_id: int | None,
               replace: bool) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._lock:
            self._db.execute(f"{verb} INTO article_bindings (channel_id, guild_id, article_id, origin, set_by, set_at)"
                             " VALUES (?,?,?,?,?,?)", (channel_id, guild_id, article_id, origin, user_id, time.time()))

    def _clear(self, channel_id: int) -> Binding | None:
        with self._lock:
            row = self._db.execute("DELETE FROM article_bindings WHERE channel_id = ? RETURNING channel_id, article_id,"
                                   " origin", (channel_id,)).fetchone()
        return Binding(int(row[0]), row[1], row[2]) if row else None

    def forget(self, channel_id: int, article_id: str) -> None:
        """Drops a thread's remembered article that the index no longer has (a "set" row is kept)."""
        with self._lock:
            self._db.execute("DELETE FROM article_bindings WHERE channel_id = ? AND article_id = ? AND origin = 'thread'",
                             (channel_id, article_id))


DEADLINE_S = 2.0  # as the PostgreSQL bindings (stores/)


async def _within(call, *args):
    return await asyncio.wait_for(asyncio.to_thread(call, *args), DEADLINE_S)
