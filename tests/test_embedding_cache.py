"""The embedding cache on its own: keys, damaged rows and files, pruning, with real e5 vectors."""
from __future__ import annotations

import os
import sqlite3
import stat

import numpy as np
import pytest

from index.embedders.base import Embedder
from index.embedding_cache import CachedEncoder, EmbeddingCache, text_key

TEXTS = ["Qui est Emmett Shear ?", "Microsoft recrute Sam Altman.", "Les TPU de Google."]


class CountingEmbedder(Embedder):
    """The real e5 embedder, counting the texts it is asked to embed; `model_id` may be changed."""

    def __init__(self, inner: Embedder, model_id: str | None = None):
        self.inner = inner
        self.backend, self.dim, self.max_tokens = inner.backend, inner.dim, inner.max_tokens
        self.model_id = model_id or inner.model_id
        self.passages: list[str] = []
        self.queries: list[str] = []
        self.counted: list[str] = []  # texts whose tokens were counted

    @property
    def texts(self) -> list[str]:
        return self.passages + self.queries

    def embed_passages(self, texts):
        self.passages += list(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        self.queries += list(texts)
        return self.inner.embed_queries(texts)

    def count_tokens(self, text):
        self.counted.append(text)
        return self.inner.count_tokens(text)


def encode(embedder, cache, kind="passage", texts=TEXTS):
    encoder = CachedEncoder(embedder, cache)
    encoder.want(kind, texts)
    encoder.run()
    return encoder, encoder.vectors(kind, texts)


@pytest.fixture
def cache(tmp_path, e5_embedder):
    with EmbeddingCache.for_data_dir(tmp_path, e5_embedder.dim) as c:
        yield c


def test_keys_differ_by_backend_model_kind_and_exact_text():
    base = text_key("e5", "m", "passage", "Texte")
    others = [text_key("sentence-transformers", "m", "passage", "Texte"), text_key("e5", "m2", "passage", "Texte"),
              text_key("e5", "m", "query", "Texte"), text_key("e5", "m", "passage", "Texte "),
              text_key("e5", "m", "passage", "texte")]
    assert len({base, *others}) == 6 and all(len(k) == 32 for k in others)
    assert text_key("e5", "m", "passage", "Texte") == base
    with pytest.raises(ValueError):
        text_key("e5", "m", "document", "Texte")


def test_keys_are_the_ones_every_existing_cache_holds():
    """sha256 of the JSON list [backend, model, kind, text]: a faster key that changed one byte would make every
    cache on disk useless (a full re-embedding at the first build after an upgrade)."""
    import hashlib
    import json

    from index.embedding_cache import CachedEncoder, CachedTokenCounter

    texts = ["Texte", "", "« guillemets » et \"quotes\" \\ barre", "ligne\nsuivante\ttab\x00\x1f", "emoji 🙂 é",
             "\u2028\u2029 séparateurs", "a" * 5000]
    for backend, model, kind in [("e5", "intfloat/multilingual-e5-small", "passage"), ("s-t", 'mo"del\\', "query"),
                                 ("e5", "m", "tokens")]:
        for text in texts:
            expected = hashlib.sha256(json.dumps([backend, model, kind, text], ensure_ascii=False).encode()).digest()
            assert text_key(backend, model, kind, text) == expected, (kind, text)

    class Named:
        backend, model_id = "e5", "m"

    encoder, counter = CachedEncoder(Named(), None), CachedTokenCounter(Named(), None)
    for text in texts:
        assert encoder.key("passage", text) == encoder.key("passage", text) == text_key("e5", "m", "passage", text)
        assert counter._key(text) == text_key("e5", "m", "tokens", text)


def test_second_pass_embeds_nothing_and_returns_the_same_vectors(cache, e5_embedder):
    first = CountingEmbedder(e5_embedder)
    _, fresh = encode(first, cache)
    assert first.passages == TEXTS and len(cache) == 3
    second = CountingEmbedder(e5_embedder)
    encoder, cached = encode(second, cache)
    assert second.texts == [] and encoder.reused == 3 and encoder.embedded == 0
    assert cached.dtype == np.float32 and np.array_equal(cached, fresh)
    assert np.array_equal(fresh, e5_embedder.embed_passages(TEXTS))  # what the model itself returns


def test_a_text_repeated_in_one_build_is_embedded_once(cache, e5_embedder):
    counting = CountingEmbedder(e5_embedder)
    _, vectors = encode(counting, cache, texts=TEXTS + TEXTS[:1])
    assert counting.passages == TEXTS and np.array_equal(vectors[0], vectors[3])


def test_another_model_id_or_kind_never_reuses_entries(cache, e5_embedder):
    encode(CountingEmbedder(e5_embedder), cache)
    other_model = CountingEmbedder(e5_embedder, model_id=e5_embedder.model_id + "-other")
    encode(other_model, cache)
    assert other_model.passages == TEXTS
    as_queries = CountingEmbedder(e5_embedder)
    _, queries = encode(as_queries, cache, kind="query")
    assert as_queries.queries == TEXTS and as_queries.passages == []
    assert not np.array_equal(queries, e5_embedder.embed_passages(TEXTS))  # e5's "query: " prefix differs
    assert len(cache) == 9


@pytest.mark.parametrize("damage", ["flipped", "truncated", "nan"])
def test_a_damaged_entry_is_ignored_and_recomputed(tmp_path, e5_embedder, damage):
    with EmbeddingCache.for_data_dir(tmp_path, e5_embedder.dim) as cache:
        _, fresh = encode(CountingEmbedder(e5_embedder), cache)
    key = text_key(e5_embedder.backend, e5_embedder.model_id, "passage", TEXTS[1])
    db = sqlite3.connect(tmp_path / "embeddings" / "vectors.sqlite3")
    blob = bytearray(db.execute("SELECT vector FROM vectors WHERE key = ?", (key,)).fetchone()[0])
    if damage == "flipped":
        blob[100] ^= 0x40
    elif damage == "truncated":
        blob = blob[:-4]
    if damage == "nan":  # a valid checksum over a non-finite vector: still not trusted
        from index.embedding_cache import _checksum

        blob[:4] = np.array([np.nan], dtype="<f4").tobytes()
        db.execute("UPDATE vectors SET vector = ?, checksum = ? WHERE key = ?", (bytes(blob), _checksum(key, bytes(blob)), key))
    else:
        db.execute("UPDATE vectors SET vector = ? WHERE key = ?", (bytes(blob), key))
    db.commit()
    db.close()
    with EmbeddingCache.for_data_dir(tmp_path, e5_embedder.dim) as cache:
        counting = CountingEmbedder(e5_embedder)
        _, again = encode(counting, cache)
        assert counting.passages == [TEXTS[1]] and cache.damaged == 1
        assert np.array_equal(again, fresh)
    with EmbeddingCache.for_data_dir(tmp_path, e5_embedder.dim) as cache:  # the recomputed row replaced it
        counting = CountingEmbedder(e5_embedder)
        encode(counting, cache)
        assert counting.texts == [] and cache.damaged == 0


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path, e5_embedder, caplog):
    folder = tmp_path / "embeddings"
    folder.mkdir()
    (folder / "vectors.sqlite3").write_bytes(b"this is not a SQLite database" * 100)
    with EmbeddingCache.for_data_dir(tmp_path, e5_embedder.dim) as cache:
        assert cache.usable
        counting = CountingEmbedder(e5_embedder)
        _, vectors = encode(counting, cache)
        assert counting.passages == TEXTS and len(cache) == 3
    assert [p.name for p in folder.glob("vectors.sqlite3.damaged-*")]
    assert "unreadable" in caplog.text
    assert np.array_equal(vectors, e5_embedder.embed_passages(TEXTS))


def test_prune_keeps_only_the_given_keys_and_the_files_are_private(cache, e5_embedder, tmp_path):
    encoder, _ = encode(CountingEmbedder(e5_embedder), cache)
    keep = encoder.keys[:2]
    assert cache.prune(keep) == 1 and len(cache) == 2
    assert set(cache.get_many(encoder.keys)) == set(keep)
    assert stat.S_IMODE(os.stat(tmp_path / "embeddings").st_mode) == 0o700
    for path in (tmp_path / "embeddings").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
