"""The article list of /articles and the article choices of /ask and /article set, as pure functions."""
from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime

from index.model import ArticleInfo

from . import discord_limits as L
from .citation import format_date
from .discord_limits import trim
from .discord_payloads import ANSWER_COLOUR, Payload, escape_user_text
from .discord_phrases import say
from .text_fragment import passage_link

HASHED = "sha256:"


def choice_value(article_id: str) -> str:
    """The id itself when it fits a choice value (100 characters), else a digest of it."""
    if len(article_id) <= L.CHOICE_VALUE:
        return article_id
    return HASHED + hashlib.sha256(article_id.encode()).hexdigest()[:40]


def article_choice(article: ArticleInfo, lang: str) -> tuple[str, str]:
    """An autocomplete choice: "Title · 20 novembre 2023" (cut to fit) and the id as value."""
    date = format_date(article.date, lang)
    title = " ".join(article.title.split()) or article.id
    suffix = f" · {date}" if date else ""
    name = trim(title, L.CHOICE_NAME - len(suffix)) + suffix if len(suffix) < 40 else trim(title, L.CHOICE_NAME)
    return name[: L.CHOICE_NAME], choice_value(article.id)


def find_article(value: str, articles: list[ArticleInfo]) -> ArticleInfo | None:
    """The article a typed or chosen option value names: its id, its choice value, or its exact title."""
    for a in articles:
        if value in (a.id, choice_value(a.id)) or value.strip() == a.id:
            return a
    folded = _folded(value)
    exact = next((a for a in articles if _folded(a.title) == folded), None)
    if exact is not None or not folded:
        return exact
    partial = matching_articles(value, articles, limit=2)  # sent without picking a choice: one match will do
    return partial[0] if len(partial) == 1 else None


def _folded(text: str) -> str:
    """For matching what a user types: case, accents and the kind of apostrophe do not count ("lyon prete",
    "l'ete" find "Lyon prête…", "l’été")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def matching_articles(query: str, articles: list[ArticleInfo], limit: int = L.CHOICES) -> list[ArticleInfo]:
    """Articles whose title, id or date contains every word typed so far (accents and case aside), in the
    given order (newest first)."""
    words = _folded(query).split()
    hits = [a for a in articles
            if all(w in _searchable(a) for w in words)]
    return hits[:limit]


def _searchable(a: ArticleInfo) -> str:
    date = a.date or ""
    return _folded(f"{a.title} {a.id} {date[:10]} {_day(date)}")


def _day(iso: str) -> str:
    """The date as a choice shows it, in either language ("20 novembre 2023 November 20, 2023")."""
    return f"{format_date(iso, 'fr')} {format_date(iso, 'en')}" if iso else ""


def discord_time(iso: str) -> str:
    """A Discord timestamp (each reader sees it in their own time zone), or the ISO text if unparsable."""
    try:
        return f"<t:{int(datetime.fromisoformat(iso).timestamp())}:f>"
    except (TypeError, ValueError):
        return escape_user_text(iso)


def articles_payload(articles: list[ArticleInfo], built_at: str, lang: str) -> Payload:
    """/articles: when the index was built, then each article (linked title, date), newest first."""
    if not articles:
        return Payload(content=trim(say(lang, "no_articles") + "\n" + say(lang, "articles_built", when=discord_time(built_at)),
                                    L.CONTENT))
    title = trim(say(lang, "articles_title", count=len(articles)), L.EMBED_TITLE)
    head = say(lang, "articles_built", when=discord_time(built_at))
    budget = min(L.EMBED_DESCRIPTION, L.EMBEDS_TOTAL - len(title))
    lines = [head, ""]
    used = len(head) + 1
    for n, article in enumerate(articles):
        line = _article_line(article, lang)
        more = say(lang, "articles_more", count=len(articles) - n - 1)
        if used + 1 + len(line) + (1 + len(more) if n < len(articles) - 1 else 0) > budget:
            lines.append(say(lang, "articles_more", count=len(articles) - n))
            break
        lines.append(line)
        used += 1 + len(line)
    embed = {"title": title, "description": trim("\n".join(lines), budget), "color": ANSWER_COLOUR}
    return Payload(content="", embeds=(embed,))


def _article_line(article: ArticleInfo, lang: str) -> str:
    name = trim(escape_user_text(" ".join(article.title.split()) or article.id), 200)
    link = passage_link(article.url, "", 600)
    date = format_date(article.date, lang)
    line = f"• [{name}]({link})" if link else f"• {name}"
    return line + (f" — {date}" if date else "")
