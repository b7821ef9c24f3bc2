"""Abuse limits: a per-user cooldown and a per-guild rate cap, in memory (or shared, see `LimitsGate`).

They answer "may this question run now, and if not, in how many seconds?" so the bot can say
when to retry instead of silently dropping a question. A clock is injectable for tests.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from stores import Refusal  # one type for these limits and the shared ones

SHARED_CHECK_DEADLINE = 1.5  # seconds: a refusal must still reach Discord within its 3 s


@dataclass
class UserCooldown:
    """At most one question per user every `seconds`."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    _last: dict[int, float] = field(default_factory=dict)

    def retry_after(self, user_id: int) -> float:
        """0 if the user may ask now (and records it), else seconds to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


@dataclass
class GuildRateCap:
    """At most `limit` questions per guild in any sliding `window` seconds (0 disables)."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _times: dict[int | None, deque] = field(default_factory=dict)

    def retry_after(self, guild_id: int | None) -> float:
        if self.limit <= 0 or self.window <= 0:
            return 0.0
        now = self.clock()
        times = self._times.setdefault(guild_id, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return self.window - (now - times[0])
        times.append(now)
        return 0.0


class Limits:
    """The cooldown and the guild cap together; the guild cap is only charged when the user may ask."""

    def __init__(self, user_cooldown: float, guild_limit: int, guild_window: float,
                 clock: Callable[[], float] = time.monotonic):
        self.user = UserCooldown(user_cooldown, clock)
        self.guild = GuildRateCap(guild_limit, guild_window, clock)

    def check(self, user_id: int, guild_id: int | None) -> Refusal | None:
        wait = self.user.retry_after(user_id)
        if wait > 0:
            return Refusal("cooldown", wait)
        wait = self.guild.retry_after(guild_id)
        if wait > 0:
            self.user._last.pop(user_id, None)  # a refused question should not start a cooldown
            return Refusal("guild_rate", wait)
        return None


class LimitsGate:
    """The cog's one way to the limits, awaited: the in-memory `Limits` are asked right away; shared ones
    (`stores.open_shared_state(...).limits`, the same `check`) in a thread, within `deadline` seconds,
    so the event loop never waits on the database. A shared check that cannot be made raises
    `index.errors.DatabaseUnavailable` or `asyncio.TimeoutError`."""

    def __init__(self, limits, *, shared: bool = False, deadline: float = SHARED_CHECK_DEADLINE):
        self.limits = limits
        self.shared = shared
        self.deadline = deadline

    async def check(self, user_id: int, guild_id: int | None) -> Refusal | None:
        if not self.shared:
            return self.limits.check(user_id, guild_id)
        return await asyncio.wait_for(asyncio.to_thread(self.limits.check, user_id, guild_id), self.deadline)
