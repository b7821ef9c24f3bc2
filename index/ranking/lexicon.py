"""English question words → French words of the corpus they may translate, from a dictionary on the system.

An English question about a French article shares few words with it, so the keyword signal sees little
("Who took over as interim boss?" has no word of "assurait les fonctions de CEO par intérim").
A bilingual dictionary gives the French senses of its words ("boss" → "maître, patron, chef"), and
those senses, appended to the question, let the character n-grams find the passage.

The dictionary is Debian's `dict-freedict-eng-fra` (FreeDict, GPL-2+), read from where the package
installs it, never copied into this repository. The build reads it once and stores only the part that
can matter for its corpus (each English word form whose senses share a character n-gram with the
corpus, and those senses), so answering never parses the dictionary nor loads a lemmatiser. Without
the package a build has no glosses and English questions are ranked as before (docs/retrieval.md says
what that costs).

Glosses feed the ranking only, never the keyword evidence that decides abstention: a dictionary's many
senses ("fire" → "partir, licencier, feu, tirer") tie off-topic questions to any article.
"""
from __future__ import annotations

import gzip
import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ..text_norm import STOPWORDS, fold, term, words

DEFAULT_DICTIONARY = "/usr/share/dictd/freedict-eng-fra"  # <path>.index and <path>.dict.dz, as dictd installs them
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _number(text: str) -> int:
    """dictd's base-64 offsets and lengths."""
    n = 0
    for c in text:
        n = n * 64 + _B64[c]
    return n


def read_dictd(path: str | Path) -> dict[str, list[str]]:
    """Headword (casefolded, one word) → its senses, from a dictd dictionary (`path`.index + `path`.dict.dz).

    Raises OSError when the files are missing or unreadable.
    """
    path = Path(path)
    dict_file = path.with_name(path.name + ".dict.dz")
    if not dict_file.exists():
        dict_file = path.with_name(path.name + ".dict")
    opener = gzip.open if dict_file.suffix == ".dz" else open
    with opener(dict_file, "rb") as f:
        data = f.read()
    senses: dict[str, list[str]] = {}
    with open(path.with_name(path.name + ".index"), encoding="utf-8") as index:
        for line in index:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00") or " " in parts[0]:
                continue  # dictd's own entries (00-database-…) and multi-word headwords
            start, length = _number(parts[1]), _number(parts[2])
            body = data[start:start + length].decode("utf-8", "replace").split("\n")[1:]  # after "word /ipa/"
            for line_ in body:
                text = line_.strip()
                if text[:1].isdigit() and ". " in text[:4]:
                    text = text.split(". ", 1)[1]  # "2. licencier, renvoyer" → its senses
                senses.setdefault(parts[0].casefold(), []).extend(s.strip() for s in text.split(",") if s.strip())
    return senses


class Dictionary:
    """A dictd dictionary as builds use it, prepared once per process (`dictionary(path)`): its senses, their
    words, and simplemma's English forms of its headwords. A build asks twice (glosses, alignments) and a bot
    that rebuilds in its own process asks at every rebuild; parsing, tokenising and loading simplemma's 17 MB
    table each time was a second or more of every build."""

    def __init__(self, senses: dict[str, list[str]], identity: tuple = ()):
        self.senses = senses
        self.identity = identity  # the files' path, sizes and times: what its derived tables depend on
        self._stems: dict[str, dict[str, frozenset[str]]] = {}

    @cached_property
    def sense_words(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Headword → the words of its senses longer than two letters, with their folded form, in order."""
        return {head: tuple((w, fold(w)) for t in texts for w in words(t) if len(w) > 2)
                for head, texts in self.senses.items()}

    def sense_stems(self, language: str) -> dict[str, frozenset[str]]:
        """Headword → the stems of its sense words (those of `sense_words`) in `language`."""
        if language not in self._stems:
            self._stems[language] = {head: frozenset(term(w, language) for w, _ in ws)
                                     for head, ws in self.sense_words.items()}
        return self._stems[language]

    @property
    def has_english_pairs(self) -> bool:
        """Whether `english_pairs` is already known in this process (computed or given)."""
        return "english_pairs" in self.__dict__

    def use_english_pairs(self, pairs: tuple[tuple[str, str], ...]) -> None:
        """Takes the pairs `english_pairs` would compute, kept from an earlier process (index.ranking.lexicon_memo)."""
        self.__dict__["english_pairs"] = pairs

    @cached_property
    def english_pairs(self) -> tuple[tuple[str, str], ...]:
        """simplemma's (form, lemma) pairs whose lemma is a headword here, in simplemma's order: all that
        `english_forms` reads for these headwords, without keeping the whole table."""
        heads = self.senses
        return tuple((form, lemma) for form, lemma in _english_lemmas() if lemma in heads)


def dictionary(path: str | Path) -> Dictionary:
    """The dictionary at `path` (as `read_dictd` reads it), parsed once per process while its files do not
    change. Raises OSError when they are missing or unreadable."""
    path = Path(path)
    identity = []
    for suffix in (".index", ".dict.dz", ".dict"):
        try:
            st = os.stat(path.with_name(path.name + suffix))
        except OSError:
            continue
        identity.append((suffix, st.st_size, st.st_mtime_ns, st.st_ino))
    return _dictionary(str(path.resolve()), tuple(identity))


@lru_cache(maxsize=2)
def _dictionary(path: str, identity: tuple) -> Dictionary:
    return Dictionary(read_dictd(path), (path, identity))


def english_forms(headwords: Iterable[str], pairs: Iterable[tuple[str, str]] | None = None) -> dict[str, set[str]]:
    """Inflected English form → the headwords it may be a form of ("fired" → {"fire"}, "left" → {"left", "leave"}),
    from simplemma's English dictionary (or `pairs`, a part of it holding every pair of these headwords:
    `Dictionary.english_pairs`); every headword is a form of itself."""
    heads = dict.fromkeys(headwords)  # in the order given: the same table whatever the hash seed
    forms: dict[str, set[str]] = {h: {h} for h in heads}
    for form, lemma in (_english_lemmas() if pairs is None else pairs):
        if lemma in heads:
            forms.setdefault(form, set()).add(lemma)
    return forms


def forget_english_lemmas() -> None:
    """Frees the table `english_forms` keeps while a build runs (~17 MB)."""
    _english_lemmas.cache_clear()


@lru_cache(maxsize=1)
def _english_lemmas() -> tuple[tuple[str, str], ...]:
    """simplemma's English (form, lemma) pairs, casefolded, one-word forms other than the lemma: read once per
    process (a build asks twice, for the glosses and for the alignments)."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    pairs = ((form.casefold(), lemma.casefold()) for form, lemma in DefaultDictionaryFactory().get_dictionary("en").items())
    return tuple((form, lemma) for form, lemma in pairs if form != lemma and " " not in form)


def corpus_glosses(dictionary_path: str | Path, relevant: Callable[[str], bool]) -> dict[str, tuple[str, ...]]:
    """English word form → the French sense words (folded) the corpus may contain, as the build stores them.

    `relevant(word)` says whether a French word can matter for this corpus (it shares a character n-gram
    with it); a sense word that cannot would change no passage's keyword score. Raises OSError without
    the dictionary.
    """
    prepared = dictionary(dictionary_path)
    answers: dict[str, bool] = {}  # relevant(word), asked once a word

    def kept_word(word: str) -> bool:
        answer = answers.get(word)
        if answer is None:
            answer = answers[word] = bool(relevant(word))
        return answer

    heads: dict[str, tuple[str, ...]] = {}
    for head, sense_words in prepared.sense_words.items():
        kept = dict.fromkeys(folded for w, folded in sense_words if kept_word(w))
        if kept:
            heads[head] = tuple(kept)
    table: dict[str, tuple[str, ...]] = {}
    for form, lemmas in english_forms(heads, prepared.english_pairs).items():
        if form in STOPWORDS:
            continue
        table[form] = tuple(dict.fromkeys(w for lemma in sorted(lemmas) for w in heads[lemma]))
    return table


def gloss(question: str, table) -> list[str]:
    """The French sense words of the question's English words, in order, each once (`table`: a mapping
    with `get`, form → sense words, as `corpus_glosses` gives or a build stores)."""
    return list(dict.fromkeys(w for word in words(question) for w in table.get(word, ())))
