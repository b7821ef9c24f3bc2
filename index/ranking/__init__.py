"""Ranking: the signals that score passages for a question, one module each, and their fusion.

- `fusion`: dense passage and sentence similarity fused with keywords (the Ranker);
- `keyword`: character n-grams, BM25 and the corpus vocabulary (keyword evidence for abstention);
- `intent`: what the question asks about (the comments or the article);
- `alignment`: English question words matched to the article words they translate;
- `word_frequency`: how everyday a word is (used at build time).
"""
from .fusion import FUSIONS, KEYWORD_INDEXES, Ranked, Ranker, Weights

__all__ = ["FUSIONS", "KEYWORD_INDEXES", "Ranked", "Ranker", "Weights"]
