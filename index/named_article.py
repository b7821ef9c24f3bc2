"""Which article a question names, if it names one: by its address, its id, or words of its title that no
other title holds.

A channel bound to one article sends its questions there "unless they name another" (issue 8): a mention
has no article option, so the naming is in the words. Naming must be unmistakable, since a false one
takes a question away from the article its channel is about, and questions about the same people share
words with several titles. So the title words must point to that one article (no other title holds them
all), and either they are nearly all of its title, or the question points at an article: "l'article sur
Altman, …", "the piece about Lyon" (only the words of that phrase count; not "cet article", which is the
channel's own), or the title quoted («Microsoft récupère Sam Altman»; only the quoted words count).
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


class ArticleNames:
    """The titles, ids and addresses of a build's articles, indexed once (a build's articles do not change):
    telling whether a question names one then costs a few look-ups, not a pass over every title."""

    def __init__(self, articles: Sequence[ArticleInfo]):
        self.articles = tuple(articles)
        self._by_address: dict[str, list[ArticleInfo]] = {}
        self._by_id: dict[str, ArticleInfo] = {}
        self._titles: dict[str, list[frozenset[str]]] = {}
        self._holding: dict[str, set[str]] = {}  # a word's key -> the ids of the titles holding that word
        if len(self.articles) < 2:
            return
        for a in self.articles:
            if a.url:
                self._by_address.setdefault(_address(a.url), []).append(a)
            if "-" in a.id or any(c.isdigit() for c in a.id):
                self._by_id[fold(a.id)] = a
            self._titles[a.id] = _title_words(a.title)
            for keys in self._titles[a.id]:
                for key in keys:
                    self._holding.setdefault(key, set()).add(a.id)
        self._index = {a.id: a for a in self.articles}

    def named(self, question: str) -> ArticleInfo | None:
        """The one article `question` names, or None when it names none or cannot be told from another."""
        if len(self.articles) < 2:
            return None
        by_address = {a.id: a for u in _URL.findall(question) for a in self._by_address.get(_address(u), [])}
        if len(by_address) == 1:
            return next(iter(by_address.values()))
        by_id = {self._by_id[t].id for t in set(re.findall(r"[\w-]+", fold(question))) if t in self._by_id}
        if len(by_id) == 1:
            return self._index[by_id.pop()]
        quoted = " ".join(_QUOTED.findall(question))
        if quoted:  # only what is quoted
            return self._unique(_all_keys(quoted), lambda held, title: bool(held))
        folded = " ".join(fold(question).split())
        pointer = _POINTER.search(folded)
        if pointer is not None:  # what follows it, to the end of the phrase ("l'article sur Sam Altman, qui …")
            return self._unique(_all_keys(re.split(r"[,;:?!.]", folded[pointer.end():], maxsplit=1)[0]),
                                lambda held, title: bool(held))
        return self._unique(_all_keys(question),
                            lambda held, title: len(held) >= max(_MIN_WORDS, _MOST * len(title))
                            or len(held) == len(title) >= 2)

    def _unique(self, asked: frozenset[str], enough) -> ArticleInfo | None:
        """The one article whose title words the question holds `enough` of, no other title holding them all."""
        candidates = set().union(*(self._holding.get(key, ()) for key in asked)) if asked else set()
        named = []
        for doc_id in candidates:
            title = self._titles[doc_id]
            held = [keys for keys in title if keys & asked]
            if not held or not enough(held, title):
                continue
            # Distinctive: no other title holds every one of those words.
            sharing = set.intersection(*(set().union(*(self._holding.get(k, ()) for k in keys)) for keys in held))
            if sharing - {doc_id}:
                continue
            named.append(doc_id)
        return self._index[named[0]] if len(named) == 1 else None


def named_article(question: str, articles: Sequence[ArticleInfo]) -> ArticleInfo | None:
    """The one article `question` names among `articles` (see ArticleNames, which a build keeps)."""
    return ArticleNames(articles).named(question)


def _all_keys(text: str) -> frozenset[str]:
    return frozenset().union(*(_keys(w) for w in words(text)))
