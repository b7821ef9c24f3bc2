"""The embedder contract: normalised float32 vectors, separate query and passage encodings."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np


class Embedder(ABC):
    backend: str
    model_id: str  # stable identifier stored in the index manifest
    dim: int
    max_tokens: int  # the model's window, special tokens and prefixes included

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """[n, dim] float32, L2-normalised."""

    @abstractmethod
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """[n, dim] float32, L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for `text` as a passage."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    @staticmethod
    def _normalised(vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))
