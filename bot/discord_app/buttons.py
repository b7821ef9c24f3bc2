"""The answer's buttons, as DynamicItems: their state lives in the custom_id, so they survive restarts.

Sources -> the answer's passages (ephemeral); 👍 / 👎 -> feedback stored; Share -> post sources publicly.
Each callback delegates to the cog, which owns the store and the rendering.
"""
from __future__ import annotations

import re

import discord

from bot.render.discord_phrases import say

from .departure import tell_leaving
from .error_handlers import on_item_error


async def _guarded(interaction: discord.Interaction, what: str, cog_name: str, act) -> None:
    """Run `act(cog)` for a click, making sure the clicker gets a reply: discord.py only logs a failing
    DynamicItem callback, and while the bot leaves (its cogs going) the click is told to come back."""
    departure = interaction.client.departure  # type: ignore[attr-defined]
    departure.replying()
    cog = interaction.client.get_cog(cog_name)
    if departure.leaving or cog is None:
        await tell_leaving(interaction)
        return
    try:
        await act(cog)
    except Exception as e:
        await on_item_error(interaction, e, what)


class SourcesButton(discord.ui.DynamicItem[discord.ui.Button], template=r"verbatim:sources:(?P<id>[0-9]{1,18})"):
    def __init__(self, answer_id: int, lang: str = "en"):
        super().__init__(discord.ui.Button(
            label=say(lang, "btn_sources"), emoji="📖", style=discord.ButtonStyle.secondary,
            custom_id=f"verbatim:sources:{answer_id}",
        ))
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, "sources", "AskCog", lambda cog: cog.show_sources(interaction, self.answer_id))


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"verbatim:vote:(?P<id>[0-9]{1,18}):(?P<vote>up|down)"):
    def __init__(self, answer_id: int, vote: str):
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"verbatim:vote:{answer_id}:{vote}",
        ))
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(int(match["id"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, "vote", "AskCog",
                       lambda cog: cog.record_vote(interaction, self.answer_id, 1 if self.vote == "up" else -1))


class ShareButton(discord.ui.DynamicItem[discord.ui.Button], template=r"verbatim:share:(?P<id>[0-9]{1,18})"):
    def __init__(self, answer_id: int, lang: str = "en"):
        super().__init__(discord.ui.Button(
            label=say(lang, "btn_share"), style=discord.ButtonStyle.primary, custom_id=f"verbatim:share:{answer_id}",
        ))
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, "share", "AskCog", lambda cog: cog.share_sources(interaction, self.answer_id))


class ArticlesPageButton(discord.ui.DynamicItem[discord.ui.Button],
                         template=r"verbatim:articles:(?P<page>[0-9]{1,6}):(?P<search>[^\n]{0,50})"):
    """Turns the /articles list to another page; the search rides along, so a restart loses nothing."""

    def __init__(self, page: int, search: str, label: str = "", disabled: bool = False):
        super().__init__(discord.ui.Button(
            label=label or str(page), style=discord.ButtonStyle.secondary, disabled=disabled,
            custom_id=f"verbatim:articles:{page}:{search}",
        ))
        self.page = page
        self.search = search

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(int(match["page"]), match["search"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, "articles", "ArticleCog",
                       lambda cog: cog.turn_articles_page(interaction, self.page, self.search))


DYNAMIC_ITEMS = (SourcesButton, VoteButton, ShareButton, ArticlesPageButton)


def articles_view(page: int, pages: int, search: str, lang: str) -> discord.ui.View | None:
    """Previous / Next under a list of several pages (disabled at either end); None for a single page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ArticlesPageButton(page - 1, search, "◀ " + say(lang, "btn_previous"), disabled=page <= 1))
    view.add_item(ArticlesPageButton(page + 1, search, say(lang, "btn_next") + " ▶", disabled=page >= pages))
    return view


def answer_view(answer_id: int, lang: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SourcesButton(answer_id, lang))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view


def share_view(answer_id: int, lang: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(answer_id, lang))
    return view
