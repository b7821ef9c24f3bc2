"""The last moments of a shutdown, after the questions in flight are done: nobody is left without a reply.

discord.py's `Bot.close` removes the cogs before it leaves the gateway, and `Client.close` closes the
HTTP session as soon as the gateway is closed. An interaction arriving in between found its cog gone
(a failure), and a reply already on its way was cut off ("Session is closed"). From `begin()` on,
every interaction is told "restarting, ask again" instead, and the bot leaves once the replies
already started are sent (within a budget), so none is cut off.
"""
from __future__ import annotations

import asyncio
import logging

import discord

from bot.render.discord_phrases import lang_of_locale, say

from .delivery import reply_privately

log = logging.getLogger(__name__)


class Departure:
    def __init__(self) -> None:
        self.leaving = False
        self._replies: set[asyncio.Task] = set()

    def begin(self) -> None:
        self.leaving = True

    def replying(self) -> None:
        """The current task is answering an interaction: leave only once it is done."""
        task = asyncio.current_task()
        if task is not None and task not in self._replies:
            self._replies.add(task)
            task.add_done_callback(self._replies.discard)

    async def settle(self, budget: float) -> None:
        """Wait up to `budget` seconds for the replies on their way (not the caller's own task)."""
        pending = [t for t in self._replies if t is not asyncio.current_task() and not t.done()]
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=budget)
        if late:
            log.warning("leaving with %d interaction repl%s unfinished after %.1f s", len(late),
                        "y" if len(late) == 1 else "ies", budget)


async def tell_leaving(interaction: discord.Interaction) -> None:
    """An interaction that came too late: "restarting, ask again in a minute" (an autocomplete, no choices)."""
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
            return
        await reply_privately(interaction, say(lang_of_locale(interaction.locale), "restarting_new"))
    except (discord.HTTPException, OSError, RuntimeError) as e:
        log.warning("could not tell interaction %s the bot is restarting (%s)", interaction.id, e.__class__.__name__)


class CommandTree(discord.app_commands.CommandTree):
    """The bot's command tree: every command first checks the bot is not leaving (see `Departure`)."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        departure: Departure = self.client.departure  # type: ignore[attr-defined]
        departure.replying()
        if departure.leaving:
            await tell_leaving(interaction)
            return False
        return True
