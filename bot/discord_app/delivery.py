"""Getting a reply to the asker even when Discord refuses, rate-limits or times out.

discord.py retries a refused request itself (5 tries: after a 429 it sleeps `retry_after`, after a
5xx 1, 3, 5… s), then gives up. Each step here is bounded in time instead, and when the deferred
reply cannot be edited the answer goes out as a follow-up, then as a channel message, each after a
short pause, so the asker always learns the outcome. The first response is bounded by Discord's
3-second window: a retry that would land after it is pointless (the interaction is gone by then).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable

import discord

log = logging.getLogger(__name__)

ACK_WINDOW = 3.0  # seconds Discord gives the first response
STEP_TIMEOUT = 5.0  # one edit, follow-up or channel message, retries included
PAUSE = 1.0  # between two ways of delivering


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
    except (discord.HTTPException, asyncio.TimeoutError) as e:
        log.warning("could not acknowledge %s within Discord's 3 s window (%s)", what, _why(e))
        return False


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
        except (discord.HTTPException, asyncio.TimeoutError) as e:
            log.warning("editing the reply to interaction %s failed (%s); sending a follow-up", interaction.id, _why(e))
        await asyncio.sleep(PAUSE)
        try:
            await asyncio.wait_for(interaction.followup.send(**kwargs, **extra, ephemeral=not public, wait=True),
                                   STEP_TIMEOUT)
            return "followup"
        except (discord.HTTPException, asyncio.TimeoutError) as e:
            log.warning("the follow-up to interaction %s failed too (%s)", interaction.id, _why(e))
    channel = interaction.channel
    if public and channel is not None and hasattr(channel, "send"):
        await asyncio.sleep(PAUSE)
        content = " ".join(x for x in (_mention_line(interaction), kwargs.get("content") or "") if x)
        try:
            await asyncio.wait_for(channel.send(**{**kwargs, "content": content or None}, **extra), STEP_TIMEOUT)
            log.info("answered interaction %s with a channel message", interaction.id)
            return "channel"
        except (discord.HTTPException, asyncio.TimeoutError) as e:
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
    except (discord.HTTPException, asyncio.TimeoutError, discord.InteractionResponded) as e:
        log.warning("could not reply to interaction %s (%s)", interaction.id, _why(e))
        return False
