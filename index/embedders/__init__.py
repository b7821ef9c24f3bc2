"""Embedding backends behind one interface, chosen by configuration (`embedder` / `model`)."""
from __future__ import annotations

from ..errors import ConfigError
from .base import Embedder

BACKENDS = ("e5", "sentence-transformers")


def make_embedder(backend: str, model: str = "") -> Embedder:
    if backend == "e5":
        from .e5 import E5Embedder
        return E5Embedder(model or "original")
    if backend == "sentence-transformers":
        from .sbert import SentenceTransformerEmbedder
        return SentenceTransformerEmbedder(model)
    raise ConfigError(f"unknown embedder {backend!r}: use one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Embedder", "make_embedder"]
