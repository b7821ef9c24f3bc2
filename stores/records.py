"""Plain records the bot gets back from its limits and bindings, whichever backend keeps them.

One definition for both: the bot's in-process parts (bot/discord_app/limits.py, bindings.py) and
the shared ones on PostgreSQL (stores/postgres/) return the same types, so the bot cannot tell them apart.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """Why a question may not run now: the phrase key and the seconds to wait."""

    reason: str  # "cooldown" | "guild_rate"
    retry_after: float

    @property
    def seconds(self) -> int:
        return max(1, int(self.retry_after + 0.999))


@dataclass(frozen=True)
class Binding:
    channel_id: int  # the channel or thread the row belongs to (a parent channel's for an inherited one)
    article_id: str
    origin: str  # "set" | "thread"


def governing_binding(rows, channel_id: int, parent_id: int | None) -> Binding | None:
    """Which binding a question in this channel or thread follows, from the rows (channel_id, article_id,
    origin) of it and its parent: its own `/article set`, else the parent channel's, else the article
    the thread remembered. One rule for both backends."""
    found = {int(ch): Binding(int(ch), a, o) for ch, a, o in rows}
    own, parent = found.get(channel_id), found.get(parent_id) if parent_id else None
    if own is not None and own.origin == "set":
        return own
    if parent is not None and parent.origin == "set":
        return parent
    return own
