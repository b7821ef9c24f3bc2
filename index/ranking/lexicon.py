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
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ..text_norm import STOPWORDS, fold, words

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


def english_forms(headwords: Iterable[str]) -> dict[str, set[str]]:
    """Inflected English form → the headwords it may be a form of ("fired" → {"fire"}, "left" → {"left", "leave"}),
    from simplemma's English dictionary; every headword is a form of itself."""
    heads = set(headwords)
    forms: dict[str, set[str]] = {h: {h} for h in heads}
    for form, lemma in _english_lemmas():
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


def corpus_glosses(dictionary: str | Path, relevant: Callable[[str], bool]) -> dict[str, tuple[str, ...]]:
    """English word form → the French sense words (folded) the corpus may contain, as the build stores them.

    `relevant(word)` says whether a French word can matter for this corpus (it shares a character n-gram
    with it); a sense word that cannot would change no passage's keyword score. Raises OSError without
    the dictionary.
    """
    senses = read_dictd(dictionary)
    heads: dict[str, tuple[str, ...]] = {}
    for head, texts in senses.items():
        kept = dict.fromkeys(fold(w) for t in texts for w in words(t) if len(w) > 2 and relevant(w))
        if kept:
            heads[head] = tuple(kept)
    table: dict[str, tuple[str, ...]] = {}
    for form, lemmas in english_forms(heads).items():
        if form in STOPWORDS:
            continue
        table[form] = tuple(dict.fromkeys(w for lemma in sorted(lemmas) for w in heads[lemma]))
    return table


def gloss(question: str, table) -> list[str]:
    """The French sense words of the question's English words, in order, each once (`table`: a mapping
    with `get`, form → sense words, as `corpus_glosses` gives or a build stores)."""
    return list(dict.fromkeys(w for word in words(question) for w in table.get(word, ())))
