"""`verbatim run`: start the Discord bot until SIGTERM or Ctrl-C, then shut down cleanly.

Shutting down drains: answers in flight get up to VERBATIM_DISCORD_SHUTDOWN_GRACE seconds (default
8, inside Docker's 10 s stop timeout) to finish and be stored; askers whose answer could not
finish are told to ask again; then the gateway is closed and the process exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

import aiohttp
import discord

from index.errors import VerbatimError

from .config import BotConfig
from .options import add_arguments

if TYPE_CHECKING:
    from index.settings import Settings

log = logging.getLogger("bot.discord_app")

# Gateway close codes that mean the shard settings are wrong for this bot (a fix, not a retry).
SHARDING_REFUSALS = {
    4010: "Discord refused the shard this process identified with (4010 invalid shard): check --shards and "
          "--shard-ids (VERBATIM_DISCORD_SHARDS, VERBATIM_DISCORD_SHARD_IDS)",
    4011: "Discord requires sharding for this bot (4011: it is in too many servers for one session): run with "
          "--shards N (VERBATIM_DISCORD_SHARDS), N at least what Discord recommends",
}


def gateway_refusal(e: "discord.ConnectionClosed") -> str:
    """One line for a gateway session Discord closed for good."""
    known = SHARDING_REFUSALS.get(e.code)
    if known:
        return known
    return f"Discord closed the gateway connection (code {e.code}{': ' + e.reason if e.reason else ''})"


async def serve(config: BotConfig, settings: "Settings", force_sync: bool = False) -> None:
    from index.service import Retriever
    from stores import open_shared_state

    from .client import make_bot

    # With a database URL: connect first, so a database that is down stops the start with one line
    # naming it (password hidden), before anything talks to Discord.
    shared = await asyncio.to_thread(open_shared_state, settings, user_cooldown=config.user_cooldown,
                                     guild_limit=config.guild_limit, guild_window=config.guild_window)
    if shared is not None:
        log.info("answers, votes, limits and article bindings shared through %s", shared.where)
    bot = make_bot(config, data_dir=settings.data_dir, max_question_chars=settings.max_question_chars,
                   open_retriever=lambda: Retriever.open(settings), shared=shared)
    if force_sync:
        (settings.data_dir / "discord" / "commands.sha256").unlink(missing_ok=True)

    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task] = []

    def on_signal(sig: signal.Signals) -> None:
        """First signal: a graceful shutdown (drain, store, close). A second one: stop waiting."""
        if not stopping:
            log.info("%s received, shutting down: finishing the answers in flight (up to %.1f s) first", sig.name,
                     config.shutdown_grace)
            stopping.append(loop.create_task(bot.shutdown(), name="verbatim-shutdown"))
        else:
            log.info("%s received again: stopping without waiting", sig.name)
            bot.inflight.hurry()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    async with bot:
        await bot.start(config.token)
    log.info("stopped")


def main(args: "Settings | argparse.Namespace | list[str] | None" = None,
         options: argparse.Namespace | None = None) -> int:
    """Entry point. `args` may be the index Settings the CLI already resolved (then `options` are the
    parsed `run` options, see `add_arguments`), parsed options, or argv."""
    from index.settings import Settings

    settings = args if isinstance(args, Settings) else None
    if settings is not None and options is not None:
        args = options
    elif not isinstance(args, (Settings, argparse.Namespace)):
        parser = argparse.ArgumentParser(prog="verbatim run", description=__doc__)
        add_arguments(parser)
        args = parser.parse_args(args)
    force_sync = bool(getattr(args, "sync", False)) or os.environ.get("VERBATIM_DISCORD_FORCE_SYNC", "") not in ("", "0")
    discord.utils.setup_logging(level=logging.INFO)
    try:
        settings = settings or Settings.from_env()
        config = BotConfig.from_env(shard_count=getattr(args, "shards", None),
                                    shard_ids=getattr(args, "shard_ids", None))
        asyncio.run(serve(config, settings, force_sync=force_sync))
    except VerbatimError as e:
        print(f"verbatim run: {e}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("verbatim run: Discord rejected the token: check DISCORD_TOKEN (Developer Portal → Bot → Reset Token)",
              file=sys.stderr)
        return 2
    except discord.PrivilegedIntentsRequired:
        print("verbatim run: answer channels need the Message Content intent: enable it in the Developer Portal "
              "(Bot → Privileged Gateway Intents) or unset VERBATIM_DISCORD_ANSWER_CHANNELS", file=sys.stderr)
        return 2
    except discord.ConnectionClosed as e:
        print(f"verbatim run: {gateway_refusal(e)}", file=sys.stderr)
        return 2 if e.code in SHARDING_REFUSALS else 1
    except (aiohttp.ClientError, OSError) as e:
        print(f"verbatim run: cannot reach Discord ({e.__class__.__name__}: {e}); check the network and retry",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
