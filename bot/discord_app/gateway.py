"""Test-only redirection of discord.py to a loopback Discord stand-in.

discord.py builds REST URLs from `discord.http.Route.BASE` and opens its first websocket on
`DiscordWebSocket.DEFAULT_GATEWAY` without asking the API. With `VERBATIM_DISCORD_API_BASE`
set, both are pointed at the stand-in: REST directly, the gateway through `GET /gateway/bot`,
as a sharded client does against Discord. Without it nothing here runs.
"""
from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from index.errors import ConfigError

log = logging.getLogger(__name__)


def _require_loopback(url: str) -> None:
    """The override exists for tests: refuse anything that is not this machine."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"VERBATIM_DISCORD_API_BASE must point at a loopback address (tests only), got {url!r}")


def use_api_base(api_base: str) -> None:
    """Send every REST call (bot, interactions, webhooks) to `api_base` instead of discord.com."""
    _require_loopback(api_base)
    Route.BASE = api_base.rstrip("/")
    log.warning("Discord API base overridden to %s (tests only)", Route.BASE)


async def use_gateway_of(http: HTTPClient) -> str:
    """Ask the (overridden) API for its gateway URL and make it the websocket's default."""
    _, url, _ = await http.get_bot_gateway()
    _require_loopback(url)
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    log.warning("Discord gateway overridden to %s (tests only)", url)
    return url
