"""BM25 over stemmed, accent-folded terms: catches names and exact words the dense model blurs."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .text_norm import terms


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
