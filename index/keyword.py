"""Keyword evidence: character n-grams of folded words, and the stemmed vocabulary of the corpus.

Character n-grams (4- and 5-grams of accent-folded, stopword-free words) match inflections ("annoncé",
"annonce"), compounds and cognates across French and English ("minister"/"ministre",
"announce"/"annoncé") that exact or stemmed words miss; proper names match in both languages.
Scored as tf-idf cosine through an inverted index, so a question costs a few dictionary lookups.

BM25 over stemmed words is kept for comparison (docs/retrieval.md) and its vocabulary answers
"does any content word of the question occur in the article?", the keyword half of abstention.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from .text_norm import fold, terms, words

MIN_WORD_CHARS = 3  # shorter words ("IA", "PDG") carry too few n-grams to be evidence


def char_ngrams(text: str, sizes: tuple[int, ...] = (4, 5)) -> list[str]:
    """The n-grams of each folded content word, padded with ^ and $ ("^open", "nai$")."""
    out: list[str] = []
    for word in words(text):
        if len(word) < MIN_WORD_CHARS:
            continue
        padded = f"^{fold(word)}$"
        for n in sizes:
            if len(padded) <= n:
                out.append(padded)
            else:
                out += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return out


@dataclass
class CharNgramIndex:
    """tf-idf cosine over character n-grams, through an inverted index (gram → passages, weights)."""

    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # gram → (passage ids, normalised doc weights)
    idf: dict[str, float]
    size: int
    sizes: tuple[int, ...]

    @classmethod
    def fit(cls, texts: list[str], sizes: tuple[int, ...] = (4, 5)) -> "CharNgramIndex":
        counts = [Counter(char_ngrams(t, sizes)) for t in texts]
        df = Counter(g for c in counts for g in c)
        n = len(texts)
        idf = {g: math.log((n + 1) / (f + 0.5)) for g, f in df.items()}
        lists: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for doc, c in enumerate(counts):
            weights = {g: (1 + math.log(tf)) * idf[g] for g, tf in c.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for g, w in weights.items():
                ids, ws = lists[g]
                ids.append(doc)
                ws.append(w / norm)
        postings = {g: (np.array(ids, dtype=np.int64), np.array(ws, dtype=np.float32)) for g, (ids, ws) in lists.items()}
        return cls(postings, idf, n, tuple(sizes))

    def scores(self, query: str) -> np.ndarray:
        """Cosine of each passage with the question, 0 where no n-gram is shared."""
        out = np.zeros(self.size, dtype=np.float32)
        weights = {g: (1 + math.log(tf)) * self.idf[g] for g, tf in Counter(char_ngrams(query, self.sizes)).items()
                   if g in self.idf}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if not norm:
            return out
        for g, w in weights.items():
            ids, doc_weights = self.postings[g]
            np.add.at(out, ids, doc_weights * (w / norm))
        return out


@dataclass
class BM25:
    doc_terms: list[Counter]
    doc_len: np.ndarray
    idf: dict[str, float]
    language: str
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def fit(cls, texts: list[str], language: str = "fr") -> "BM25":
        doc_terms = [Counter(terms(t, language)) for t in texts]
        df = Counter(term for counts in doc_terms for term in counts)
        n = len(texts)
        idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        lengths = np.array([sum(c.values()) for c in doc_terms], dtype=np.float32)
        return cls(doc_terms, lengths, idf, language)

    def scores(self, query: str) -> np.ndarray:
        """One score per text, 0 where no query term occurs."""
        out = np.zeros(len(self.doc_terms), dtype=np.float32)
        avg = float(self.doc_len.mean()) if len(self.doc_len) else 1.0
        for term in set(terms(query, self.language)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, counts in enumerate(self.doc_terms):
                tf = counts.get(term)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.doc_len[i] / max(avg, 1e-9))
                    out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def max_possible(self, query: str) -> float:
        """Score of an ideal text holding every query term once: scales scores to [0, 1]."""
        return sum(self.idf.get(t, 0.0) for t in set(terms(query, self.language)))

    def matched_terms(self, query: str) -> int:
        """How many distinct content words of the question (stemmed, folded) occur in the corpus."""
        return sum(t in self.idf for t in set(terms(query, self.language)))
