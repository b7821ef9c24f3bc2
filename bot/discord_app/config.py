"""The bot's own settings, from the environment (and a `.env` file): token, sync target, limits.

Index settings (data directory, question length cap, model) stay in `index.settings.Settings`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from index.errors import ConfigError

from .shards import Shards, shards_from

TOKEN_HELP = (
    "no Discord bot token: set DISCORD_TOKEN in the environment or in a .env file "
    "(Discord Developer Portal → your application → Bot → Reset Token)"
)


DEFAULT_SHUTDOWN_GRACE = 8.0  # Docker sends SIGKILL 10 s after SIGTERM; closing takes the rest


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines, `export` and quotes tolerated)."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _ids(raw: str, name: str) -> frozenset[int]:
    try:
        return frozenset(int(x) for x in raw.replace(",", " ").split())
    except ValueError:
        raise ConfigError(f"{name} must be a comma-separated list of Discord ids, got {raw!r}") from None


def _num(env: dict[str, str], name: str, default: float, kind=float, *, minimum: float = 0.0,
         positive: bool = False):
    """A number setting, refused at start when it is not finite or out of range (never silently clamped)."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    _check_range(name, value, raw, minimum=minimum, positive=positive)
    return value


def _check_range(name: str, value: float, raw: str, *, minimum: float = 0.0, positive: bool = False) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    if positive and value <= 0:
        raise ConfigError(f"{name} must be more than 0, got {raw!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be {minimum:g} or more, got {raw!r}")


@dataclass(frozen=True)
class BotConfig:
    token: str
    sync_guild: int | None  # sync commands to this guild only (instant; for testing), else globally
    user_cooldown: float  # seconds between two questions of one user
    guild_limit: int  # questions per guild per guild_window seconds
    guild_window: float
    allowed_guilds: frozenset[int]  # empty = every guild
    allowed_channels: frozenset[int]  # empty = every channel
    answer_channels: frozenset[int]  # channels where every question is answered (needs the message-content intent)
    refresh_seconds: float  # how often the worker looks for a newer index build
    shutdown_grace: float  # seconds SIGTERM leaves answers in flight to finish (fits Docker's 10 s stop timeout)
    api_base: str | None  # tests only: a loopback Discord stand-in
    shards: Shards | None = None  # None: one unsharded gateway session (see shards.py)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env"), *,
                 shard_count: str | None = None, shard_ids: str | None = None) -> "BotConfig":
        """`shard_count`/`shard_ids`: `verbatim run --shards/--shard-ids`, which win over the environment."""
        merged = read_dotenv(dotenv) if dotenv else {}
        merged.update(os.environ if env is None else env)
        token = merged.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise ConfigError(TOKEN_HELP)
        guild = merged.get("VERBATIM_DISCORD_SYNC_GUILD", "").strip()
        rate = merged.get("VERBATIM_DISCORD_GUILD_RATE", "").strip() or "30/60"
        try:
            limit, _, window = rate.partition("/")
            guild_limit, guild_window = int(limit), float(window or 60)
        except ValueError:
            raise ConfigError(f"VERBATIM_DISCORD_GUILD_RATE must look like 30/60 (questions/seconds), got {rate!r}") from None
        if guild_limit < 0 or not math.isfinite(guild_window) or (guild_limit > 0 and guild_window <= 0):
            raise ConfigError("VERBATIM_DISCORD_GUILD_RATE must be a question count of 0 or more over a window of "
                              f"more than 0 seconds, like 30/60 (0/60 disables it), got {rate!r}")
        api_base = merged.get("VERBATIM_DISCORD_API_BASE", "").strip().rstrip("/") or None
        return cls(
            token=token,
            sync_guild=int(guild) if guild.isdigit() else None,
            user_cooldown=_num(merged, "VERBATIM_DISCORD_USER_COOLDOWN", 5.0),
            guild_limit=guild_limit,
            guild_window=guild_window,
            allowed_guilds=_ids(merged.get("VERBATIM_DISCORD_ALLOWED_GUILDS", ""), "VERBATIM_DISCORD_ALLOWED_GUILDS"),
            allowed_channels=_ids(merged.get("VERBATIM_DISCORD_ALLOWED_CHANNELS", ""), "VERBATIM_DISCORD_ALLOWED_CHANNELS"),
            answer_channels=_ids(merged.get("VERBATIM_DISCORD_ANSWER_CHANNELS", ""), "VERBATIM_DISCORD_ANSWER_CHANNELS"),
            refresh_seconds=_num(merged, "VERBATIM_DISCORD_REFRESH_SECONDS", 10.0, positive=True),
            shutdown_grace=_num(merged, "VERBATIM_DISCORD_SHUTDOWN_GRACE", DEFAULT_SHUTDOWN_GRACE),
            api_base=api_base,
            shards=shards_from(merged, shard_count, shard_ids),
        )

    def allows(self, guild_id: int | None, channel_id: int | None, parent_id: int | None = None) -> bool:
        """`parent_id` is a thread's channel: a thread of an allowed channel is allowed (threads are created
        all the time, no one could list their ids in advance)."""
        if self.allowed_guilds and guild_id not in self.allowed_guilds:
            return False
        if self.allowed_channels and channel_id not in self.allowed_channels and parent_id not in self.allowed_channels:
            return False
        return True
