"""English question words → the article's French words they translate, aligned by the encoder at build time.

An English question worded in everyday English ("What did the French digital minister offer?") shares
no word with a French article, so its keyword evidence is nil and it would be abstained, although the
article answers it. e5 places a word near its translation ("minister"/"ministre" 0.97, "digital"/
"numérique" 0.93), far less near an unrelated word (mostly below 0.91).

Until session 8 the question's unmatched words were embedded at answer time (a second encoder call for
each English question about to be abstained, which alone missed the warm p95 goal). Now the build does
it once: the English words that may translate a corpus word are the bilingual dictionary's headwords
(index.ranking.lexicon) with a French sense sharing a stem with the corpus; each is embedded alone, as a
question word would be, and paired with the corpus word it is closest to, with that cosine. The build
stores the pairs for every inflected form of the headword ("fired", "fires" → "fire"); answering looks
the question's words up and keeps the pairs at least `align_min_cosine` close. No encoder call, no
lemmatiser, no dictionary at answer time. The dictionary only proposes which English words to embed: the
pair itself is the encoder's choice among all corpus words, as before.

French questions meet French words by stem already; aligning them to synonyms let off-topic French
questions through (docs/retrieval.md).
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..text_norm import term, words

MAX_WORDS = 8  # words embedded at answer time at most, by a build without alignments (one batch, ~20 ms a word)

if TYPE_CHECKING:
    from .keyword import KeywordIndex, Vocabulary


def embed_forms(keywords: "KeywordIndex", embed: Callable[[list[str]], np.ndarray], batch: int = 64) -> np.ndarray:
    """Every corpus word embedded alone, as a question word would be (the build calls this once)."""
    vocabulary = keywords.vocabulary
    if vocabulary.spellings is None:
        raise ValueError("embed_forms needs a freshly fitted vocabulary (it keeps the words' spellings)")
    spelled = [vocabulary.spellings[form] for form in vocabulary.forms]  # accents kept: the model reads them
    if not spelled:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate([embed(spelled[i:i + batch]) for i in range(0, len(spelled), batch)]).astype(np.float32)


def english_candidates(dictionary: str, vocabulary: "Vocabulary") -> dict[str, set[str]]:
    """English headword → its inflected forms (itself included), for the headwords of `dictionary` that have a
    French sense sharing a stem with the corpus: the English words a build embeds to align. {} without a
    dictionary (a warning was already logged when the glosses were read)."""
    if not dictionary:
        return {}
    from .lexicon import english_forms
    from .lexicon import dictionary as read_dictionary

    try:
        prepared = read_dictionary(dictionary)
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    stems = vocabulary.stems
    # any(...) over the headword's few stems, not isdisjoint(stems): that walks every corpus stem for each headword
    heads = sorted(h for h, sense_stems in prepared.sense_stems(vocabulary.language).items()
                   if h.isalpha() and any(stem in stems for stem in sense_stems))
    forms_of: dict[str, set[str]] = {h: {h} for h in heads}
    for form, lemmas in english_forms(heads, prepared.english_pairs).items():
        for lemma in lemmas:
            forms_of[lemma].add(form)
    return forms_of


def align(forms_of: dict[str, set[str]], head_vectors: np.ndarray, form_vectors: np.ndarray
          ) -> dict[str, np.ndarray]:
    """Each English form → the corpus word (its row in the vocabulary) nearest its headword, with the cosine,
    packed for keywords.npz. A form of several headwords ("left": "left", "leave") takes the closest pair."""
    best: dict[str, tuple[int, float]] = {}
    if len(forms_of) and form_vectors is not None and len(form_vectors):
        sims = np.asarray(head_vectors, dtype=np.float32) @ np.asarray(form_vectors, dtype=np.float32).T
        rows = sims.argmax(axis=1)
        for (head, forms), row, cosines in zip(forms_of.items(), rows, sims):
            pair = (int(row), float(cosines[row]))
            for form in forms:
                if form not in best or pair[1] > best[form][1]:
                    best[form] = pair
    ordered = sorted(best)
    return {"align_forms": np.frombuffer("\n".join(ordered).encode("utf-8"), dtype=np.uint8),
            "align_targets": np.array([best[f][0] for f in ordered], dtype=np.int32),
            "align_cosines": np.array([best[f][1] for f in ordered], dtype=np.float32)}


class Alignments:
    """English form → (corpus word row, cosine), read from a build's packed arrays on the first English
    question that needs them."""

    def __init__(self, a: dict[str, np.ndarray]):
        text = a["align_forms"].tobytes().decode("utf-8")
        self._forms = text.split("\n") if text else []
        self._targets, self._cosines = a["align_targets"], a["align_cosines"]

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {form: n for n, form in enumerate(self._forms)}

    def __len__(self) -> int:
        return len(self._forms)

    def get(self, form: str) -> tuple[int, float] | None:
        n = self._rows.get(form)
        return None if n is None else (int(self._targets[n]), float(self._cosines[n]))


def translations(keywords: "KeywordIndex", question: str, min_cosine: float,
                 embed: Callable[[list[str]], np.ndarray] | None = None) -> dict[str, str]:
    """Question word → the corpus word it translates, for the question's words not found in the corpus whose
    pair is at least `min_cosine` close: looked up in the build's alignments. A build without them (made
    before session 8, or without the dictionary) falls back to embedding the words now with `embed`, as the
    second look did before: one more encoder call for the question."""
    if min_cosine > 1:
        return {}
    _, missing = keywords.vocabulary.match(question)
    missing = list(dict.fromkeys(w for w in missing if len(w) > 2))
    table = keywords.alignments
    if table is None:
        return _embedded_now(keywords, missing[:MAX_WORDS], embed, min_cosine) if embed is not None else {}
    forms = keywords.vocabulary.form_list
    found = {}
    for word in missing:
        pair = table.get(word)
        if pair is not None and pair[1] >= min_cosine and pair[0] < len(forms):
            found[word] = forms[pair[0]]
    return found


def _embedded_now(keywords: "KeywordIndex", missing: list[str], embed: Callable[[list[str]], np.ndarray],
                  min_cosine: float) -> dict[str, str]:
    if not missing or keywords.form_vectors is None or not len(keywords.form_vectors):
        return {}
    sims = np.asarray(embed(missing), dtype=np.float32) @ keywords.form_vectors.T
    forms = keywords.vocabulary.form_list
    best = sims.argmax(axis=1)
    return {w: forms[i] for w, i, row in zip(missing, best, sims) if row[i] >= min_cosine}
