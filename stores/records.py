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
