"""Which article a question names, if it names one: by its address, its id, or words of its title that no
other title holds.

A channel bound to one article sends its questions there "unless they name another" (issue 8): a mention
has no article option, so the naming is in the words. Naming must be unmistakable, since a false one
takes a question away from the article its channel is about. So the title words a question shares must
point to that one article (no other title holds them all), and they must be most of its title's words,
three of them in a row, or at least one distinctive one with a pointer: a word such as "article"
("dans l'article sur Altman, …") or quotation marks («Microsoft récupère Sam Altman»).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .model import ArticleInfo
from .text_norm import fold, term, words

# Words by which a reader points at an article rather than at what it says.
_CUES = {"article", "articles", "papier", "billet", "depeche", "reportage", "story", "piece", "post", "entree",
         "fiche", "page"}
_MOST = 0.6  # the share of a title's words a question must hold to name it without a cue
_RUN = 3  # or this many of its words in a row, as in the title ("… récupère Sam Altman, …")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_QUOTED = re.compile(r"[«“\"][^«»“”\"]{3,}[»”\"]")  # a title quoted is a title pointed at


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
    asked = [_keys(w) for w in words(question)]
    cue = any(keys & _CUES for keys in asked) or _QUOTED.search(question) is not None
    asked_keys = frozenset().union(*asked) if asked else frozenset()
    titles = {a.id: _title_words(a.title) for a in articles}
    named = []
    for a in articles:
        held = [keys for keys in titles[a.id] if keys & asked_keys]
        if not held or (len(held) < 2 and not cue):
            continue
        if not cue and len(held) < _MOST * len(titles[a.id]) and _longest_run(titles[a.id], asked) < _RUN:
            continue
        # Distinctive: no other title holds every one of those words.
        if any(all(any(keys & other for other in titles[b.id]) for keys in held) for b in articles if b.id != a.id):
            continue
        named.append(a)
    return named[0] if len(named) == 1 else None


def _longest_run(title: list[frozenset[str]], asked: list[frozenset[str]]) -> int:
    """The most title words the question holds one after the other, in the title's order."""
    best = 0
    for i in range(len(asked)):
        for j in range(len(title)):
            n = 0
            while i + n < len(asked) and j + n < len(title) and asked[i + n] & title[j + n]:
                n += 1
            best = max(best, n)
    return best
