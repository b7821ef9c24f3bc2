"""English question words → the article's French words they translate, through the encoder itself.

An English question worded in everyday English ("What did the French digital minister offer?") shares
no word with a French article, so its keyword evidence is nil and it would be abstained, although the
article answers it. e5 places a word near its translation ("minister"/"ministre" 0.97, "digital"/
"numérique" 0.93), far less near an unrelated word (mostly below 0.91). So, before abstaining on an
English question, its unmatched words are embedded alone and each takes the corpus word it is closest
to, when that is at least `align_min_cosine`; the build stores every corpus word embedded the same way.
French questions meet French words by stem already; aligning them to synonyms let off-topic French
questions through (docs/retrieval.md).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .keyword import KeywordIndex

MAX_WORDS = 8  # a question's words embedded at most (one batch, ~3 ms a word); common ones too: "world" → "monde"


def embed_forms(keywords: KeywordIndex, embed: Callable[[list[str]], np.ndarray], batch: int = 64) -> np.ndarray:
    """Every corpus word embedded alone, as a question word would be (the build calls this once)."""
    vocabulary = keywords.vocabulary
    if vocabulary.spellings is None:
        raise ValueError("embed_forms needs a freshly fitted vocabulary (it keeps the words' spellings)")
    spelled = [vocabulary.spellings[form] for form in vocabulary.forms]  # accents kept: the model reads them
    if not spelled:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate([embed(spelled[i:i + batch]) for i in range(0, len(spelled), batch)]).astype(np.float32)


def translations(keywords: KeywordIndex, question: str, embed: Callable[[list[str]], np.ndarray],
                 min_cosine: float) -> dict[str, str]:
    """Question word → the corpus word it translates, for the question's words not found in the corpus."""
    if keywords.form_vectors is None or not len(keywords.form_vectors):
        return {}
    _, missing = keywords.vocabulary.match(question)
    missing = list(dict.fromkeys(w for w in missing if len(w) > 2))[:MAX_WORDS]
    if not missing:
        return {}
    sims = np.asarray(embed(missing), dtype=np.float32) @ keywords.form_vectors.T
    forms = list(keywords.vocabulary.forms)
    best = sims.argmax(axis=1)
    return {w: forms[i] for w, i, row in zip(missing, best, sims) if row[i] >= min_cosine}
