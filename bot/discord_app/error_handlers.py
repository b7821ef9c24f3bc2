"""One bad event never kills the bot, and every interaction gets a reply when one is still possible.

Three places discord.py lets an error through: the gateway parsers (an exception there ends the
connection and the process), the app command tree (`tree.on_error` logs a traceback and answers
nothing) and component clicks (a failing button callback, or a click no handler claims, is left
unanswered). Each gets a handler here that logs one line and answers politely, ephemerally.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import discord
from discord import app_commands
from discord.http import Route

from bot.render.discord_phrases import lang_of_locale, say
from index.errors import DatabaseUnavailable

from .delivery import reply_privately

log = logging.getLogger(__name__)


def _lang(interaction: discord.Interaction) -> str:
    try:
        return lang_of_locale(interaction.locale)
    except Exception:
        return "en"


# ----- gateway events --------------------------------------------------------------------------------


def guard_gateway_parsers(client: discord.Client) -> None:
    """Wrap every gateway event parser so a malformed event is logged in one line and dropped."""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers
    for event, parse in list(parsers.items()):
        if getattr(parse, "__verbatim_guarded__", False):
            continue
        parsers[event] = _guarded(client, event, parse)


def _guarded(client: discord.Client, event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
    def guarded(data: Any) -> None:
        try:
            parse(data)
        except Exception as e:
            log.warning("dropped a malformed %s gateway event (%s: %s)", event, e.__class__.__name__, str(e)[:200])
            if event == "INTERACTION_CREATE":
                client.loop.create_task(_reply_to_raw_interaction(client, data))

    guarded.__verbatim_guarded__ = True  # type: ignore[attr-defined]
    return guarded


async def _reply_to_raw_interaction(client: discord.Client, data: Any) -> None:
    """An interaction too malformed for discord.py to read: answer it from its id and token if they are sound."""
    try:
        interaction_id, token, kind = int(data["id"]), str(data["token"]), int(data.get("type", 0))
    except (KeyError, TypeError, ValueError):
        return
    if kind in (1, 4):  # a ping or an autocomplete cannot carry a message
        return
    lang = lang_of_locale(data.get("locale") if isinstance(data, dict) else None)
    route = Route("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
                  interaction_id=interaction_id, interaction_token=token)
    body = {"type": 4, "data": {"content": say(lang, "bad_request"), "flags": 64, "allowed_mentions": {"parse": []}}}
    try:
        await client.http.request(route, json=body)
    except (discord.HTTPException, OSError) as e:
        log.warning("could not answer malformed interaction %s (%s)", interaction_id, e.__class__.__name__)


# ----- slash commands ----------------------------------------------------------------------------------

# Errors a malformed request causes (as opposed to a fault of the bot): one line in the log, no traceback.
REQUEST_ERRORS = (app_commands.TransformerError, app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """`tree.on_error`: log one line, answer politely."""
    name = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("name", "?")
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(cause, (DatabaseUnavailable, asyncio.TimeoutError)):  # the shared state, down for now: no fault
        log.warning("/%s: the shared state cannot be reached (%s)", name, str(cause) or cause.__class__.__name__)
        if not interaction.response.is_done() and interaction.type is not discord.InteractionType.autocomplete:
            await reply_privately(interaction, say(_lang(interaction), "unavailable"))
        return
    if isinstance(error, app_commands.CheckFailure):  # a member without the permission, a DM: no fault at all
        log.info("/%s refused (%s)", name, error.__class__.__name__)
        if not interaction.response.is_done() and interaction.type is not discord.InteractionType.autocomplete:
            await reply_privately(interaction, say(_lang(interaction), "not_allowed"))
        return  # else the command's own handler said why: one reply, not two
    if interaction.extras.get("error_told"):  # the command's cog logged it and answered: one reply, not two
        return
    if isinstance(error, REQUEST_ERRORS) or isinstance(cause, (KeyError, TypeError, ValueError, AttributeError)):
        log.warning("/%s: malformed request (%s: %s)", name, cause.__class__.__name__, str(cause)[:200])
        text = say(_lang(interaction), "bad_request")
    else:
        log.error("/%s failed", name, exc_info=cause)
        text = say(_lang(interaction), "busy")
    if interaction.type is discord.InteractionType.autocomplete:
        return  # an autocomplete cannot carry a message; the client shows "loading options failed"
    await reply_privately(interaction, text)


# ----- component clicks and other interactions --------------------------------------------------------------


def _claimed_component(interaction: discord.Interaction, patterns: list) -> bool:
    """Whether a dynamic button will handle this click (discord.py drops it silently otherwise)."""
    custom_id = (interaction.data or {}).get("custom_id")
    message = interaction.message
    if not isinstance(custom_id, str) or message is None:
        return False
    on_message = {getattr(c, "custom_id", None) for row in message.components for c in getattr(row, "children", [])}
    return custom_id in on_message and any(p.fullmatch(custom_id) for p in patterns)


async def answer_unclaimed(interaction: discord.Interaction, patterns: list) -> None:
    """`on_interaction`: a polite reply for interactions no handler will answer."""
    kind = interaction.type
    if kind in (discord.InteractionType.application_command, discord.InteractionType.autocomplete,
                discord.InteractionType.ping):
        return  # the command tree answers these (or its on_error does)
    if kind is discord.InteractionType.component and _claimed_component(interaction, patterns):
        return
    log.warning("interaction %s of type %s has no handler; answered with a notice", interaction.id, kind)
    await reply_privately(interaction, say(_lang(interaction), "bad_request"))


async def on_item_error(interaction: discord.Interaction, error: Exception, what: str) -> None:
    """A button callback failed (a fault of the bot: logged in full); the clicker gets a polite reply."""
    log.error("button %s failed", what, exc_info=error)
    await reply_privately(interaction, say(_lang(interaction), "busy"))
