"""Answer -> Discord message payload, as pure functions.

Payloads are plain dicts in Discord's JSON shape (the cog turns them into `discord.Embed`s), so
they can be property-tested against Discord's limits without a client. Every string that can
grow goes through `discord_limits.trim`; user-typed text goes through `escape_user_text`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from discord.utils import escape_mentions

from index.model import Answer, Hit

from . import discord_limits as L
from .discord_limits import trim
from .discord_phrases import say

from .absent_fact import absent_fact_sentence
from .citation import article_name, cite
from .quote import excerpt
from .text_fragment import URL_MAX, passage_link

ANSWER_COLOUR = 0x2B6CB0
ABSTAIN_COLOUR = 0x718096
MAX_QUOTE_CHARS = 900  # per quoted passage in an answer; the full passage is in /source
_INLINE_MARKDOWN = re.compile(r"([\\*_~|`\[\]<>])")
_LINE_START = re.compile(r"^([#>\-+])")
_NUMBERED = re.compile(r"^(\d+)\.")  # "1. …" would start a list: "1\. …" (a backslash before a digit shows)
_PASSAGE_MARKDOWN = re.compile(r"([\\*_~|`\[])")


@dataclass(frozen=True)
class Payload:
    """A message body: what `send`/`edit` receive as content and embeds."""

    content: str = ""
    embeds: tuple[dict, ...] = field(default_factory=tuple)


def escape_user_text(text: str) -> str:
    """Text a user typed, made inert: one line, no markdown, no pings, no masked links.

    Every markdown character is escaped (discord.utils.escape_markdown skips text after a masked
    link), then discord.utils.escape_mentions breaks @everyone, @here and id mentions.
    """
    one_line = " ".join(text.split())
    safe = escape_mentions(_INLINE_MARKDOWN.sub(r"\\\1", one_line))
    return _NUMBERED.sub(r"\1\\.", _LINE_START.sub(r"\\\1", safe))


def plain_user_text(text: str) -> str:
    """Text a user typed, for where Discord shows text as is (embed footers): one line, nothing escaped,
    since a backslash would show there and nothing in a footer formats or pings."""
    return " ".join(text.split())


def literal(text: str) -> str:
    """Article text shown as written: its * _ ~ | ` [ \\ are escaped so Discord does not format them."""
    return _PASSAGE_MARKDOWN.sub(r"\\\1", text)


def _bold(before: str, sentence: str, after: str) -> str:
    """before + **sentence** + after, all literal; whitespace stays outside the markers or Discord
    does not render the bold."""
    core = sentence.strip()
    if not core:
        return literal(before + sentence + after)
    lead = sentence[: len(sentence) - len(sentence.lstrip())]
    tail = sentence[len(sentence.rstrip()):]
    return f"{literal(before)}{lead}**{literal(core)}**{tail}{literal(after)}"


def emphasised(hit: Hit) -> str:
    """The whole passage, verbatim, with the best-matching sentence in bold."""
    text = hit.passage.text
    start, end = hit.highlight
    if not 0 <= start < end <= len(text):
        return literal(text)
    return _bold(text[:start], text[start:end], text[end:])


def bold_excerpt(hit: Hit, max_chars: int) -> str:
    """A verbatim excerpt around the best sentence, that sentence in bold."""
    ex = excerpt(hit, max_chars - 4)
    return _bold(ex.before, ex.sentence, ex.after)


def short_build(build_id: str) -> str:
    return trim(build_id, 40)


def answer_payload(answer: Answer, answer_id: int, *, name_articles: bool = False, notice: str = "") -> Payload:
    """The public reply: the question, the quoted passages with citations, and where to see sources.

    `name_articles` (the corpus has several): every citation names its article (title and date).
    A citation whose article URL is known links to the passage itself (a URL text fragment).
    `notice`: a line said before the quotes (a stale channel binding).
    """
    lang = answer.language
    title = trim(escape_user_text(answer.question), L.EMBED_TITLE)
    footer = trim(say(lang, "answer_footer", id=answer_id, build=short_build(answer.build_id)), L.FOOTER_TEXT)
    budget = min(L.EMBED_DESCRIPTION, L.EMBEDS_TOTAL - len(title) - len(footer))
    head = ""
    if notice:
        head = trim(escape_mentions(notice), budget // 4) + "\n\n"
        budget -= len(head)
    if answer.answered and answer.quoted:
        intro = say(lang, "intro")
        description = intro + "\n" + _quotes_block(answer.quoted, lang, budget - len(intro) - 1, name_articles)
        colour = ANSWER_COLOUR
    else:
        absent = absent_fact_sentence(answer, escape_user_text)  # "The article mentions X but does not give…"
        description = trim(f"{absent} {say(lang, 'closest_in_sources')}" if absent else say(lang, "not_found"), budget)
        colour = ABSTAIN_COLOUR
    embed = {"title": title, "description": head + description, "footer": {"text": footer}, "color": colour}
    return Payload(content="", embeds=(embed,))


def citation_line(hit: Hit, lang: str, name_articles: bool, max_chars: int) -> str:
    """"— *Article · Section ¶2*", then the article's title and date when several articles are served,
    linked to the passage when its URL is known and the link fits in `max_chars` with the rest."""
    loc = hit.passage.location
    where = trim(cite(loc, lang), 200)
    label = trim(escape_user_text(article_name(loc, lang)), 200) if name_articles else ""
    fixed = len(where) + len(label) + 12  # "— *[…](…)* · […](…)"
    link = passage_link(loc.doc_url, hit.passage.text, min(URL_MAX, max_chars - fixed)) if max_chars > fixed else None
    if name_articles:
        return f"— *{where}* · [{label}]({link})" if link else f"— *{where}* · {label}"
    return f"— *[{where}]({link})*" if link else f"— *{where}*"


def _quotes_block(hits: tuple[Hit, ...], lang: str, budget: int, name_articles: bool = False) -> str:
    hits = hits[: L.EMBEDS_PER_MESSAGE]
    per_citation = max(0, budget // max(len(hits), 1) // 3)  # links never take more than a third of a share
    citations = [citation_line(h, lang, name_articles, per_citation) for h in hits]
    separators = 2 * (len(hits) - 1)
    room = budget - sum(len(c) + 1 for c in citations) - separators
    per_quote = max(40, min(MAX_QUOTE_CHARS, room // max(len(hits), 1)))
    blocks = []
    for hit, citation in zip(hits, citations):
        text = bold_excerpt(hit, per_quote)
        lines = [ln for ln in text.splitlines() if ln.strip()] or [text]
        quoted = "\n".join("> " + ln for ln in lines)
        # "> " prefixes can push a quote past its share: trim the quote, never the citation.
        quoted = trim(quoted, per_quote + 2 * len(lines))
        blocks.append(f"{quoted}\n{citation}")
    return trim("\n\n".join(blocks), budget)


def sources_payload(answer: Answer, answer_id: int, asker: str, shared_by: str | None = None, *,
                    name_articles: bool = False) -> Payload:
    """/source: each cited passage in full (matched sentence in bold), its location, score and build.

    When the answer abstained, the closest passage is shown instead, labelled as not an answer.
    Each embed's title links to the passage when its article's URL is known; with several articles
    served, an "Article" field names it (title and date).
    """
    lang = answer.language
    cited = bool(answer.answered and answer.quoted)
    hits = (answer.quoted if cited else answer.hits[:1])[: L.EMBEDS_PER_MESSAGE]
    if shared_by is None:
        content = say(lang, "sources_title", id=answer_id, question=escape_user_text(answer.question))
    else:
        content = say(lang, "shared_by", id=answer_id, user=escape_user_text(shared_by))
    content = trim(content, L.CONTENT)
    if not hits:
        return Payload(content=trim(content + "\n" + say(lang, "not_found"), L.CONTENT))
    label = say(lang, "cited" if cited else "closest")
    footer = trim(
        say(lang, "sources_footer", id=answer_id, asker=plain_user_text(asker), build=short_build(answer.build_id)),
        L.FOOTER_TEXT,
    )
    heads = []
    for hit in hits:
        title = trim(cite(hit.passage.location, lang), L.EMBED_TITLE)
        fields = [
            {"name": say(lang, "score"), "value": f"{hit.score:.3f}", "inline": True},
            {"name": say(lang, "rank"), "value": f"{hit.rank} · {label}", "inline": True},
        ]
        if name_articles:
            name = trim(escape_user_text(article_name(hit.passage.location, lang)), L.FIELD_VALUE)
            fields.insert(0, {"name": say(lang, "article"), "value": name, "inline": False})
        heads.append((title, fields))
    fixed = len(footer) + sum(len(t) + sum(len(f["name"]) + len(f["value"]) for f in fs) for t, fs in heads)
    per_description = min(L.EMBED_DESCRIPTION, (L.EMBEDS_TOTAL - fixed) // len(hits))
    embeds = []
    for i, (hit, (title, fields)) in enumerate(zip(hits, heads)):
        embed = {
            "title": title,
            "description": trim(emphasised(hit), per_description),
            "fields": fields,
            "color": ANSWER_COLOUR if cited else ABSTAIN_COLOUR,
        }
        link = passage_link(hit.passage.location.doc_url, hit.passage.text)
        if link:
            embed["url"] = link
        if i == len(hits) - 1:
            embed["footer"] = {"text": footer}
        embeds.append(embed)
    return Payload(content=content, embeds=tuple(embeds))


def notice_payload(text: str) -> Payload:
    """A short message with no embed (cooldowns, errors, confirmations); never a ping, whatever it quotes."""
    return Payload(content=trim(escape_mentions(text), L.CONTENT))


def answer_choice(answer_id: int, question: str) -> tuple[str, str]:
    """An autocomplete choice for /source: a readable name and the answer id as value."""
    name = trim(f"#{answer_id} · {' '.join(question.split())}", L.CHOICE_NAME)
    return name, str(answer_id)
