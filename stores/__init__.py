"""What several bot processes share: answers, votes, cooldown counters and channel-article bindings.

Without a database URL there is nothing to share: `open_shared_state` gives None and the bot keeps
its own parts (SQLite file, in-memory limits) exactly as before. With one, the state lives in
PostgreSQL (stores/postgres/), so `/source` of an answer given by one process works in another and
a cooldown set by one holds in all. Nothing here knows discord.py: ids are plain ints.
psycopg is imported only when a database URL is set.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .records import Binding, Refusal
from .state import SharedState

if TYPE_CHECKING:
    from index.settings import Settings

__all__ = ["Binding", "Refusal", "SharedState", "open_shared_state"]


def open_shared_state(settings: "Settings", *, user_cooldown: float = 0.0, guild_limit: int = 0,
                      guild_window: float = 0.0) -> SharedState | None:
    """The shared state named by `settings.database_url`, or None when it is "" (files, one process).

    Blocking (it connects and creates the tables if needed): call it off the event loop. A database
    that cannot be reached raises `index.errors.DatabaseUnavailable`, whose message names the URL
    without its password. The limit figures are those of `bot.discord_app.limits.Limits` (0 disables).
    """
    if not settings.database_url:
        return None
    from .postgres import open_postgres_state

    return open_postgres_state(settings.database_url, user_cooldown=user_cooldown, guild_limit=guild_limit,
                               guild_window=guild_window)
