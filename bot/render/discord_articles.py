"""The article list of /articles and the article choices of /ask and /article set, as pure functions."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
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


# Letters NFKD leaves whole: "oeuvre" finds "œuvre", "aero" finds "Ærø" (casefold already turns ß into ss).
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})


def _folded(text: str) -> str:
    """For matching what a user types: case, accents, ligatures and the kind of apostrophe do not count
    ("lyon prete", "l'ete", "oeuvre" find "Lyon prête…", "l’été", "œuvre")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().translate(_LIGATURES)
    return " ".join(bare.split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _folded(text))


def matching_articles(query: str, articles: list[ArticleInfo], limit: int = L.CHOICES) -> list[ArticleInfo]:
    """Articles where every word typed so far begins a word of the title, id or date (accents and case
    aside), in the given order (newest first). Word starts, not any substring, and a number before the
    last word is whole: "1 mars 2024" is not "11 mars 2024", while the word being typed still matches
    ("vél" finds "vélos", "202" finds 2024)."""
    words = _words(query)
    hits = []
    for a in articles:
        own = _searchable(a)
        if all(w in own or ((n == len(words) - 1 or not w.isdigit()) and any(o.startswith(w) for o in own))
               for n, w in enumerate(words)):
            hits.append(a)
            if len(hits) >= limit:
                break
    return hits


def _searchable(a: ArticleInfo) -> set[str]:
    date = a.date or ""
    return set(_words(f"{a.title} {a.id} {date[:10]} {_day(date)}"))


def _day(iso: str) -> str:
    """The date as a choice shows it, in either language ("20 novembre 2023 November 20, 2023")."""
    return f"{format_date(iso, 'fr')} {format_date(iso, 'en')}" if iso else ""


def discord_time(iso: str) -> str:
    """A Discord timestamp (each reader sees it in their own time zone), or the ISO text if unparsable."""
    try:
        return f"<t:{int(datetime.fromisoformat(iso).timestamp())}:f>"
    except (TypeError, ValueError):
        return escape_user_text(iso)


ARTICLES_PER_PAGE = 10
SEARCH_CHARS = 50  # what a page button can carry back in its custom_id (100 characters in all)


@dataclass(frozen=True)
class ArticlesPage:
    """One page of /articles, and where it sits: the buttons that turn pages are built from `page` and `pages`."""

    payload: Payload
    page: int  # the page shown, 1-based (a page past the end shows the last one)
    pages: int
    search: str  # the search as applied (one line, at most SEARCH_CHARS)


def clean_search(search: str | None) -> str:
    return " ".join((search or "").split())[:SEARCH_CHARS]


def articles_page(articles: list[ArticleInfo], built_at: str, lang: str, page: int = 1,
                  search: str | None = None) -> ArticlesPage:
    """/articles: when the index was built, then ARTICLES_PER_PAGE articles (linked title, date), newest
    first, from page `page` of those whose title, id or date holds every word of `search`."""
    search = clean_search(search)
    built = say(lang, "articles_built", when=discord_time(built_at))
    shown = matching_articles(search, articles, limit=len(articles)) if search else list(articles)
    if not shown:
        said = say(lang, "no_matching", search=escape_user_text(search)) if articles else say(lang, "no_articles")
        return ArticlesPage(Payload(content=trim(said + "\n" + built, L.CONTENT)), 1, 1, search)
    pages = -(-len(shown) // ARTICLES_PER_PAGE)
    page = min(max(page, 1), pages)
    if search:
        title = say(lang, "articles_matching", search=escape_user_text(search), count=len(shown), total=len(articles))
    else:
        title = say(lang, "articles_title", count=len(articles))
    title = trim(title, L.EMBED_TITLE)
    footer = trim(say(lang, "articles_page", page=page, pages=pages), L.FOOTER_TEXT) if pages > 1 else ""
    budget = min(L.EMBED_DESCRIPTION, L.EMBEDS_TOTAL - len(title) - len(footer))
    lines = [built, ""]
    used = len(built) + 1
    for article in shown[(page - 1) * ARTICLES_PER_PAGE: page * ARTICLES_PER_PAGE]:
        line = _article_line(article, lang)
        if used + 1 + len(line) > budget:  # long links: the rest of the page goes without theirs
            line = _article_line(article, lang, linked=False)
        lines.append(line)
        used += 1 + len(line)
    embed = {"title": title, "description": trim("\n".join(lines), budget), "color": ANSWER_COLOUR}
    if footer:
        embed["footer"] = {"text": footer}
    return ArticlesPage(Payload(content="", embeds=(embed,)), page, pages, search)


def _article_line(article: ArticleInfo, lang: str, linked: bool = True) -> str:
    name = trim(escape_user_text(" ".join(article.title.split()) or article.id), 200)
    link = passage_link(article.url, "", 600) if linked else None
    date = format_date(article.date, lang)
    line = f"• [{name}]({link})" if link else f"• {name}"
    return line + (f" — {date}" if date else "")
