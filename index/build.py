"""Corpus → passages → vectors → a new current build: the one place that decides what a build contains.

Where it is written (files or PostgreSQL) is index.backends' choice; this module only hands it over.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import store
from .backends import build_target
from .chunking import ChunkerParams, chunk_document, sentence_spans
from .corpus.fingerprint import corpus_hash
from .corpus.loader import load_corpus
from .embedders import Embedder, make_embedder
from .embedding_cache import CachedEncoder, CachedTokenCounter, EmbeddingCache
from .ranking.alignment import align, embed_forms, english_candidates
from .ranking.lexicon import forget_english_lemmas
from .ranking.lexicon_memo import prepare_english_pairs
from .ranking.keyword import KeywordIndex
from .model import Passage
from .preflight import check_build_possible
from .settings import Settings

Progress = Callable[[int, int], None]  # (done, total) texts embedded (not found in the cache): passages, sentences, corpus words
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
    embedded: int = 0  # texts the model embedded (the others came from the embedding cache)
    reused: int = 0  # distinct texts found in the embedding cache
    words: int = 0  # single words embedded or reused for the second look: the corpus words and the English
                    # headwords aligned to them (index.ranking.alignment)
    phases: dict[str, float] = field(default_factory=dict, compare=False)  # seconds per step, for bench/


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


def build_index(settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None,
                use_cache: bool = True) -> BuildSummary:
    """A new build of the corpus, made current; texts embedded before with the same model come from
    the embedding cache (index.embedding_cache), so an unchanged corpus embeds nothing."""
    started = time.perf_counter()
    check_build_possible(settings.data_dir, settings.corpus_dir)  # writable, space: before any model work
    phases: dict[str, float] = {}
    clock = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - clock[0]
        clock[0] = now

    embedder = embedder or make_embedder(settings.embedder, settings.model)
    lap("model")
    with build_target(settings) as target:  # files or PostgreSQL (index.backends), its lock held
        build_id = store.new_build_id()
        target.begin(build_id, embedder.dim)  # PostgreSQL: recorded as `writing`, so a killed build is cleaned up
        fingerprint = corpus_hash(settings.corpus_dir)
        docs = load_corpus(settings.corpus_dir)
        lap("corpus")
        cache = EmbeddingCache.for_data_dir(settings.data_dir, embedder.dim) if use_cache else None
        lap("cache")
        try:
            params = ChunkerParams(max_tokens=min(settings.max_passage_tokens, embedder.max_tokens - 16))
            count_tokens = CachedTokenCounter(embedder, cache)
            count_tokens.prefetch(block.text for doc in docs for block in doc.blocks)
            passages: list[Passage] = []
            for doc in docs:
                passages += chunk_document(doc, params, count_tokens, first_id=len(passages))
            count_tokens.flush()
            spans = [sentence_spans(p.text) or [(0, len(p.text))] for p in passages]
            sentence_texts = [p.text[s:e] for p, ss in zip(passages, spans) for s, e in ss]
            lap("chunking")
            prepare_english_pairs(settings.data_dir, settings.lexicon)  # read back, not recomputed, after the first build
            fitted_from = keyword_input(passages, settings.lexicon)
            keywords = target.reusable_keywords(fitted_from) or \
                KeywordIndex.fit([p.text for p in passages], lexicon=settings.lexicon,
                                 previous=target.refit_source())  # reads only the new passages
            words = corpus_words(keywords)
            # English words that may translate a corpus word, aligned once here rather than at answer time
            # (index.ranking.alignment); none when alignment is off (an English-only model cannot align)
            english = english_candidates(settings.lexicon, keywords.vocabulary) \
                if settings.align_min_cosine <= 1 else {}
            lap("keywords")
            encoder = CachedEncoder(embedder, cache, BATCH)
            passage_texts = [embedded_text(p) for p in passages]
            encoder.want("passage", passage_texts)
            encoder.want("passage", sentence_texts)
            encoder.want("query", words)  # a corpus word is embedded as a question word would be
            encoder.want("query", list(english))
            lap("cache")
            encoder.run(progress)
            lap("embedding")
            passage_vectors = encoder.vectors("passage", passage_texts)
            sentence_vectors = encoder.vectors("passage", sentence_texts)
            keywords.form_vectors = embed_forms(keywords, lambda batch: encoder.vectors("query", batch))
            # a keyword index reused from an earlier build may carry that build's alignments: always recomputed
            keywords.alignment_arrays = align(english, encoder.vectors("query", list(english)),
                                              keywords.form_vectors) if english else None
            lap("cache")
            manifest = {
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "embedder": embedder.backend,
                "model_id": embedder.model_id,
                "dim": embedder.dim,
                "ann": settings.ann,
                "corpus_dir": str(Path(settings.corpus_dir).resolve()),  # whatever directory the build ran from
                "corpus_hash": fingerprint,
                "documents": [d.id for d in docs],
                "counts": {"documents": len(docs), "passages": len(passages), "sentences": len(sentence_texts),
                           "words": len(keywords.vocabulary.forms), "english_glosses": len(keywords.glosses),
                           "english_aligned": len(english)},
                "chunker": params.to_dict() | {"embedded_context": "title | section or comment number | text"},
                "packages": store.package_versions(),
                "embedding_cache": {"embedded": encoder.embedded, "reused": encoder.reused},
                "keywords_fitted_from": fitted_from,
            }
            target.write(build_id, manifest, docs, passages, spans, passage_vectors, sentence_vectors, keywords,
                         b"".join(encoder.keys + list(dict.fromkeys(count_tokens.used))))
            lap("write")
            removed = target.prune(settings.keep_builds)
            if cache is not None:
                cache.prune(target.used_embedding_keys())
            lap("prune")
        finally:
            forget_english_lemmas()  # a bot that rebuilds in its own process does not keep them
            if cache is not None:
                cache.close()
    return BuildSummary(build_id, len(docs), len(passages), len(sentence_texts), embedder.dim,
                        time.perf_counter() - started, tuple(removed), encoder.embedded, encoder.reused,
                        len(words) + len(english),
                        phases)


def keyword_input(passages: list[Passage], lexicon: str) -> str:
    """sha256 of everything the keyword index is fitted from: its format, the passages' texts, the dictionary
    (path, size and time of change) and the word-frequency package; equal inputs give an equal index."""
    import hashlib
    import os
    from importlib import metadata

    digest = hashlib.sha256(KeywordIndex.FORMAT.encode())
    try:
        stat = os.stat(lexicon) if lexicon else None
    except OSError:
        stat = None
    try:
        wordfreq = metadata.version("wordfreq")
    except metadata.PackageNotFoundError:
        wordfreq = ""
    digest.update(repr((lexicon, stat and (stat.st_size, stat.st_mtime_ns), wordfreq, len(passages))).encode())
    for p in passages:
        text = p.text.encode("utf-8")
        digest.update(len(text).to_bytes(8, "little") + text)
    return digest.hexdigest()


def corpus_words(keywords: KeywordIndex) -> list[str]:
    """The corpus words as `embed_forms` embeds them: each folded form spelled as written (accents kept)."""
    vocabulary = keywords.vocabulary
    return [vocabulary.spellings[form] for form in vocabulary.forms] if vocabulary.spellings else []
