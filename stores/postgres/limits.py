"""The per-user cooldown and the per-server cap, held across every process that shares the database.

Same meaning as the bot's in-memory `Limits`: at most one question per user every `user_cooldown`
seconds; at most `guild_limit` questions per server in any sliding `guild_window` seconds (direct
messages count as one server); the cap is only charged when the user may ask, and a question the cap
refuses starts no cooldown. 0 disables either.

Each counter is decided by ONE statement on one row, whose lock makes a second process wait and then
see the first one's write, so two processes can never both let through a question only one may ask.
Time is the database's `now()`, never a process's clock. Both statements run in one transaction,
rolled back when the cap refuses: that is how the refused question's cooldown is undone.
Blocking: call from threads. Connection trouble raises `index.errors.DatabaseUnavailable`.
"""
from __future__ import annotations

import itertools

from ..records import Refusal
from .connections import Connections
from .schema import SCHEMA

# Allowed: the row is written and (true, 0) comes back. Refused: nothing is written, and the seconds to
# wait are read from the row as this statement's snapshot has it (a data-modifying CTE's siblings see
# the rows as they were before it). When another process wrote the row a moment ago, after that
# snapshot was taken, the wait read is stale (or there is no row at all): still refused, and the
# whole cooldown is the honest wait (see `_wait`).
COOLDOWN_SQL = f"""
WITH attempt AS (
    INSERT INTO {SCHEMA}.user_cooldowns AS c (user_id, last_at) VALUES (%(user)s, now())
    ON CONFLICT (user_id) DO UPDATE SET last_at = now()
    WHERE c.last_at <= now() - make_interval(secs => %(seconds)s)
    RETURNING true AS allowed, 0::float8 AS wait
)
SELECT allowed, wait FROM attempt
UNION ALL
SELECT false, extract(epoch FROM c.last_at + make_interval(secs => %(seconds)s) - now())::float8
FROM {SCHEMA}.user_cooldowns c WHERE c.user_id = %(user)s AND NOT EXISTS (SELECT 1 FROM attempt)
"""

# The server's row keeps the times of its questions still inside the window (at most `limit` of them).
GUILD_SQL = f"""
WITH attempt AS (
    INSERT INTO {SCHEMA}.guild_questions AS g (guild_key, times) VALUES (%(guild)s, ARRAY[now()])
    ON CONFLICT (guild_key) DO UPDATE
    SET times = ARRAY(SELECT t FROM unnest(g.times) t WHERE t > now() - make_interval(secs => %(window)s)
                      ORDER BY t) || now()
    WHERE (SELECT count(*) FROM unnest(g.times) t WHERE t > now() - make_interval(secs => %(window)s)) < %(limit)s
    RETURNING true AS allowed, 0::float8 AS wait
)
SELECT allowed, wait FROM attempt
UNION ALL
SELECT false, extract(epoch FROM min(t) + make_interval(secs => %(window)s) - now())::float8
FROM {SCHEMA}.guild_questions g, unnest(g.times) t
WHERE g.guild_key = %(guild)s AND t > now() - make_interval(secs => %(window)s) AND NOT EXISTS (SELECT 1 FROM attempt)
"""

PRUNE_EVERY = 500  # checks; users whose cooldown is long over are forgotten now and then


class PgLimits:
    def __init__(self, connections: Connections, user_cooldown: float, guild_limit: int, guild_window: float):
        self._db = connections
        self.user_cooldown = float(user_cooldown)
        self.guild_limit = int(guild_limit)
        self.guild_window = float(guild_window)
        self._checks = itertools.count(1)

    @property
    def _cap_on(self) -> bool:
        return self.guild_limit > 0 and self.guild_window > 0

    def check(self, user_id: int, guild_id: int | None) -> Refusal | None:
        """None if the question may run now (and it is counted), else why not and for how long."""
        if self.user_cooldown <= 0 and not self._cap_on:
            return None
        if next(self._checks) % PRUNE_EVERY == 0:
            self._prune()
        return self._db.run(lambda conn: self._decide(conn, user_id, guild_id))

    def _decide(self, conn, user_id: int, guild_id: int | None) -> Refusal | None:
        from psycopg import Rollback

        refusal = None
        with conn.transaction():
            if self.user_cooldown > 0:
                rows = conn.execute(COOLDOWN_SQL, {"user": user_id, "seconds": self.user_cooldown}).fetchall()
                if not _allowed(rows):
                    return Refusal("cooldown", _wait(rows, self.user_cooldown))  # nothing was written
            if self._cap_on:
                rows = conn.execute(GUILD_SQL, {"guild": guild_id or 0, "window": self.guild_window,
                                                "limit": self.guild_limit}).fetchall()
                if not _allowed(rows):
                    refusal = Refusal("guild_rate", _wait(rows, self.guild_window))
                    raise Rollback()  # undoes this question's cooldown; the block swallows it
        return refusal

    def _prune(self) -> None:
        if self.user_cooldown > 0:
            self._db.run(lambda c: c.execute(
                f"DELETE FROM {SCHEMA}.user_cooldowns WHERE last_at < now() - make_interval(secs => %s)",
                (self.user_cooldown,)))


def _allowed(rows: list) -> bool:
    """The attempt's own row says so (the guild statement's aggregate also gives a row of its own)."""
    return any(allowed for allowed, _ in rows)


def _wait(rows: list, whole: float) -> float:
    """Seconds to wait after a refusal: as read, or `whole` when the reading predates the write that refused."""
    wait = next((w for allowed, w in rows if not allowed), None)
    return float(wait) if wait is not None and 0 < wait <= whole else whole
