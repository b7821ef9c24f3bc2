"""Which article a question names, if it names one: by its address, its id, or words of its title that no
other title holds.

A channel bound to one article sends its questions there "unless they name another" (issue 8): a mention
has no article option, so the naming is in the words. Naming must be unmistakable, since a false one
takes a question away from the article its channel is about, and questions about the same people share
words with several titles. So the title words must point to that one article (no other title holds them
all), and either they are nearly all of its title, or the question points at an article: "l'article sur
Altman", "the piece about Lyon" (not "cet article", which is the channel's own), or the title quoted
(«Microsoft récupère Sam Altman»; only the quoted words count then).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .model import ArticleInfo
from .text_norm import fold, term, words

_MOST = 0.8  # the share of a title's words a question must hold to name it without pointing at it
_MIN_WORDS = 3  # and at least this many
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_QUOTED = re.compile(r"[«“\"]([^«»“”\"]{3,})[»”\"]")
# "l'article sur …", "le reportage consacré à …", "the article about …" (folded text); not "cet article".
_POINTER = re.compile(r"(?<!\bcet )(?<!\bce )(?<!\bthis )(?<!\bthat )"
                      r"\b(?:article|papier|reportage|depeche|piece|story)s?\s+"
                      r"(?:sur|about|on|concernant|consacre\w*\s+a|qui\s+parle\s+de)\b")


def _keys(word: str) -> frozenset[str]:
    """A word's folded stems in both languages: "vélos" meets "vélo", "fired" meets "fires"."""
    return frozenset({term(word, "fr"), term(word, "en"), fold(word)})


def _title_words(title: str) -> list[frozenset[str]]:
    seen, out = set(), []
    for w in words(title):
        if len(w) < 2 and not w.isdigit():
            continue
        keys = _keys(w)
        if not keys & seen:
            seen |= keys
            out.append(keys)
    return out


def _address(url: str) -> str:
    return fold(url.split("#", 1)[0].rstrip("/").split("://", 1)[-1])


def named_article(question: str, articles: Sequence[ArticleInfo]) -> ArticleInfo | None:
    """The one article `question` names, or None when it names none or cannot be told from another."""
    if len(articles) < 2:
        return None
    urls = {_address(u) for u in _URL.findall(question)}
    by_address = [a for a in articles if a.url and _address(a.url) in urls]
    if len(by_address) == 1:
        return by_address[0]
    tokens = set(re.findall(r"[\w-]+", fold(question)))
    by_id = [a for a in articles if ("-" in a.id or any(c.isdigit() for c in a.id)) and fold(a.id) in tokens]
    if len(by_id) == 1:
        return by_id[0]
    titles = {a.id: _title_words(a.title) for a in articles}
    quoted = " ".join(_QUOTED.findall(question))
    if quoted:  # only what is quoted
        return _unique(articles, titles, _all_keys(quoted), lambda held, title: bool(held))
    pointed = _POINTER.search(" ".join(fold(question).split())) is not None
    return _unique(articles, titles, _all_keys(question),
                   lambda held, title: bool(held) if pointed
                   else len(held) >= max(_MIN_WORDS, _MOST * len(title)) or len(held) == len(title) >= 2)


def _all_keys(text: str) -> frozenset[str]:
    return frozenset().union(*(_keys(w) for w in words(text)))


def _unique(articles, titles, asked: frozenset[str], enough) -> ArticleInfo | None:
    """The one article whose title words the question holds `enough` of, no other title holding them all."""
    named = []
    for a in articles:
        held = [keys for keys in titles[a.id] if keys & asked]
        if not held or not enough(held, titles[a.id]):
            continue
        if any(all(any(keys & other for other in titles[b.id]) for keys in held) for b in articles if b.id != a.id):
            continue
        named.append(a)
    return named[0] if len(named) == 1 else None
