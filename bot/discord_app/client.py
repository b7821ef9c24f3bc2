"""The bot: a `commands.Bot` that loads the cog in `setup_hook` and syncs commands only when they change.

With shards configured (`verbatim run --shards N --shard-ids …`) it is the same bot on discord.py's
`AutoShardedBot`, which opens one gateway session per shard of this process (see shards.py).

Pings are off for every message (`AllowedMentions.none()`): an answer echoes user text and
article text, and neither may ever notify anyone.
"""
from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import aiohttp
import discord
from discord.ext import commands

from .answers_keeper import AnswersKeeper
from .article_commands import ArticleCog
from .bindings import ArticleBindings
from .buttons import DYNAMIC_ITEMS
from .cog import AskCog, guess_lang, question_in
from .config import BotConfig
from .delivery import reply_to
from .departure import CommandTree, Departure
from .error_handlers import answer_unclaimed, guard_gateway_parsers, on_app_command_error
from .gateway import use_api_base, use_gateway_of
from .inflight import InFlight
from .limits import Limits, LimitsGate
from .loop_monitor import LoopMonitor
from .shards import status_file_name
from bot.render.discord_phrases import lang_of_locale, say
from index.errors import DatabaseUnavailable
from index.private_files import private_dir, write_private
from .translations import FrenchDescriptions
from .worker import RetrieverWorker

if TYPE_CHECKING:
    from stores import SharedState

log = logging.getLogger(__name__)


def intents_for(config: BotConfig) -> discord.Intents:
    """Guilds and messages; message content only when answer channels need it (a privileged intent).

    Mentions of the bot carry their content without the privileged intent.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = bool(config.answer_channels)
    return intents


class VerbatimBot(commands.Bot):
    def __init__(self, config: BotConfig, *, data_dir: Path, max_question_chars: int,
                 open_retriever: Callable[[], object], shared: "SharedState | None" = None):
        """`shared`: the state several processes share (`stores.open_shared_state`); None keeps the
        answers and bindings in this data dir's SQLite file and the limits in memory."""
        if config.api_base:
            use_api_base(config.api_base)
        # The bot never joins voice: its optional libraries are not installed, and that is fine.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: no text commands, mentions are questions
            intents=intents_for(config),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=CommandTree,
            **(config.shards.client_options() if config.shards else {}),
        )
        self.config = config
        self.data_dir = data_dir
        self.max_question_chars = max_question_chars
        self.worker = RetrieverWorker(open_retriever)
        private_dir(data_dir / "discord")  # user ids, names and questions: owner-only
        self.shared = shared
        store_path = data_dir / "discord" / "answers.sqlite3"
        if shared is None:
            self.answers = AnswersKeeper(store_path)
            self.bindings = ArticleBindings(store_path)  # its own table
            self.limits = LimitsGate(Limits(config.user_cooldown, config.guild_limit, config.guild_window))
        else:  # the same keeper (writer thread, read deadlines) over the shared store
            self.answers = AnswersKeeper(store_path, store=shared.answers)
            self.bindings = shared.bindings
            self.limits = LimitsGate(shared.limits, shared=True)
        self.monitor = LoopMonitor(data_dir / "discord" / status_file_name(config.shards), self._status)
        self.inflight = InFlight()
        self.departure = Departure()
        self.leave_budget = 1.0  # seconds the last replies get before the bot leaves (shutdown() sets it)
        self._refresher: asyncio.Task | None = None
        self._closed_parts = False
        # A malformed gateway event is dropped, not fatal; every interaction gets a reply.
        guard_gateway_parsers(self)
        self.tree.error(on_app_command_error)
        self._button_patterns = [item.__discord_ui_compiled_template__ for item in DYNAMIC_ITEMS]

    def _connected(self) -> bool:
        return self.is_ready() and not self.is_closed()

    def _status(self) -> dict:
        return {"ready": self._connected(), "build_id": self.worker.build_id, **self._shards_status(),
                "pending": self.worker.pending, "answered": self.worker.answered,
                "in_flight": len(self.inflight), "closing": self.inflight.closing,
                "latency_ms": round(self.latency * 1000, 1) if math.isfinite(self.latency) else None}

    def _shards_status(self) -> dict:
        return {}

    def _running(self) -> str:
        return "one unsharded session"

    async def setup_hook(self) -> None:
        log.info("gateway: %s", self._running())
        self.monitor.start()
        if self.config.api_base:
            await use_gateway_of(self.http)
        build = await self.worker.start()
        log.info("serving index build %s", build)
        if self.worker.retriever is not None and self.worker.retriever.stale:
            log.warning("%s", self.worker.retriever.stale)
        await self.tree.set_translator(FrenchDescriptions())
        await self.add_cog(AskCog(self))
        await self.add_cog(ArticleCog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.sync_commands_if_changed()
        self._refresher = asyncio.create_task(self._refresh_forever(), name="verbatim-index-refresh")

    async def on_interaction(self, interaction: discord.Interaction, /) -> None:
        """Interactions discord.py would leave unanswered (unknown type, a click no button claims)."""
        await answer_unclaimed(interaction, self._button_patterns)

    # Text commands are not used; the cog's listener handles mentions.
    async def on_message(self, message: discord.Message, /) -> None:
        """While leaving, once discord.py has removed the cogs, a question still gets "restarting, ask again"."""
        if not self.departure.leaving or self.get_cog("AskCog") is not None:
            return
        if question_in(message, self.user, self.config.answer_channels) is None:
            return
        guild_id = message.guild.id if message.guild else None
        parent = getattr(getattr(message.channel, "parent", None), "id", None)
        if not self.config.allows(guild_id, message.channel.id, parent):
            return  # not a word where the server's admins keep the bot out
        self.departure.replying()
        locale = message.guild.preferred_locale if message.guild else None
        try:
            await reply_to(message, say(guess_lang(message.content or "", lang_of_locale(locale)), "restarting_new"))
        except (discord.HTTPException, OSError, RuntimeError) as e:
            log.warning("could not tell message %s the bot is restarting (%s)", message.id, e.__class__.__name__)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s), %s", self.user, len(self.guilds), self._running())
        # Everything loaded so far lives as long as the process: keep the garbage collector from
        # walking it again on every full collection (those walks are event-loop stalls).
        gc.freeze()
        self.monitor.write()

    async def _refresh_forever(self) -> None:
        """Look for a newer index build now and then; a failed refresh keeps the current one."""
        while True:
            await asyncio.sleep(self.config.refresh_seconds)
            try:
                await self.worker.refresh()
            except DatabaseUnavailable as e:  # the index's database, down for now: no fault of ours
                log.warning("index refresh failed (%s); still serving build %s", e, self.worker.build_id)
            except Exception:
                log.exception("index refresh failed; still serving build %s", self.worker.build_id)

    # ----- command sync ------------------------------------------------------------------------

    def _sync_target(self) -> discord.Object | None:
        return discord.Object(self.config.sync_guild) if self.config.sync_guild else None

    async def commands_hash(self) -> str:
        """A digest of exactly what a sync would send (translations included) and where."""
        guild = self._sync_target()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator
        commands = self.tree.get_commands(guild=guild)
        if translator is not None:
            payload = [await c.get_translated_payload(self.tree, translator) for c in commands]
        else:
            payload = [c.to_dict(self.tree) for c in commands]
        blob = json.dumps({"target": guild.id if guild else "global", "app": self.application_id, "commands": payload},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands_if_changed(self) -> bool:
        """Sync to the test guild (instant) or globally, but only when the command tree changed."""
        digest = await self.commands_hash()
        stamp = self.data_dir / "discord" / "commands.sha256"
        if stamp.exists() and stamp.read_text().strip() == digest:
            log.info("application commands unchanged; not syncing")
            return False
        synced = await self.tree.sync(guild=self._sync_target())
        write_private(stamp, digest + "\n")
        where = f"guild {self.config.sync_guild}" if self.config.sync_guild else "globally"
        log.info("synced %d application command(s) %s", len(synced), where)
        return True

    async def shutdown(self) -> None:
        """SIGTERM: take no new questions, finish (or tell) those in flight, store them, then close."""
        started = time.monotonic()
        grace = self.config.shutdown_grace
        await self.inflight.drain(grace)
        left = max(0.5, grace - (time.monotonic() - started))
        if not await asyncio.to_thread(self.answers.flush, left):
            log.warning("the answers store is still busy; %.1f s were not enough to store every answer", left)
        self.leave_budget = max(0.5, min(2.0, grace - (time.monotonic() - started)))
        await self.close()

    async def close(self) -> None:
        """Leave: late interactions are told to come back, replies on their way are let finish (see
        departure.py), then discord.py removes the cogs, closes the gateway and the HTTP session."""
        if self._refresher:
            self._refresher.cancel()
        self.monitor.stop()
        first = not self.departure.leaving
        self.departure.begin()
        if first and not self.is_closed():
            await self.departure.settle(self.leave_budget)
            close_http = self.http.close

            async def close_http_after_replies() -> None:  # the gateway is closed now: nothing new comes
                await self.departure.settle(0.5)
                await close_http()

            self.http.close = close_http_after_replies  # type: ignore[method-assign]
        await super().close()
        if self._closed_parts:
            return
        self._closed_parts = True
        self.monitor.write()
        self.worker.close()
        await asyncio.to_thread(self.answers.close, 0.5)
        self.bindings.close()
        if self.shared is not None:
            self.shared.close()


class ShardedVerbatimBot(VerbatimBot, commands.AutoShardedBot):
    """The same bot on discord.py's AutoShardedBot: one gateway session per shard of `config.shards`.

    commands.Bot and commands.AutoShardedBot add nothing of their own to their bases, so this class is
    VerbatimBot with AutoShardedClient's connection handling (its MRO puts AutoShardedClient before Client).
    """

    def _connected(self) -> bool:
        """Every shard of this process holds a session (discord.py's ready alone stays set when one drops)."""
        return super()._connected() and all(not shard.is_closed() for shard in self.shards.values()) \
            and len(self.shards) == len(self.config.shards.ids)

    def _shards_status(self) -> dict:
        shards = self.config.shards
        per_shard = {str(i): len([g for g in self.guilds if g.shard_id == i]) for i in shards.ids}
        return {"shards": list(shards.ids), "shard_count": shards.count, "shard_guilds": per_shard}

    def _running(self) -> str:
        return self.config.shards.describe()

    async def setup_hook(self) -> None:
        await super().setup_hook()
        await self._compare_with_recommended()

    async def _compare_with_recommended(self) -> None:
        """Say when Discord recommends more shards than configured (it refuses sessions past 2,500 guilds)."""
        try:
            recommended, _, _ = await self.http.get_bot_gateway()
        except (discord.DiscordException, OSError, aiohttp.ClientError) as e:
            log.info("could not ask Discord for its recommended shard count (%s); running %s", e, self._running())
            return
        if recommended > self.config.shards.count:
            log.warning("Discord recommends %d shards for this bot; running %s: raise VERBATIM_DISCORD_SHARDS "
                        "(--shards) in every process", recommended, self._running())
        else:
            log.info("Discord recommends %d shard(s); running %s", recommended, self._running())

    async def on_shard_ready(self, shard_id: int) -> None:
        guilds = sum(1 for g in self.guilds if g.shard_id == shard_id)
        log.info("shard %d of %d ready with %d guild(s)", shard_id, self.config.shards.count, guilds)


def make_bot(config: BotConfig, **parts) -> VerbatimBot:
    """The sharded bot when shards are configured, else the plain one-session bot, exactly as before."""
    return (ShardedVerbatimBot if config.shards else VerbatimBot)(config, **parts)
