"""The conversation: /ask, /source (with autocomplete), @mentions, and what the buttons do.

Each question follows one path (`_answer`): checks, then the worker, then the store, then a
rendered payload. Discord objects stay here; rendering is pure (bot.render), retrieval is behind
the worker (bot.discord_app.worker).
Which article a question goes to: the one it names (/ask's `article` option), else the channel's or
thread's binding (bot.discord_app.bindings) unless the question's words name another article
(index.named_article), else every article.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, Optional

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.discord_articles import article_choice, find_article, matching_articles
from bot.render.discord_payloads import (
    Payload,
    answer_choice,
    answer_payload,
    escape_user_text,
    notice_payload,
    sources_payload,
)
from bot.render.discord_limits import trim
from bot.render.discord_phrases import lang_of_locale, say
from index.errors import DatabaseUnavailable, UnknownArticle, VerbatimError
from index.language import detect_language
from index.model import Answer, ArticleInfo

from .answers_keeper import PendingAnswer, StoreBusy
from .answers_store import StoredAnswer
from .buttons import answer_view, share_view
from .delivery import acknowledge, deliver, reply_privately, reply_to

if TYPE_CHECKING:
    from .client import VerbatimBot

log = logging.getLogger(__name__)

QUESTION_MAX_CHARS = 1000  # the slash option's cap; the cog sets it from the index settings at load


def send_kwargs(payload: Payload) -> dict:
    return {"content": payload.content or None, "embeds": [discord.Embed.from_dict(e) for e in payload.embeds]}


def visible_in(stored: "StoredAnswer | PendingAnswer", guild_id: int | None, channel_id: int | None) -> bool:
    """An answer is shown only where it was asked: its server, or its DM channel."""
    if stored.guild_id is not None:
        return stored.guild_id == guild_id
    return stored.channel_id == channel_id


def channel_and_parent(channel: object) -> tuple[int, int | None, bool]:
    """(channel or thread id, its parent channel's id for a thread, whether it is a thread)."""
    if isinstance(channel, discord.Thread):
        return channel.id, channel.parent_id, True
    return getattr(channel, "id", 0) or 0, None, False


_ANSWER_NUMBER = re.compile(r"(?:#|n[°o]\.?\s*)?(\d{1,18})(?:\s+·\s.*)?", re.IGNORECASE | re.DOTALL)


def readable(text: str) -> bool:
    """False for text that is not valid Unicode (a lone surrogate, which a raw API call can send)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def guess_lang(text: str, fallback: str = "en") -> str:
    """For replies sent before there is an Answer (whose own language then decides)."""
    return detect_language(text, default=fallback) if text.strip() and readable(text) else fallback


def _reason(error: BaseException) -> str:
    """One line for the log: a deadline has no message of its own."""
    return str(error) or error.__class__.__name__


def article_choices(articles: list[ArticleInfo], current: str, lang: str) -> list[app_commands.Choice[str]]:
    """Autocomplete over titles, newest first (the order of `Retriever.articles()`)."""
    return [app_commands.Choice(name=name, value=value)
            for name, value in (article_choice(a, lang) for a in matching_articles(current, articles))]


class AskCog(commands.Cog):
    def __init__(self, bot: "VerbatimBot"):
        self.bot = bot
        # The option's max length follows the configured cap (so changing it re-syncs the commands).
        self.ask_command.get_parameter("question")  # fails loudly if the parameter is renamed
        self.ask_command._params["question"].max_value = bot.max_question_chars

    # ----- checks shared by every entry point -------------------------------------------------

    async def _refusal(self, question: str, user_id: int, guild_id: int | None, lang: str) -> str | None:
        """The polite reply for a question that must not run now, or None to go ahead.

        With shared limits this is a question's first trip to the database: when it is down, the asker
        is told to try again in a moment (and the next question tries again: nothing to restart)."""
        stripped = question.strip()
        if not readable(stripped):
            return say(lang, "unreadable")
        if not stripped or not any(c.isalnum() for c in stripped):  # "?", "🤔🤔": nothing to search for
            return say(lang, "empty")
        if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in stripped):
            return say(lang, "unreadable")
        if len(stripped) > self.bot.max_question_chars:
            return say(lang, "too_long", length=len(stripped), limit=self.bot.max_question_chars)
        try:
            refusal = await self.bot.limits.check(user_id, guild_id)
        except (DatabaseUnavailable, asyncio.TimeoutError) as e:
            log.warning("question refused for now: the limits cannot be checked (%s)", _reason(e))
            return say(lang, "unavailable")
        except Exception:
            log.exception("checking the limits failed")
            return say(lang, "unavailable")
        if refusal is not None:
            return say(lang, refusal.reason, seconds=refusal.seconds)
        return None

    # ----- articles -----------------------------------------------------------------------------

    def articles(self) -> list[ArticleInfo]:
        """The current build's articles, newest first (read from the loaded build: no worker round trip)."""
        retriever = self.bot.worker.retriever
        return retriever.articles() if retriever is not None else []

    def several_articles(self) -> bool:
        return len(self.articles()) > 1

    def names_articles(self, answer: Answer) -> bool:
        """Whether a stored answer's citations name their article: when the index has several, and also when
        it quotes an article the index no longer holds (else, with one other article left, a reader would
        take the old quotes for that one's)."""
        ids = {a.id for a in self.articles()}
        return len(ids) > 1 or any(h.passage.location.doc_id not in ids for h in answer.hits)

    async def _bound_article(self, channel: object) -> tuple[str | None, bool | str]:
        """(the article the channel or thread is bound to, whether that binding is stale: True for a channel's,
        "thread" for the article a thread remembered, forgotten here so that this answer's article is remembered)."""
        channel_id, parent_id, _ = channel_and_parent(channel)
        binding = await self.bot.bindings.resolve(channel_id, parent_id)
        if binding is None:
            return None, False
        if any(a.id == binding.article_id for a in self.articles()):
            return binding.article_id, False
        if binding.origin == "thread":  # a thread's remembered article left the index: start afresh, and say so
            await asyncio.to_thread(self.bot.bindings.forget, binding.channel_id, binding.article_id)
            return None, "thread"
        return None, True

    async def _answer(self, question: str, scope: str, *, user: discord.abc.User, guild_id: int | None,
                      channel: object, lang: str, article: str | None = None,
                      named: bool = False) -> tuple[Payload, discord.ui.View | None]:
        """Ask the worker, store the answer, render it. Errors become a one-line reply, never silence.

        `article`: the article the question names (`named`) or, if not named, the channel's binding;
        without either, the channel's binding is looked up here.
        """
        channel_id, _, in_thread = channel_and_parent(channel)
        stale = False
        if article is None and not named:
            try:
                article, stale = await self._bound_article(channel)
            except (DatabaseUnavailable, asyncio.TimeoutError) as e:  # answer from every article rather than not at all
                log.warning("the article binding of channel %s cannot be read (%s)", channel_id, _reason(e))
            except Exception:  # the bindings table unreadable: answer from every article rather than not at all
                log.exception("reading the article binding of channel %s failed", channel_id)
            bound = article is not None
            if bound:  # "unless they name another": a mention has no article option, so the naming is in its words
                retriever = self.bot.worker.retriever
                other = retriever.named_article(question) if retriever is not None else None
                if other is not None and other.id != article:
                    log.info("a question in channel %s names article %s over its own %s", channel_id, other.id, article)
                    article, stale = other.id, False
        else:
            bound = False
        try:
            try:
                answer = await self.bot.worker.ask(question.strip(), scope, article)
            except UnknownArticle:
                if named:  # the index changed since the option was checked
                    return notice_payload(say(lang, "unknown_article")), None
                stale = True  # the bound article left the index between the check and the question
                answer = await self.bot.worker.ask(question.strip(), scope, None)
        except VerbatimError as e:
            return notice_payload(say(lang, "failed", reason=escape_user_text(str(e)))), None
        except Exception:
            log.exception("answering %r failed", question[:200])
            return notice_payload(say(lang, "busy")), None
        if answer.language != lang and detect_language(question, default=None) is None:
            # "Emmett Shear?", "Wer ist Emmett Shear?": no French or English word to tell by, so the asker's
            # locale decides, as it does for every reply before the answer
            answer = replace(answer, language=lang)
        # Numbered now, stored by the writer thread: a locked or failing store never costs the answer.
        # (A shared store numbers it in the database: if that is down right now, say so politely.)
        try:
            answer_id = await self.bot.answers.new_id()
        except StoreBusy:
            return notice_payload(say(lang, "unavailable")), None
        self.bot.answers.save_answer(answer_id, answer, guild_id=guild_id, channel_id=channel_id, asker_id=user.id,
                                     asker_name=user.display_name)
        log.info("answer #%d (%s, %.0f ms, build %s, article %s)", answer_id,
                 "quoted" if answer.answered else "abstained", answer.took_ms, answer.build_id, answer.article_id)
        if in_thread and not bound and stale is not True and answer.answered and answer.article_id:
            try:
                await self.bot.bindings.remember_thread(channel_id, guild_id, answer.article_id)
            except (DatabaseUnavailable, asyncio.TimeoutError) as e:
                log.warning("the article of thread %s was not remembered (%s)", channel_id, _reason(e))
            except Exception:  # the answer still goes out; only the follow-ups lose the thread's article
                log.exception("remembering the article of thread %s failed", channel_id)
        notice = say(answer.language, "stale_thread" if stale == "thread" else "stale_binding") if stale else ""
        payload = answer_payload(answer, answer_id, name_articles=self.several_articles(), notice=notice)
        return payload, answer_view(answer_id, answer.language)

    # ----- /ask -------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask a question about the article; the answer quotes it verbatim.")
    @app_commands.describe(question="Your question, in French or English", scope="Where to look (default: everywhere)",
                           article="Which article (default: this channel's, else all of them)")
    async def ask_command(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
                          scope: Literal["all", "article", "comments"] = "all",
                          article: Optional[app_commands.Range[str, 1, 100]] = None) -> None:
        received = time.monotonic()
        question = as_shown(question, _guild_lookup(interaction.guild)) or question
        lang = guess_lang(question, lang_of_locale(interaction.locale))
        if self.bot.inflight.closing:
            await acknowledge(interaction.response.send_message(say(lang, "restarting_new"), ephemeral=True),
                              received, "a question asked during shutdown")
            return
        if not self.bot.config.allows(interaction.guild_id, interaction.channel_id, channel_and_parent(interaction.channel)[1]):
            await interaction.response.send_message(say(lang, "not_allowed"), ephemeral=True)
            return
        chosen = None
        if article is not None:
            chosen = find_article(article, self.articles())
            if chosen is None:
                await interaction.response.send_message(**send_kwargs(notice_payload(say(lang, "unknown_article"))),
                                                        ephemeral=True)
                return
        refusal = await self._refusal(question, interaction.user.id, interaction.guild_id, lang)
        if refusal:
            await acknowledge(interaction.response.send_message(**send_kwargs(notice_payload(refusal)), ephemeral=True),
                              received, "a refusal")
            return
        # Within Discord's 3 s; the answer may take longer. If even that fails, the answer goes to the channel.
        deferred = await acknowledge(interaction.response.defer(thinking=True), received, f"/ask {interaction.id}")
        if self.bot.inflight.closing:  # SIGTERM arrived while deferring
            await deliver(interaction, {"content": say(lang, "restarting"), "embeds": []}, None, acknowledged=deferred)
            return
        channel = interaction.channel or discord.Object(interaction.channel_id or 0)
        tell = lambda: interaction.edit_original_response(content=say(lang, "restarting"), embeds=[], view=None)
        async with self.bot.inflight.track(tell) as job:
            payload, view = await self._answer(question, scope, user=interaction.user, guild_id=interaction.guild_id,
                                               channel=channel, lang=lang, article=chosen.id if chosen else None,
                                               named=chosen is not None)
            job.delivering = True
            await deliver(interaction, send_kwargs(payload), view, acknowledged=deferred)

    @ask_command.autocomplete("article")
    async def article_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return article_choices(self.articles(), current, lang_of_locale(interaction.locale))

    # ----- /source ----------------------------------------------------------------------------

    @app_commands.command(name="source", description="Show the passages an answer quoted, in full, with scores.")
    @app_commands.describe(answer="Answer number (default: the latest answer in this channel)")
    async def source_command(self, interaction: discord.Interaction, answer: Optional[app_commands.Range[str, 1, 100]] = None) -> None:
        lang = lang_of_locale(interaction.locale)
        if not self.bot.config.allows(interaction.guild_id, interaction.channel_id, channel_and_parent(interaction.channel)[1]):
            await interaction.response.send_message(say(lang, "not_allowed"), ephemeral=True)
            return
        if answer is None:
            channel_id = interaction.channel_id or 0
            try:
                stored = await self.bot.answers.latest_in_channel(channel_id)
            except StoreBusy:
                await reply_privately(interaction, say(lang, "store_busy"))
                return
            pending = self.bot.answers.latest_pending_in(channel_id)
            if pending is not None and (stored is None or pending > stored.id):
                await self.show_sources(interaction, pending)  # not stored yet: served from memory
                return
            if stored is None:
                await interaction.response.send_message(say(lang, "no_answer_yet"), ephemeral=True)
                return
            await self.show_sources(interaction, stored.id, known=stored)  # read once: the 3 s window is short
            return
        number = _ANSWER_NUMBER.fullmatch(answer.strip())  # "12", "#12", "n° 12", or a choice's "#12 · question"
        if number is None:
            await interaction.response.send_message(
                say(lang, "unknown_answer", id=escape_user_text(trim(answer.strip(), 40))), ephemeral=True)
            return
        await self.show_sources(interaction, int(number.group(1)))

    @source_command.autocomplete("answer")
    async def source_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        try:
            rows = await self.bot.answers.recent(channel_id=interaction.channel_id or 0, guild_id=interaction.guild_id,
                                                 query=current.lstrip("#"))
        except StoreBusy:
            rows = []
        except Exception:  # suggestions are a convenience: an empty list beats "Loading options failed"
            log.exception("suggesting answers for /source failed")
            rows = []
        return [app_commands.Choice(name=name, value=value) for name, value in (answer_choice(i, q) for i, q in rows)]

    # ----- what the buttons do (also used by /source) -------------------------------------------

    async def _stored_here(self, interaction: discord.Interaction, answer_id: int) -> StoredAnswer | None:
        """The stored answer if it may be shown here; None after a polite reply saying why not.

        An answer delivered but not stored yet (the writer thread is behind, or the file is locked) is
        served from the keeper's memory: the asker should never see "not saved" for their own answer.
        """
        lang = lang_of_locale(interaction.locale)
        pending = self.bot.answers.pending(answer_id)
        if pending is not None and visible_in(pending, interaction.guild_id, interaction.channel_id):
            return pending.stored
        try:
            stored = await self.bot.answers.get(answer_id)
        except StoreBusy:
            await reply_privately(interaction, say(lang, "store_busy"))
            return None
        if stored is None or not visible_in(stored, interaction.guild_id, interaction.channel_id):
            await interaction.response.send_message(say(lang, "unknown_answer", id=answer_id), ephemeral=True)
            return None
        return stored

    async def show_sources(self, interaction: discord.Interaction, answer_id: int,
                           known: StoredAnswer | None = None) -> None:
        """`known`: the answer, already read from the store for this channel (not read again)."""
        stored = known if known is not None else await self._stored_here(interaction, answer_id)
        if stored is None:
            return
        payload = sources_payload(stored.answer, stored.id, stored.asker_name, name_articles=self.names_articles(stored.answer))
        await interaction.response.send_message(**send_kwargs(payload), ephemeral=True,
                                                view=share_view(stored.id, stored.answer.language))

    async def share_sources(self, interaction: discord.Interaction, answer_id: int) -> None:
        stored = await self._stored_here(interaction, answer_id)
        if stored is None:
            return
        payload = sources_payload(stored.answer, stored.id, stored.asker_name, shared_by=interaction.user.display_name,
                                  name_articles=self.names_articles(stored.answer))
        await interaction.response.send_message(**send_kwargs(payload), ephemeral=False)

    async def record_vote(self, interaction: discord.Interaction, answer_id: int, vote: int) -> None:
        pending = self.bot.answers.pending(answer_id)
        if pending is not None and visible_in(pending, interaction.guild_id, interaction.channel_id):
            # The writer stores in order: the vote lands right after its answer.
            self.bot.answers.save_vote(answer_id, interaction.user.id, vote)
            await interaction.response.send_message(say(lang_of_locale(interaction.locale), "thanks"), ephemeral=True)
            return
        stored = await self._stored_here(interaction, answer_id)
        if stored is None:
            return
        self.bot.answers.save_vote(answer_id, interaction.user.id, vote)
        log.info("feedback %+d on answer #%d", vote, answer_id)
        # the thanks go to the voter, in the voter's language (the answer may be in the asker's)
        await interaction.response.send_message(say(lang_of_locale(interaction.locale), "thanks"), ephemeral=True)

    # ----- @mentions and answer channels --------------------------------------------------------

    def _question_in(self, message: discord.Message) -> str | None:
        return question_in(message, self.bot.user, self.bot.config.answer_channels)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        question = self._question_in(message)
        if question is None:
            return
        try:
            await self._on_question(message, question)
        except Exception:  # a question is never met with silence, whatever broke
            log.exception("answering message %s failed", message.id)
            lang = lang_of_locale(message.guild.preferred_locale if message.guild else None)
            try:
                await reply_to(message, say(lang, "busy"))
            except (discord.HTTPException, OSError, RuntimeError) as e:
                log.warning("could not tell message %s something went wrong (%s)", message.id, e.__class__.__name__)

    async def _on_question(self, message: discord.Message, question: str) -> None:
        self.bot.departure.replying()  # whatever this replies is let finish before the bot leaves
        guild_id = message.guild.id if message.guild else None
        locale = message.guild.preferred_locale if message.guild else None
        lang = guess_lang(question, lang_of_locale(locale))
        if not self.bot.config.allows(guild_id, message.channel.id, channel_and_parent(message.channel)[1]):
            # Not a word in public where the server's admins keep the bot out (/ask says so, privately).
            log.info("ignored a mention in channel %s (not allowed)", message.channel.id)
            return
        if self.bot.inflight.closing:
            await reply_to(message, say(lang, "restarting_new"))
            return
        refusal = await self._refusal(question, message.author.id, guild_id, lang)
        if refusal:
            await reply_to(message, **send_kwargs(notice_payload(refusal)))
            return
        if self.bot.inflight.closing:  # SIGTERM arrived during the checks (shared limits can take a moment)
            await reply_to(message, say(lang, "restarting_new"))
            return
        tell = lambda: reply_to(message, say(lang, "restarting"))
        async with self.bot.inflight.track(tell) as job:
            async with typing_in(message.channel):
                payload, view = await self._answer(question, "all", user=message.author, guild_id=guild_id,
                                                   channel=message.channel, lang=lang)
            job.delivering = True
            kwargs = send_kwargs(payload)
            if view is not None:
                kwargs["view"] = view
            await reply_to(message, **kwargs)


@contextlib.asynccontextmanager
async def typing_in(channel):
    """"Verbatim is typing…" while the answer is made, if Discord lets it: the indicator is a courtesy, so
    its failure (an error, a rate limit) must not cost the asker the answer."""
    typing = channel.typing()
    try:
        await asyncio.wait_for(typing.__aenter__(), 2.0)
        entered = True
    except Exception as e:  # noqa: BLE001 - HTTP, transport, timeout: answer without the indicator
        log.info("no typing indicator in channel %s (%s)", getattr(channel, "id", "?"), e.__class__.__name__)
        entered = False
    try:
        yield
    finally:
        if entered:
            await typing.__aexit__(None, None, None)


def question_in(message: discord.Message, me: discord.abc.User | None, answer_channels) -> str | None:
    """The question a message asks the bot, or None if it is not for the bot: it mentions the bot (in its text,
    as a reply that pings it, or through the bot's own role), it is a direct message, or it ends with "?" in
    an answer channel."""
    if me is None or message.author.bot or message.webhook_id is not None:
        return None
    content = message.content or ""
    own_role = message.guild.self_role if message.guild is not None else None
    mention = re.compile(rf"<@!?{me.id}>" + (rf"|<@&{own_role.id}>" if own_role is not None else ""))
    addressed = mention.search(content) is not None or any(u.id == me.id for u in message.mentions) \
        or (own_role is not None and own_role in message.role_mentions) \
        or isinstance(message.channel, discord.DMChannel)
    if addressed and content.strip():
        return _as_shown_in(mention.sub(" ", content), message)
    if message.channel.id in answer_channels:
        shown = _as_shown_in(content, message)  # "<#…> ?" with a channel it cannot name is only "?"
        if shown.endswith("?") and any(c.isalnum() for c in shown):  # "?" or "😂?" in a busy channel asks nothing
            return shown
    return None


_MARKUP = re.compile(r"<(@[!&]?|#)(\d{15,21})>|<a?:(\w{2,32}):\d{15,21}>")


def _as_shown_in(text: str, message: discord.Message) -> str:
    """The question as the asker saw it: "<@123…>" is "@Bob", "<#…>" "#général", a custom emoji ":name:"
    (its digits are no words of the question, and its echo reads as typed); one not resolved is left out."""
    people = {u.id: u.display_name for u in message.mentions}
    roles = {r.id: r.name for r in message.role_mentions}
    channels = {c.id: getattr(c, "name", "") for c in message.channel_mentions}
    return as_shown(text, lambda kind, id_: (channels if kind == "#" else roles if kind == "@&" else people).get(id_))


def as_shown(text: str, lookup) -> str:
    """`text` with mention and emoji markup as Discord shows it; `lookup(kind, id)` names a mention ("@", "@!",
    "@&" or "#") or returns None."""
    def name(m: re.Match) -> str:
        if m.group(3):
            return f":{m.group(3)}:"
        kind = m.group(1)
        found = lookup(kind, int(m.group(2)))
        return f"{'#' if kind == '#' else '@'}{found}" if found else " "

    return " ".join(_MARKUP.sub(name, text).split())


def _guild_lookup(guild: discord.Guild | None):
    """Names from the guild's cache (a slash option's text comes with no resolved mentions)."""
    def lookup(kind: str, id_: int) -> str | None:
        if guild is None:
            return None
        found = guild.get_channel_or_thread(id_) if kind == "#" else guild.get_role(id_) if kind == "@&" \
            else guild.get_member(id_)
        return getattr(found, "display_name", None) or getattr(found, "name", None)
    return lookup
