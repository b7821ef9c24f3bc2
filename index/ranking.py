"""Scores every candidate passage for a question: dense passage and sentence similarity fused with BM25.

Pure numpy over a loaded build, so it can be measured and tested without an embedder.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .keyword import BM25
from .model import Scope
from .store import StoredIndex

SCOPE_KINDS = {"all": ("article", "comment"), "article": ("article",), "comments": ("comment",)}


@dataclass(frozen=True)
class Weights:
    """How the signals add up; kept together so docs/retrieval.md can name each one."""

    passage: float = 0.5
    sentence: float = 0.5
    keyword: float = 0.15


@dataclass(frozen=True)
class Ranked:
    ids: np.ndarray  # passage ids, best first
    scores: np.ndarray  # fused score of each
    dense: np.ndarray  # the best dense similarity (passage or sentence) of each: the abstention signal
    best_sentence: np.ndarray  # row into the passage's sentence spans of its best sentence


class Ranker:
    def __init__(self, stored: StoredIndex, weights: Weights = Weights(), language: str = "fr"):
        self.stored = stored
        self.weights = weights
        self.bm25 = BM25.fit([p.text for p in stored.passages], language)
        kinds = np.array([p.location.kind for p in stored.passages])
        self._scope_mask = {scope: np.isin(kinds, list(k)) for scope, k in SCOPE_KINDS.items()}
        self._first_sentence = np.searchsorted(stored.sentence_owner, np.arange(len(stored.passages)))

    def rank(self, query_vector: np.ndarray, question: str, scope: Scope = "all", k: int = 5) -> Ranked:
        stored, w = self.stored, self.weights
        n = len(stored.passages)
        passage_sim = np.full(n, -1.0, dtype=np.float32)
        sims, ids = stored.passage_index.search(query_vector.reshape(1, -1), n)
        passage_sim[ids[0][ids[0] >= 0]] = sims[0][ids[0] >= 0]
        sentence_sim_rows = stored.sentence_vectors @ query_vector
        sentence_sim = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(sentence_sim, stored.sentence_owner, sentence_sim_rows)
        keyword = self.bm25.scores(question)
        top_keyword = self.bm25.max_possible(question)
        keyword = keyword / top_keyword if top_keyword > 0 else keyword
        fused = w.passage * passage_sim + w.sentence * sentence_sim + w.keyword * keyword
        fused = np.where(self._scope_mask[scope], fused, -np.inf)
        order = np.argsort(-fused, kind="stable")[: min(k, int(self._scope_mask[scope].sum()))]
        best_sentence = np.array([self._best_sentence(i, sentence_sim_rows) for i in order], dtype=np.int64)
        dense = np.maximum(passage_sim, sentence_sim)
        return Ranked(order, fused[order], dense[order], best_sentence)

    def _best_sentence(self, passage_id: int, sentence_sims: np.ndarray) -> int:
        first = self._first_sentence[passage_id]
        count = len(self.stored.sentences[passage_id])
        return int(np.argmax(sentence_sims[first:first + count]))
