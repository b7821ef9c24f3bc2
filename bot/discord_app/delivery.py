"""Getting a reply to the asker even when Discord refuses, rate-limits or times out.

discord.py retries a refused request itself (5 tries: after a 429 it sleeps `retry_after`, after a
5xx 1, 3, 5… s), then gives up. Each step here is bounded in time instead, and when the deferred
reply cannot be edited the answer goes out as a follow-up, then as a channel message, each after a
short pause, so the asker always learns the outcome. An edit that fails ambiguously (a timeout or a 5xx,
which may come after Discord applied it) is checked first: when the reply already shows the answer, no
follow-up repeats it. The first response is bounded by Discord's 3-second window: a retry that would
land after it is pointless (the interaction is gone by then).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable

import aiohttp
import discord

log = logging.getLogger(__name__)

ACK_WINDOW = 3.0  # seconds Discord gives the first response
STEP_TIMEOUT = 5.0  # one edit, follow-up or channel message, retries included
PAUSE = 1.0  # between two ways of delivering
CHECK_TIMEOUT = 3.0  # fetching the reply to see whether an edit that seemed to fail landed
# What a request to Discord can fail with: an HTTP error, a timeout, or the connection itself (discord.py lets
# aiohttp's "Server disconnected" and OSErrors through): each is a reason to try the next way, never silence.
FAILED = (discord.HTTPException, asyncio.TimeoutError, aiohttp.ClientError, OSError)


def _why(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}"
    return error.__class__.__name__


async def acknowledge(action: Awaitable[Any], received_at: float, what: str) -> bool:
    """Run the first response (defer or message) within what is left of the 3 s window."""
    left = received_at + ACK_WINDOW - time.monotonic()
    try:
        await asyncio.wait_for(action, timeout=max(0.2, left))
        return True
    except FAILED as e:
        log.warning("could not acknowledge %s within Discord's 3 s window (%s)", what, _why(e))
        return False


def _ambiguous(error: BaseException) -> bool:
    """A timeout, a dropped connection or a 5xx may come after Discord applied the request; a 429 or another
    4xx never does."""
    return isinstance(error, (asyncio.TimeoutError, aiohttp.ClientError, OSError)) or (
        isinstance(error, discord.HTTPException) and error.status >= 500)


async def _edit_landed(interaction: discord.Interaction, kwargs: dict) -> bool:
    """Whether the deferred reply (`@original`, fetched) now shows what the failed edit sent: then a
    follow-up would show the user the answer twice. Unknown (the fetch fails too) counts as not landed:
    twice is better than never."""
    try:
        message = await asyncio.wait_for(interaction.original_response(), CHECK_TIMEOUT)
    except (*FAILED, discord.ClientException) as e:
        log.warning("could not check whether the reply to interaction %s was edited (%s)", interaction.id, _why(e))
        return False
    return shows(message.content, [e.to_dict() for e in message.embeds], message.flags.loading, kwargs)


def shows(content: str, embeds: list[dict], loading: bool, kwargs: dict) -> bool:
    """Whether a message (its content, embeds as dicts, still "thinking") is the one `kwargs` describe."""
    if loading:
        return False
    wanted = [e.to_dict() if isinstance(e, discord.Embed) else dict(e) for e in kwargs.get("embeds") or []]
    if (content or "").strip() != (kwargs.get("content") or "").strip():
        return False

    def seen(e: dict) -> tuple:  # what the user reads, whitespace at the ends aside (Discord may trim it)
        return tuple((e.get(k) or "").strip() for k in ("title", "description", "url"))

    return [seen(e) for e in embeds] == [seen(e) for e in wanted]


def _mention_line(interaction: discord.Interaction) -> str:
    user = interaction.user
    return user.mention if isinstance(user, (discord.User, discord.Member)) else ""


async def deliver(interaction: discord.Interaction, kwargs: dict, view: discord.ui.View | None, *,
                  acknowledged: bool = True, public: bool = True) -> str | None:
    """Put the final reply in front of the asker; returns how ("edit", "followup", "channel") or None.

    `public`: the reply may be posted in the channel when the interaction itself cannot carry it
    (never for an ephemeral reply).
    """
    extra = {"view": view} if view is not None else {}
    if acknowledged:
        try:
            await asyncio.wait_for(interaction.edit_original_response(**kwargs, **extra), STEP_TIMEOUT)
            return "edit"
        except FAILED as e:
            failure = e
        await asyncio.sleep(PAUSE)
        if _ambiguous(failure) and await _edit_landed(interaction, kwargs):
            log.info("editing the reply to interaction %s seemed to fail (%s) but the edit is there: no follow-up",
                     interaction.id, _why(failure))
            return "edit"
        log.warning("editing the reply to interaction %s failed (%s); sending a follow-up", interaction.id,
                    _why(failure))
        try:
            await asyncio.wait_for(interaction.followup.send(**kwargs, **extra, ephemeral=not public, wait=True),
                                   STEP_TIMEOUT)
            return "followup"
        except FAILED as e:
            log.warning("the follow-up to interaction %s failed too (%s)", interaction.id, _why(e))
    channel = interaction.channel
    if public and channel is not None and hasattr(channel, "send"):
        await asyncio.sleep(PAUSE)
        content = " ".join(x for x in (_mention_line(interaction), kwargs.get("content") or "") if x)
        try:
            await asyncio.wait_for(channel.send(**{**kwargs, "content": content or None}, **extra), STEP_TIMEOUT)
            log.info("answered interaction %s with a channel message", interaction.id)
            return "channel"
        except FAILED as e:
            log.warning("the channel message for interaction %s failed (%s)", interaction.id, _why(e))
    log.error("could not deliver the reply to interaction %s by any means", interaction.id)
    return None


async def reply_privately(interaction: discord.Interaction, text: str) -> bool:
    """A short ephemeral notice, whatever state the interaction is in; False if it could not be sent."""
    try:
        if not interaction.response.is_done():
            await asyncio.wait_for(interaction.response.send_message(text, ephemeral=True), STEP_TIMEOUT)
        elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            await asyncio.wait_for(interaction.edit_original_response(content=text, embeds=[], view=None),
                                   STEP_TIMEOUT)
        else:
            await asyncio.wait_for(interaction.followup.send(text, ephemeral=True), STEP_TIMEOUT)
        return True
    except (*FAILED, discord.InteractionResponded) as e:
        log.warning("could not reply to interaction %s (%s)", interaction.id, _why(e))
        return False


async def reply_to(message: discord.Message, content: str | None = None, **kwargs: Any) -> discord.Message:
    """A reply to a message that goes out even if its author deleted it meanwhile: then as a plain message in
    the channel (Discord's `fail_if_not_exists: false`), rather than an error and silence. Never pings the author."""
    return await message.channel.send(content, reference=message.to_reference(fail_if_not_exists=False),
                                      mention_author=False, **kwargs)
