"""French-aware word normalisation for keyword matching: case, accents and apostrophes folded, then stemmed.

"l’équipe", "L'EQUIPE" and "équipes" all become "equip", so a question need not match the article's spelling.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer  # PyStemmer: the Snowball stemmers in C; imports in ~3 ms where snowballstemmer takes ~15

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)

STOPWORDS_FR = set("""
a à au aux avec ce ces cet cette c ça d dans de des du elle elles en est et été être eux il ils je la le les leur
leurs lui ma mais me même mes moi mon ne ni nos notre nous on ont ou où par pas pour qu que quel quelle quelles
quels qui sa se ses si son sont sur ta te tes toi ton tu un une vos votre vous y l j m n s t est-ce était avait
fait faire plus moins comme dont aussi très tout tous toute toutes alors ainsi donc or car sans sous vers chez
pourquoi comment quand combien quoi lequel laquelle lesquels a-t-il a-t-elle t-il t-elle ont-ils ont-elles
""".split())
STOPWORDS_EN = set("""
a an the and or but if of to in on at by for with from as is are was were be been being do does did done have has
had having it its this that these those there here what which who whom whose why how when where i you he she we
they me him her us them my your his our their not no yes so than too very can could would should will shall may
might must about into over under again further then once any some such only own same other each few more most
all both between through during before after above below up down out off just also say says said tell
""".split())
STOPWORDS = STOPWORDS_FR | STOPWORDS_EN


@lru_cache(maxsize=4)
def _stemmer(language: str):
    return Stemmer.Stemmer("french" if language == "fr" else "english")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    return fold(word)


@lru_cache(maxsize=1 << 16)
def term(word: str, language: str) -> str:
    """The folded stem of one word (already casefolded, as `words` gives them)."""
    # Memoised: an article repeats most of its words (fitting the keyword index at build time).
    return fold(_stemmer(language).stemWord(word))


def words(text: str) -> list[str]:
    """Content words, casefolded with elisions removed ("l’équipe" → "équipe")."""
    text = _ELISION.sub(" ", text.replace("’", "'").casefold())
    return [w for w in _WORD.findall(text) if w not in STOPWORDS and _fold_word(w) not in STOPWORDS]


def terms(text: str, language: str = "fr") -> list[str]:
    """Folded stems of the content words: the keys of the keyword index."""
    return [term(w, language) for w in words(text)]
