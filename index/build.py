"""Corpus → passages → vectors → a new current build. The only writer of the data directory."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from . import store
from .chunking import ChunkerParams, chunk_document, sentence_spans
from .corpus.fingerprint import corpus_hash
from .corpus.loader import load_corpus
from .embedders import Embedder, make_embedder
from .ranking.alignment import embed_forms
from .ranking.keyword import KeywordIndex
from .model import Passage
from .preflight import check_build_possible
from .settings import Settings

Progress = Callable[[int, int], None]  # (done, total) texts embedded: passages, sentences, corpus words
BATCH = 16


@dataclass(frozen=True)
class BuildSummary:
    build_id: str
    documents: int
    passages: int
    sentences: int
    dim: int
    seconds: float
    removed: tuple[str, ...]


def embedded_text(passage: Passage) -> str:
    """What the model sees for a passage: its verbatim text behind the article title and section.

    The context helps short passages ("Tweet supprimé.") and headings carry their meaning; the quote
    shown to users is always `passage.text` alone.
    """
    loc = passage.location
    context = [loc.doc_title] if loc.role != "title" else []
    if loc.kind == "comment":
        context.append(f"Commentaire {loc.comment}")
    elif loc.section:
        context.append(loc.section)
    return " | ".join(context + [passage.text]) if context else passage.text


def build_index(settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None) -> BuildSummary:
    started = time.perf_counter()
    check_build_possible(settings.data_dir, settings.corpus_dir)  # writable, space: before any model work
    embedder = embedder or make_embedder(settings.embedder, settings.model)
    with store.build_lock(settings.data_dir):
        store.clean_partials(settings.data_dir)
        fingerprint = corpus_hash(settings.corpus_dir)
        docs = load_corpus(settings.corpus_dir)
        params = ChunkerParams(max_tokens=min(settings.max_passage_tokens, embedder.max_tokens - 16))
        passages: list[Passage] = []
        for doc in docs:
            passages += chunk_document(doc, params, embedder.count_tokens, first_id=len(passages))
        spans = [sentence_spans(p.text) or [(0, len(p.text))] for p in passages]
        sentence_texts = [p.text[s:e] for p, ss in zip(passages, spans) for s, e in ss]
        keywords = KeywordIndex.fit([p.text for p in passages], lexicon=settings.lexicon)
        total = len(passages) + len(sentence_texts) + len(keywords.vocabulary.forms)
        done = 0

        def embed(texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
            nonlocal done
            out = []
            for i in range(0, len(texts), BATCH):
                out.append(encode(texts[i:i + BATCH]))
                done += len(texts[i:i + BATCH])
                if progress:
                    progress(done, total)
            return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)

        passage_vectors = embed([embedded_text(p) for p in passages], embedder.embed_passages)
        sentence_vectors = embed(sentence_texts, embedder.embed_passages)
        keywords.form_vectors = embed_forms(keywords, lambda forms: embed(forms, embedder.embed_queries))
        build_id = store.new_build_id()
        manifest = {
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "embedder": embedder.backend,
            "model_id": embedder.model_id,
            "dim": embedder.dim,
            "ann": settings.ann,
            "corpus_dir": str(settings.corpus_dir),
            "corpus_hash": fingerprint,
            "documents": [d.id for d in docs],
            "counts": {"documents": len(docs), "passages": len(passages), "sentences": len(sentence_texts),
                       "words": len(keywords.vocabulary.forms), "english_glosses": len(keywords.glosses)},
            "chunker": params.to_dict() | {"embedded_context": "title | section or comment number | text"},
            "packages": store.package_versions(),
        }
        store.write_build(settings.data_dir, build_id, manifest, passages, spans, passage_vectors, sentence_vectors,
                          keywords)
        removed = store.prune(settings.data_dir, settings.keep_builds)
    return BuildSummary(build_id, len(docs), len(passages), len(sentence_texts), embedder.dim,
                        time.perf_counter() - started, tuple(removed))
