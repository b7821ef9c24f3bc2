"""Incremental builds through the embedding cache: what a rebuild embeds, what pruning keeps, killed builds."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from index import store
from index.build import build_index
from index.embedding_cache import EmbeddingCache, build_keys
from index.service import Retriever

from .conftest import PROJECT_ROOT
from .test_embedding_cache import CountingEmbedder

QUESTIONS = ["Qui est Emmett Shear ?", "Que disent les lecteurs de Microsoft ?", "Who hired Sam Altman?",
             "How old is Satya Nadella?"]

NEW_ARTICLE = textwrap.dedent("""\
    ---
    id: "essai-velo-cargo"
    title: "Mobilité : la ville de Nantes teste des vélos cargos électriques"
    date: "2024-03-02T08:00"
    source: "Test"
    language: "fr"
    ---

    La métropole nantaise prête depuis lundi une centaine de vélos cargos électriques aux artisans du centre-ville.

    ## Un essai de six mois

    Les livreurs pourront emprunter un vélo pour une semaine. La mairie paiera les batteries et l’entretien.

    Les commerçants interrogés saluent l’initiative. Certains craignent pourtant le manque de stationnement.
    """)


@pytest.fixture
def private(tmp_path, built_settings, copied_corpus):
    """A private copy of the session's build (fresh vectors, and the cache that build filled) and corpus."""
    shutil.copytree(built_settings.data_dir, tmp_path / "data", symlinks=True)
    return built_settings.with_(data_dir=tmp_path / "data", corpus_dir=copied_corpus)


def recorded_keys(settings, build_id=None) -> set[bytes]:
    """Every cache key a build recorded it uses: its vectors' and its blocks' token counts'."""
    return build_keys(store.builds_dir(settings.data_dir) / (build_id or store.current_build_id(settings.data_dir)),
                      store.EMBEDDING_KEYS)


def table_keys(settings, table: str) -> set[bytes]:
    import sqlite3

    db = sqlite3.connect(settings.data_dir / "embeddings" / "vectors.sqlite3")
    try:
        return {bytes(k) for (k,) in db.execute(f"SELECT key FROM {table}")}
    finally:
        db.close()


def keys_of(settings, build_id=None) -> set[bytes]:
    """The keys of the vectors a build uses."""
    return recorded_keys(settings, build_id) & table_keys(settings, "vectors")


def cache_keys(settings) -> set[bytes]:
    return table_keys(settings, "vectors") | table_keys(settings, "tokens")


def test_unchanged_corpus_embeds_nothing_and_answers_as_the_fresh_build(private, e5_embedder, retriever):
    fresh = store.load_build(private.data_dir)
    counting = CountingEmbedder(e5_embedder)
    summary = build_index(private, counting)
    assert counting.texts == [] and summary.embedded == 0
    assert counting.counted == []  # token counts come from the cache too
    assert summary.reused == len(keys_of(private)) > summary.passages + summary.sentences
    assert summary.build_id != fresh.build_id and store.current_build_id(private.data_dir) == summary.build_id
    cached = store.load_build(private.data_dir)
    assert cached.manifest["embedding_cache"] == {"embedded": 0, "reused": summary.reused}
    assert np.array_equal(cached.sentence_vectors, fresh.sentence_vectors)
    n = fresh.passage_index.ntotal
    assert np.array_equal(cached.passage_index.vectors(np.arange(n)), fresh.passage_index.vectors(np.arange(n)))
    assert np.array_equal(cached.keywords.form_vectors, fresh.keywords.form_vectors)
    again = Retriever.open(private, build_if_missing=False)
    for question in QUESTIONS:
        a, b = again.ask(question), retriever.ask(question)
        assert [h.passage.text for h in a.hits] == [h.passage.text for h in b.hits], question
        assert [h.score for h in a.hits] == [h.score for h in b.hits] and a.answered == b.answered


def test_adding_one_article_embeds_only_its_texts(private, e5_embedder):
    before = keys_of(private)
    (private.corpus_dir / "essai-velo-cargo.md").write_text(NEW_ARTICLE, "utf-8")
    counting = CountingEmbedder(e5_embedder)
    summary = build_index(private, counting)
    new = keys_of(private) - before
    assert summary.embedded == len(counting.texts) == len(new) > 0
    assert all("Emmett" not in t and "Altman" not in t for t in counting.texts)  # nothing of the old article
    assert any(t.startswith("Mobilité : la ville de Nantes") for t in counting.passages)  # its title passage
    assert "nantaise" in counting.queries  # its new words, embedded as question words are
    assert "Microsoft" not in counting.queries  # a word the corpus already had
    assert counting.counted and all("Emmett" not in t for t in counting.counted)  # only its blocks' tokens counted
    answer = Retriever.open(private, build_if_missing=False).ask("Qui prête des vélos cargos aux artisans ?")
    assert answer.hits[0].passage.location.doc_id == "essai-velo-cargo"


def test_pruning_keeps_what_kept_builds_use(private, e5_embedder):
    assert private.keep_builds == 2
    original = recorded_keys(private)
    assert cache_keys(private) == original and keys_of(private)  # every recorded key is in the cache
    article = private.corpus_dir / "essai-velo-cargo.md"
    article.write_text(NEW_ARTICLE, "utf-8")
    build_index(private, e5_embedder)  # kept: the original build and this one
    with_article = recorded_keys(private)
    assert cache_keys(private) == original | with_article and with_article > original
    article.unlink()
    build_index(private, e5_embedder)  # the original build is pruned; kept: with_article and this one
    assert cache_keys(private) == with_article | recorded_keys(private)
    build_index(private, e5_embedder)  # now no kept build has the article
    assert cache_keys(private) == recorded_keys(private) == original
    assert len(store.complete_builds(private.data_dir)) == 2


def test_a_killed_build_leaves_the_cache_usable_and_its_work_is_kept(private, e5_embedder):
    (private.corpus_dir / "essai-velo-cargo.md").write_text(NEW_ARTICLE, "utf-8")
    before = store.current_build_id(private.data_dir)
    # The build kills itself (SIGKILL: no cleanup at all) once its first batch of texts is embedded.
    script = textwrap.dedent(f"""
        import os, signal
        from index.build import build_index
        from index.settings import Settings
        settings = Settings.from_env(env={{}}, data_dir={str(private.data_dir)!r}, corpus_dir={str(private.corpus_dir)!r})
        def progress(done, total):
            if done > 0:
                os.kill(os.getpid(), signal.SIGKILL)
        build_index(settings, progress=progress)
        raise SystemExit("the build finished before it was killed")
        """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)), timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert store.current_build_id(private.data_dir) == before
    assert list(store.builds_dir(private.data_dir).glob("*.partial")) == []  # it died before writing the build
    with EmbeddingCache.for_data_dir(private.data_dir, e5_embedder.dim) as cache:
        kept = len(cache) - len(keys_of(private))  # what the killed build embedded and stored
        assert cache.usable and 0 < kept <= 16
    counting = CountingEmbedder(e5_embedder)
    summary = build_index(private, counting)
    new = keys_of(private) - keys_of(private, before)
    assert summary.embedded == len(counting.texts) == len(new) - kept > 0  # only what the dead build had not done
    answer = Retriever.open(private, build_if_missing=False).ask("Qui prête des vélos cargos aux artisans ?")
    assert answer.hits[0].passage.location.doc_id == "essai-velo-cargo"


def test_a_lost_cache_costs_a_full_embedding_never_a_wrong_build(private, e5_embedder, retriever):
    shutil.rmtree(private.data_dir / "embeddings")
    (private.data_dir / "embeddings").mkdir()
    (private.data_dir / "embeddings" / "vectors.sqlite3").write_bytes(b"\0" * 4096)
    counting = CountingEmbedder(e5_embedder)
    summary = build_index(private, counting)
    assert summary.embedded == len(counting.texts) == len(keys_of(private)) > 0
    assert Retriever.open(private, build_if_missing=False).ask(QUESTIONS[0]).hits[0].passage.text == \
        retriever.ask(QUESTIONS[0]).hits[0].passage.text


def _counting_fits(monkeypatch) -> list[int]:
    from index.ranking.keyword import KeywordIndex

    fits, fit = [], KeywordIndex.fit.__func__
    monkeypatch.setattr(KeywordIndex, "fit", classmethod(lambda cls, texts, *a, **k: fits.append(len(texts))
                                                         or fit(cls, texts, *a, **k)))
    return fits


def test_unchanged_passages_reuse_the_keyword_index_and_new_ones_refit_it(private, e5_embedder, monkeypatch):
    fits = _counting_fits(monkeypatch)
    fresh = store.load_build(private.data_dir)
    summary = build_index(private, e5_embedder)
    # its words are still embedded (from the cache), and the English headwords aligned to them
    assert fits == [] and summary.words >= len(fresh.keywords.vocabulary.forms)
    reused = store.load_build(private.data_dir)
    assert reused.keywords.form_vectors.shape == fresh.keywords.form_vectors.shape
    assert reused.manifest["keywords_fitted_from"] == fresh.manifest["keywords_fitted_from"]
    for name, values in fresh.keywords.to_arrays().items():
        np.testing.assert_array_equal(reused.keywords.to_arrays()[name], values, err_msg=name)
    assert reused.keywords.vocabulary.spellings == fresh.keywords.vocabulary.spellings
    (private.corpus_dir / "essai-velo-cargo.md").write_text(NEW_ARTICLE, "utf-8")
    build_index(private, e5_embedder)
    assert fits == [store.load_build(private.data_dir).manifest["counts"]["passages"]]
    build_index(private.with_(lexicon=""), e5_embedder)  # another dictionary: another index
    assert len(fits) == 2 and not store.load_build(private.data_dir).keywords.glosses


def test_a_modified_keyword_file_is_refitted_not_reused(private, e5_embedder, monkeypatch):
    fits = _counting_fits(monkeypatch)
    folder = store.builds_dir(private.data_dir) / store.current_build_id(private.data_dir)
    path = folder / store.KEYWORDS
    path.chmod(0o600)
    with open(path, "r+b") as f:  # one byte changed: its sha256 no longer matches the manifest's
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    build_index(private, e5_embedder)
    assert len(fits) == 1 and store.load_build(private.data_dir).keywords.ngrams.size > 0


def test_an_incremental_build_is_the_clean_build(private, e5_embedder, tmp_path, monkeypatch):
    """Adding an article refits the keyword index from the previous build's (only the new passages read):
    the same keywords.npz, bit for bit, and the same answers as a build from nothing."""
    from index.ranking import keyword

    assert store.previous_refit(private.data_dir) is not None
    (private.corpus_dir / "essai-velo-cargo.md").write_text(NEW_ARTICLE, "utf-8")
    counted: list[str] = []
    real = keyword.char_ngrams
    monkeypatch.setattr(keyword, "char_ngrams", lambda text, *a: counted.append(text) or real(text, *a))
    build_index(private, e5_embedder)
    incremental = store.load_build(private.data_dir)
    new = [p.text for p in incremental.passages if p.location.doc_id == "essai-velo-cargo"]
    old = {p.text for p in incremental.passages if p.location.doc_id != "essai-velo-cargo"}
    # the new passages were read, no old one was (the lexicon's glosses are n-grammed too when installed)
    assert new and set(new) <= set(counted) and not (old - set(new)) & set(counted)
    # a clean build: no previous build, its vectors from a copy of the cache (they equal fresh ones)
    clean = private.with_(data_dir=tmp_path / "clean")
    shutil.copytree(private.data_dir / "embeddings", clean.data_dir / "embeddings")
    build_index(clean, e5_embedder)
    fresh = store.load_build(clean.data_dir)
    with np.load(store.builds_dir(private.data_dir) / incremental.build_id / store.KEYWORDS) as a, \
            np.load(store.builds_dir(clean.data_dir) / fresh.build_id / store.KEYWORDS) as b:
        assert sorted(a.files) == sorted(b.files) and any(n.startswith("refit_") for n in a.files)
        for name in a.files:
            assert a[name].dtype == b[name].dtype and a[name].tobytes() == b[name].tobytes(), name
    one, two = Retriever.open(private, build_if_missing=False), Retriever.open(clean, build_if_missing=False)
    for question in QUESTIONS + ["Qui prête des vélos cargos aux artisans ?"]:
        a, b = one.ask(question), two.ask(question)
        assert [h.passage.text for h in a.hits] == [h.passage.text for h in b.hits], question
        assert [h.score for h in a.hits] == [h.score for h in b.hits] and a.answered == b.answered
