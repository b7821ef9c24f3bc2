"""The keyword index at scale, changing no result: the vectorised fit gives the tf-idf of its definition, and
keyword scores of the shortlist only (CharNgramIndex.scores(among=…), Ranker._keyword_read) rank exactly as
scores of the whole corpus: the same floats, so the same order, on real builds with the real model."""
from __future__ import annotations

import math
from collections import Counter

from dataclasses import replace

import numpy as np
import pytest

from index.model import Location, Passage
from index.ranking import Ranker, Weights
from index.ranking.documents import DocumentWeights, Documents
from index.ranking.keyword import CharNgramIndex, char_ngrams

from .test_ranking import TEXTS

QUESTIONS = ("Qui est Emmett Shear ?", "Which French minister reached out?", "What did the readers think?",
             "Quel poste occupe Jakub Pachocki ?", "Combien de salariés ont signé la lettre ?")


def _reference_postings(texts):
    """gram → [(passage, weight)], straight from the definition: (1 + log tf) * idf / the passage's norm."""
    counts = [Counter(char_ngrams(t)) for t in texts]
    df = Counter(g for c in counts for g in c)
    idf = {g: math.log((len(texts) + 1) / (f + 0.5)) for g, f in df.items()}
    postings: dict[str, list] = {g: [] for g in sorted(df)}
    for doc, c in enumerate(counts):
        weights = {g: (1 + math.log(tf)) * idf[g] for g, tf in c.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for g, w in weights.items():
            postings[g].append((doc, np.float32(w / norm)))
    return postings, idf


def test_the_fit_is_the_tf_idf_of_its_definition():
    texts = TEXTS * 3 + ["Le ministre Barrot, le ministre.", "", "IA", "Microsoft Microsoft Microsoft Ignite"]
    index = CharNgramIndex.fit(texts)
    postings, idf = _reference_postings(texts)
    assert list(index.grams) == list(postings) and index.size == len(texts)
    np.testing.assert_array_equal(index.idf, np.array([idf[g] for g in postings], dtype=np.float32))
    for g, row in index.grams.items():
        lo, hi = index.indptr[row], index.indptr[row + 1]
        assert index.ids[lo:hi].tolist() == [doc for doc, _ in postings[g]], g
        np.testing.assert_array_equal(index.weights[lo:hi], np.array([w for _, w in postings[g]], dtype=np.float32))
    assert CharNgramIndex.fit([]).size == 0 and not CharNgramIndex.fit(["IA"]).grams


def test_per_document_idf_from_the_candidates_documents_postings_alone_is_the_same():
    """documents.local_keyword reads only the candidates' documents: given only their postings (restricted), it
    gives the same floats as over the whole index, however many other documents share the question's words."""
    texts = (TEXTS + ["Le ministre Barrot rencontre Microsoft.", "Microsoft et le ministre du Numérique."]) * 6
    passages = [Passage(i, t, Location(doc_id=f"d{i // 3}", kind="article", section=None, paragraph=i, comment=None,
                                       start=0, end=len(t), doc_title=f"d{i // 3}", role="paragraph"))
                for i, t in enumerate(texts)]
    index, documents = CharNgramIndex.fit(texts), Documents(passages, DocumentWeights(within=1.0))
    for question in ("Which French minister reached out to Microsoft?", "altruisme efficace", "pizza", ""):
        for cand in (np.array([0, 4, 5]), np.array([7]), np.array([2, 9, 11, 20, 29]), np.arange(len(texts))):
            read = np.flatnonzero(np.isin(documents.doc_of, documents.doc_of[cand]))
            np.testing.assert_array_equal(documents.local_keyword(index.restricted(question, read), question, cand),
                                          documents.local_keyword(index, question, cand), err_msg=question)
    assert not len(index.restricted("Microsoft", np.zeros(0, np.int64)).ids)


class WholeCorpusKeywords(Ranker):
    """The ranking as it was: every passage's keyword score computed, the wanted ones read from it."""

    RESTRICT_BELOW = 0.0

    def keyword_scores(self, question, among=None):
        scores = super().keyword_scores(question)
        return scores if among is None else scores[among]


@pytest.mark.parametrize("scatter_postings", [0, CharNgramIndex.SCATTER_POSTINGS])  # binary search, scatter
def test_scores_among_passages_are_the_same_floats_as_over_the_corpus(monkeypatch, scatter_postings):
    monkeypatch.setattr(CharNgramIndex, "SCATTER_POSTINGS", scatter_postings)
    texts = TEXTS * 40 + ["Le ministre Barrot a parlé à Microsoft.", "Une phrase sans rapport aucun."]
    index = CharNgramIndex.fit(texts)
    rng = np.random.default_rng(0)
    for question in ("Which French minister reached out?", "Microsoft Ignite Azure Barrot", "rapport", "pizza"):
        full = index.scores(question)
        for size in (0, 1, 5, 60, len(texts)):  # fewer and more passages than a gram's postings: both branches
            among = np.sort(rng.choice(len(texts), size, replace=False))
            np.testing.assert_array_equal(index.scores(question, among), full[among])


@pytest.mark.parametrize("candidates", [200, 12])
@pytest.mark.parametrize("document_keywords", [False, True])
def test_ranking_from_the_shortlist_keyword_scores_is_unchanged(two_article_retriever, candidates,
                                                                  document_keywords, monkeypatch):
    monkeypatch.setattr(CharNgramIndex, "SCATTER_POSTINGS", 0)  # the binary search of a large corpus
    monkeypatch.setattr(Ranker, "RESTRICT_BELOW", 1.01)  # per-document idf from the candidates' documents alone
    loaded = two_article_retriever._loaded
    weights = replace(Weights.from_settings(two_article_retriever.settings), candidates=candidates)
    if document_keywords:  # signals that sum keyword scores over whole documents: their passages are scored too
        weights = replace(weights, documents=replace(weights.documents, keyword=1.0, title_keyword=1.0))
    shortlist, whole = Ranker(loaded.stored, weights), WholeCorpusKeywords(loaded.stored, weights)
    n = len(loaded.stored.passages)
    if candidates < n and not document_keywords:  # only the shortlist is scored
        assert len(shortlist._keyword_read(np.arange(candidates))) == candidates
    for question in QUESTIONS:
        vector = two_article_retriever.embedder.embed_query(question)
        got, want = shortlist.rank(vector, question, "all", 5), whole.rank(vector, question, "all", 5)
        assert got.ids.tolist() == want.ids.tolist(), question
        np.testing.assert_array_equal(got.scores, want.scores)
        assert got.documents == want.documents
