"""/article set, /article clear (members with Manage Channels) and /articles (everyone).

`/article` is hidden by default from members without Manage Channels (`default_permissions`, which a
server admin may widen in Server Settings → Integrations), and checked again when it runs
(`checks.has_permissions`), so a widened command still refuses, politely, whoever lacks the permission.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.discord_articles import SEARCH_CHARS, articles_page, find_article
from bot.render.discord_payloads import escape_user_text, notice_payload
from bot.render.discord_phrases import lang_of_locale, say
from index.errors import DatabaseUnavailable

from .buttons import articles_view
from .cog import article_choices, channel_and_parent, send_kwargs
from .delivery import FAILED

if TYPE_CHECKING:
    from .client import VerbatimBot

log = logging.getLogger(__name__)


class ArticleCog(commands.Cog):
    article = app_commands.Group(name="article", description="Choose the article this channel or thread talks about.",
                                 default_permissions=discord.Permissions(manage_channels=True), guild_only=True)

    def __init__(self, bot: "VerbatimBot"):
        self.bot = bot

    def _ask_cog(self):
        return self.bot.get_cog("AskCog")

    def _articles(self):
        return self._ask_cog().articles()

    async def _private(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(**send_kwargs(notice_payload(text)), ephemeral=True)

    def _allowed(self, interaction: discord.Interaction) -> bool:
        return self.bot.config.allows(interaction.guild_id, interaction.channel_id, channel_and_parent(interaction.channel)[1])

    @article.command(name="set", description="Questions here go to this article, unless they name another.")
    @app_commands.describe(article="The article (offered as you type, newest first)")
    @app_commands.checks.has_permissions(manage_channels=True)
    async def set_command(self, interaction: discord.Interaction, article: app_commands.Range[str, 1, 100]) -> None:
        lang = lang_of_locale(interaction.locale)
        if not self._allowed(interaction):
            await self._private(interaction, say(lang, "not_allowed"))
            return
        chosen = find_article(article, self._articles())
        if chosen is None:
            await self._private(interaction, say(lang, "unknown_article"))
            return
        channel_id, _, _ = channel_and_parent(interaction.channel or discord.Object(interaction.channel_id or 0))
        await self.bot.bindings.bind(channel_id, interaction.guild_id, chosen.id, interaction.user.id)
        log.info("channel %s bound to article %s by %s", channel_id, chosen.id, interaction.user.id)
        title = escape_user_text(" ".join(chosen.title.split()) or chosen.id)
        await interaction.response.send_message(**send_kwargs(notice_payload(say(lang, "bound", title=title))))

    @set_command.autocomplete("article")
    async def set_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return article_choices(self._articles(), current, lang_of_locale(interaction.locale))

    @article.command(name="clear", description="Questions here go to all articles again.")
    @app_commands.checks.has_permissions(manage_channels=True)
    async def clear_command(self, interaction: discord.Interaction) -> None:
        lang = lang_of_locale(interaction.locale)
        if not self._allowed(interaction):
            await self._private(interaction, say(lang, "not_allowed"))
            return
        channel_id, _, _ = channel_and_parent(interaction.channel or discord.Object(interaction.channel_id or 0))
        removed = await self.bot.bindings.clear(channel_id)
        if removed is None:
            await self._private(interaction, say(lang, "not_bound"))
            return
        log.info("channel %s unbound from article %s by %s", channel_id, removed.article_id, interaction.user.id)
        await interaction.response.send_message(**send_kwargs(notice_payload(say(lang, "unbound"))))

    @app_commands.command(name="articles", description="List the articles I can quote, and when the index was built.")
    @app_commands.describe(search="Only the articles whose title or date holds these words",
                           page="Which page of the list (10 articles a page)")
    async def articles_command(self, interaction: discord.Interaction,
                               search: app_commands.Range[str, 0, SEARCH_CHARS] | None = None,
                               page: app_commands.Range[int, 1, 100_000] = 1) -> None:
        lang = lang_of_locale(interaction.locale)
        if not self._allowed(interaction):
            await self._private(interaction, say(lang, "not_allowed"))
            return
        payload, view = self._articles_page(page, search, lang)
        extra = {"view": view} if view else {}
        await interaction.response.send_message(**payload, **extra, ephemeral=True)

    async def turn_articles_page(self, interaction: discord.Interaction, page: int, search: str) -> None:
        """A Previous / Next click: the same list, another page, in place (the list as it is now: articles
        added or removed since move the pages, and a page past the end shows the last)."""
        lang = lang_of_locale(interaction.locale)
        if not self._allowed(interaction):
            await self._private(interaction, say(lang, "not_allowed"))
            return
        payload, view = self._articles_page(page, search, lang)
        await interaction.response.edit_message(**payload, view=view)  # None takes the buttons away

    def _articles_page(self, page: int, search: str | None, lang: str) -> tuple[dict, discord.ui.View | None]:
        retriever = self.bot.worker.retriever
        built_at = retriever.built_at if retriever is not None else ""
        shown = articles_page(self._articles(), built_at, lang, page, search)
        return send_kwargs(shown.payload), articles_view(shown.page, shown.pages, shown.search, lang)

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        lang = lang_of_locale(interaction.locale)
        cause = getattr(error, "original", error)
        if isinstance(error, (app_commands.MissingPermissions, app_commands.NoPrivateMessage)) \
                and interaction.guild_id is None:  # a direct message: no channel to bind, whoever asks
            text = say(lang, "server_only")
        elif isinstance(error, app_commands.MissingPermissions):
            text = say(lang, "needs_manage_channels")
        elif isinstance(cause, (DatabaseUnavailable, asyncio.TimeoutError)):  # the shared bindings: down for now
            text = say(lang, "unavailable")  # (the tree's handler logs it, in one line)
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = say(lang, "not_allowed")
        else:
            log.error("/%s failed", interaction.command.qualified_name if interaction.command else "?", exc_info=error)
            text = say(lang, "busy")
        interaction.extras["error_told"] = True  # the tree's handler then sends no second reply
        try:
            if interaction.response.is_done():
                await interaction.followup.send(**send_kwargs(notice_payload(text)), ephemeral=True)
            else:
                await self._private(interaction, text)
        except FAILED as e:  # too late (past the 3 s window) or Discord refused: nothing more can be said
            log.warning("could not tell interaction %s why /%s failed (%s)", interaction.id,
                        interaction.command.qualified_name if interaction.command else "?", e.__class__.__name__)
