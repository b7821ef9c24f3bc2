"""Keyword evidence judged against the whole collection, for abstention (index.answer).

In one article every shared word is evidence; over many documents a word found in dozens of them
("2018", "installer", "personnes") ties a question to none in particular, and a question naming
something the collection never mentions ("Python", "GPT-5") is about something else, whatever else it
shares with it. Both are measured here, per loaded build, so a one-article index judges exactly as before.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from .ranking.keyword import Vocabulary
from .text_norm import fold, term, words

_TOKEN = re.compile(r"[^\W_][\w.+'’-]*")
RARE_ZIPF = Vocabulary.KEPT_ZIPF - 1.0  # what a word missing from the everyday list counts as ("python" is 3.8)
_CACHED: dict[str, "CollectionSpread"] = {}  # build id → its spread table (few builds live at once)


class CollectionSpread:
    """How many documents of a build hold each word stem: a word in one document counts in full, a word
    in all of them not at all (1 - ln df / ln N); with a single document every word counts in full."""

    def __init__(self, passages, language: str = "fr", strength: float = 1.0):
        self.strength = strength
        stems_of: dict[str, set[str]] = {}
        for p in passages:
            stems_of.setdefault(p.location.doc_id, set()).update(term(w, language) for w in words(p.text))
        self.documents = len(stems_of)
        self.stems_of = stems_of if len(stems_of) > 1 else {}  # doc id → its word stems (several documents only)
        self.df: Counter[str] = Counter(s for stems in stems_of.values() for s in stems) \
            if self.documents > 1 else Counter()

    @classmethod
    def of(cls, stored, strength: float = 1.0) -> "CollectionSpread":
        table = _CACHED.get(stored.build_id)
        if table is not None and table.strength != strength:
            table = None
        if table is None:
            if len(_CACHED) >= 4:
                _CACHED.pop(next(iter(_CACHED)))
            table = _CACHED[stored.build_id] = cls(stored.passages, stored.keywords.vocabulary.language, strength)
        return table

    def weight(self, stem: str) -> float:
        if self.documents < 2 or not self.strength:
            return 1.0
        return max(0.0, 1.0 - self.strength * math.log(max(self.df.get(stem, 1), 1)) / math.log(self.documents))


def collection_evidence(question: str, vocabulary: Vocabulary, spread: CollectionSpread,
                        translations: dict[str, str] | None = None) -> float:
    """The question's keyword evidence (Vocabulary.assess) with each word found in the corpus weighted by how
    few documents hold it; the corpus words its English words translate to (`translations`, the second look)
    are weighted the same way ("tallest" aligned to "taille", which 8 of 524 entries hold, ties a question to
    none of them)."""
    found, missing = vocabulary.match(question)
    weighted = sum(Vocabulary.rarity(z) * spread.weight(stem) for stem, z in found.items())
    language = vocabulary.language
    return weighted + sum(Vocabulary.rarity(z) * spread.weight(term(form, language))
                          for form, z in vocabulary.translated(missing, translations).items())


def shares_a_word(question: str, vocabulary: Vocabulary, spread: CollectionSpread, doc_id: str) -> bool:
    """Whether the document holds one of the question's words that are rarer than everyday ones (those that
    count as keyword evidence); True with one document."""
    if not spread.stems_of:
        return True
    found, _ = vocabulary.match(question)
    own = spread.stems_of.get(doc_id, set())
    return any(stem in own for stem, z in found.items() if Vocabulary.rarity(z) > 0)


def document_evidence(question: str, vocabulary: Vocabulary, spread: CollectionSpread, doc_id: str) -> float:
    """The question's keyword evidence counting only the words the document holds: about what it would be were
    the document indexed alone ("Why did the board… its chief executive?" finds "executive" in a help entry's
    "exécuté", which the article it is about never uses). The collection's evidence with one document."""
    found, _ = vocabulary.match(question)
    own = spread.stems_of.get(doc_id, set()) if spread.stems_of else None
    return sum(Vocabulary.rarity(z) for stem, z in found.items() if own is None or stem in own)


def absent_names(question: str, vocabulary: Vocabulary) -> float:
    """How much the question names that the collection never mentions: the sum, over its capitalised words
    after the first ("Python", "GPT-5"; not "Comment", not "I") none of whose content words occur in the
    corpus, of how much rarer each is than an everyday word (as keyword evidence is counted). An everyday
    word written with a capital ("French", Zipf 5.1) weighs little; one too rare for the everyday list the
    vocabulary keeps (`common`, Zipf ≥ 4.5) counts as a rare word of Zipf RARE_ZIPF, so answering never
    loads the frequency tables."""
    total = 0.0
    for token in _TOKEN.findall(question)[1:]:
        if not token[0].isupper():
            continue
        parts = [w for w in words(token) if len(w) > 1]
        if parts and not _mentioned(token, vocabulary):
            total += sum(Vocabulary.rarity(vocabulary.common.get(fold(w), RARE_ZIPF)) for w in parts)
    return total


def _mentioned(token: str, vocabulary: Vocabulary) -> bool:
    """The corpus holds the name, as written or in the singular ("TPUs" of an article saying "TPU")."""
    return bool(vocabulary.match(token)[0]) or (token[-1:] in "sS" and bool(vocabulary.match(token[:-1])[0]))


_ELIDED = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
MAX_MENTIONS = 2


def mentioned_names(question: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The names the question shares with the corpus, as the question writes them: runs of capitalised words
    after the first ("How old is Satya Nadella?" → "Satya Nadella"; "Quel est le salaire d'Altman ?" →
    "Altman"; "OpenAI's" → "OpenAI"), each of whose words the corpus holds. For saying what the article does
    speak of when it does not give the fact asked for (an answer type, index.ranking.answer_types)."""
    runs: list[list[str]] = []
    last_end = -1
    for n, match in enumerate(_TOKEN.finditer(question)):
        token = _POSSESSIVE.sub("", _ELIDED.sub("", match.group()))
        named = n > 0 and token[:1].isupper() and bool(words(token)) and _mentioned(token, vocabulary)
        if not named:
            last_end = -1
            continue
        adjacent = last_end >= 0 and not question[last_end:match.start()].strip()
        if adjacent and runs:
            runs[-1].append(token)
        else:
            runs.append([token])
        last_end = match.end()
    names = list(dict.fromkeys(" ".join(run) for run in runs))
    return tuple(names[:MAX_MENTIONS])
