"""How common a word is in everyday French and English (wordfreq's Zipf scale), for keyword evidence.

A question that shares only everyday words with the article ("temps", "dernière", "open") is not
evidence that the article covers it; one that shares a rarer word ("Altman", "licencié", "TPU") is.
Zipf = log10 of the frequency per billion words: "le" ~7.5, "dernière" 5.4, "Microsoft" 4.4,
"Altman" 3.0, unknown words 0. Only builds call this (wordfreq takes ~0.3 s to load its lists);
the build stores the figures it needs with the keyword index.
"""
from __future__ import annotations

from ..text_norm import fold

LANGUAGES = ("fr", "en")  # the languages questions come in: a word common in either is common


def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return max(zipf_frequency(word, lang) for lang in LANGUAGES)


def common_words(min_zipf: float) -> dict[str, float]:
    """Every word at least this common in either language, folded as the keyword index folds words."""
    from wordfreq import top_n_list, zipf_frequency

    common: dict[str, float] = {}
    for lang in LANGUAGES:
        for word in top_n_list(lang, 100_000):  # most frequent first
            z = zipf_frequency(word, lang)
            if z < min_zipf:
                break
            key = fold(word)
            common[key] = max(common.get(key, 0.0), z)
    return common
