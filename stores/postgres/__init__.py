"""The shared bot state on PostgreSQL: one module per part (schema, answers, limits, bindings) over
one set of connections (connections.py). Only `stores.open_shared_state` should be called from outside."""
from __future__ import annotations

from index.pg.url import redacted

from ..state import SharedState
from .answers import PgAnswersStore
from .bindings import PgArticleBindings
from .connections import Connections
from .limits import PgLimits
from .schema import ensure_schema


def open_postgres_state(url: str, *, user_cooldown: float, guild_limit: int, guild_window: float) -> SharedState:
    """Connect (a clear DatabaseUnavailable naming the URL without its password if it cannot), make sure
    the tables are there, and hand out the three parts over shared connections."""
    connections = Connections(url)
    connections.run(ensure_schema)  # the first connection is the start-up check
    return SharedState(
        answers=PgAnswersStore(connections),
        limits=PgLimits(connections, user_cooldown, guild_limit, guild_window),
        bindings=PgArticleBindings(connections),
        _close=connections.close,
        where=redacted(url),
    )
