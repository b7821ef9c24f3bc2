"""Which article a channel or thread talks about, shared by every process (`/article set|clear`, threads).

The same rows, rules and methods as the bot's SQLite `ArticleBindings` (bot/discord_app/bindings.py
explains "set" and "thread" rows and the order a question resolves them in); here a binding made
through one process steers questions answered by another. The async methods run the blocking ones in
a thread with a deadline, so the event loop never waits on the database for long.
Connection trouble raises `index.errors.DatabaseUnavailable` (or TimeoutError past the deadline).
"""
from __future__ import annotations

import asyncio

from ..records import Binding, governing_binding
from .connections import Connections
from .schema import SCHEMA

DEADLINE_S = 2.0  # inside Discord's 3 s to answer an interaction


class PgArticleBindings:
    def __init__(self, connections: Connections, deadline: float = DEADLINE_S):
        self._db = connections
        self.deadline = deadline

    def close(self) -> None:
        """Nothing of its own to close: the connections belong to the SharedState (closed with it)."""

    async def _off_loop(self, fn, *args):
        return await asyncio.wait_for(asyncio.to_thread(fn, *args), self.deadline)

    # ----- async API, for the event loop ---------------------------------------------------------------

    async def resolve(self, channel_id: int, parent_id: int | None = None) -> Binding | None:
        return await self._off_loop(self.resolve_now, channel_id, parent_id)

    async def bind(self, channel_id: int, guild_id: int | None, article_id: str, user_id: int) -> None:
        await self._off_loop(self._write, channel_id, guild_id, article_id, "set", user_id, True)

    async def remember_thread(self, thread_id: int, guild_id: int | None, article_id: str) -> None:
        """The thread's first answered question sets its article; later ones never change it."""
        await self._off_loop(self._write, thread_id, guild_id, article_id, "thread", None, False)

    async def clear(self, channel_id: int) -> Binding | None:
        """Removes the channel's or thread's own row; returns what it was."""
        return await self._off_loop(self._clear, channel_id)

    async def own(self, channel_id: int) -> Binding | None:
        return await self._off_loop(self._own, channel_id)

    # ----- blocking parts, in a worker thread ------------------------------------------------------------

    def resolve_now(self, channel_id: int, parent_id: int | None = None) -> Binding | None:
        ids = [channel_id] + ([parent_id] if parent_id else [])
        rows = self._db.run(lambda c: c.execute(
            f"SELECT channel_id, article_id, origin FROM {SCHEMA}.article_bindings WHERE channel_id = ANY(%s)",
            (ids,)).fetchall())
        return governing_binding(rows, channel_id, parent_id)

    def _own(self, channel_id: int) -> Binding | None:
        row = self._db.run(lambda c: c.execute(
            f"SELECT channel_id, article_id, origin FROM {SCHEMA}.article_bindings WHERE channel_id = %s",
            (channel_id,)).fetchone())
        return Binding(int(row[0]), row[1], row[2]) if row else None

    def _write(self, channel_id: int, guild_id: int | None, article_id: str, origin: str, user_id: int | None,
               replace: bool) -> None:
        on_conflict = ("DO UPDATE SET guild_id = excluded.guild_id, article_id = excluded.article_id,"
                       " origin = excluded.origin, set_by = excluded.set_by, set_at = excluded.set_at"
                       if replace else "DO NOTHING")
        self._db.run(lambda c: c.execute(
            f"INSERT INTO {SCHEMA}.article_bindings (channel_id, guild_id, article_id, origin, set_by, set_at)"
            f" VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (channel_id) {on_conflict}",
            (channel_id, guild_id, article_id, origin, user_id)))

    def _clear(self, channel_id: int) -> Binding | None:
        row = self._db.run(lambda c: c.execute(
            f"DELETE FROM {SCHEMA}.article_bindings WHERE channel_id = %s RETURNING channel_id, article_id, origin",
            (channel_id,)).fetchone())
        return Binding(int(row[0]), row[1], row[2]) if row else None

    def forget(self, channel_id: int, article_id: str) -> None:
        """Drops a thread's remembered article that the index no longer has (a "set" row is kept)."""
        self._db.run(lambda c: c.execute(
            f"DELETE FROM {SCHEMA}.article_bindings WHERE channel_id = %s AND article_id = %s AND origin = 'thread'",
            (channel_id, article_id)))
