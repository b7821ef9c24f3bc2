"""Keyword evidence, z-score fusion and the abstention rule, without a model (docs/retrieval.md)."""
from __future__ import annotations

import numpy as np

from index.answer import should_abstain
from index.ranking.keyword import CharNgramIndex, KeywordIndex, Vocabulary, char_ngrams
from index.ranking.fusion import Ranked, _standardised
from index.settings import Settings

TEXTS = [
    "L’appel du pied de Jean-Noël Barrot, ministre délégué chargé du Numérique, n’a pas pesé.",
    "Microsoft vient tout juste d’annoncer des puces Azure Maia 100 et Cobalt 100 lors de la conférence Ignite.",
    "De l’altruisme efficace.",
]


def test_char_ngrams_fold_accents_and_drop_stopwords_and_elisions():
    grams = char_ngrams("L’équipe a annoncé")
    assert "^equi" in grams and "once$" in grams
    assert not any(g.startswith("^l") for g in grams)  # "L’" is an elision, "a" a stopword


def test_char_ngrams_match_english_cognates_of_french_words():
    index = CharNgramIndex.fit(TEXTS)
    minister = index.scores("Which French minister reached out?")
    assert int(np.argmax(minister)) == 0 and minister[0] > 0
    announce = index.scores("What did Microsoft announce at Ignite?")
    assert int(np.argmax(announce)) == 1


def test_char_ngrams_score_zero_without_a_shared_word():
    assert not CharNgramIndex.fit(TEXTS).scores("What is the best pizza topping?").any()


def test_matched_terms_counts_question_words_present_in_the_corpus():
    vocabulary = Vocabulary.fit(TEXTS)
    assert vocabulary.matched_terms("Qu'est-ce que l'altruisme efficace ?") == 2
    assert vocabulary.matched_terms("Comment installer Python sur Windows ?") == 0


def test_keyword_evidence_counts_rare_shared_words_not_everyday_ones():
    vocabulary = Vocabulary.fit(TEXTS + ["Il fait beau temps cette semaine, le dernier jour."])
    assert vocabulary.evidence("Comment installer Python sur Windows ?") == 0  # nothing shared
    everyday = vocabulary.evidence("Quel temps fera-t-il la semaine prochaine ?")  # shared, but everyday words
    assert vocabulary.matched_terms("Quel temps fera-t-il la semaine prochaine ?") == 2
    assert everyday < 0.5
    rare = vocabulary.evidence("Who is Jean-Noël Barrot?")  # a name: rare in everyday language
    assert rare > 2 and vocabulary.evidence("Qu'est-ce que l'altruisme efficace ?") > 1
    # an English word met through a French stem ("open" → "OpenAI") is judged by its own commonness
    openai = Vocabulary.fit(["OpenAI annonce un nouveau modèle."])
    assert openai.evidence("What does OpenAI announce?") > 2
    assert openai.evidence("What time does the shop open?") < 0.5


def test_keyword_index_survives_a_round_trip_through_its_stored_arrays(tmp_path):
    fitted = KeywordIndex.fit(TEXTS)
    fitted.form_vectors = np.random.default_rng(1).standard_normal((len(fitted.vocabulary.forms), 8)).astype(np.float16)
    fitted.form_vectors = fitted.form_vectors.astype(np.float32)  # exactly representable in the stored float16
    np.savez(tmp_path / "k.npz", **fitted.to_arrays())
    with np.load(tmp_path / "k.npz", allow_pickle=False) as arrays:
        loaded = KeywordIndex.from_arrays(arrays)
    assert loaded.vocabulary == fitted.vocabulary and loaded.ngrams.grams == fitted.ngrams.grams
    np.testing.assert_array_equal(loaded.form_vectors, fitted.form_vectors)
    for question in ("Which French minister reached out?", "Microsoft Ignite Azure", "altruisme"):
        np.testing.assert_array_equal(loaded.ngrams.scores(question), fitted.ngrams.scores(question))


def test_keyword_index_of_another_format_is_not_trusted():
    arrays = KeywordIndex.fit(TEXTS).to_arrays() | {"format": np.array("chargram-3+stems-fr/0")}
    assert KeywordIndex.from_arrays(arrays) is None


def test_standardised_signals_are_zero_when_they_do_not_discriminate():
    mask = np.array([True, True, True, False])
    flat = _standardised(np.array([0.3, 0.3, 0.3, 9.0]), mask)
    assert not flat.any()
    z = _standardised(np.array([1.0, 2.0, 3.0, 100.0]), mask)
    assert np.allclose(z[:3], [-1.2247, 0.0, 1.2247], atol=1e-4)


def _ranked(dense: float, evidence: float) -> Ranked:
    return Ranked(np.array([0]), np.array([1.0]), np.array([dense]), np.array([0]), 1, evidence)


def test_abstains_without_keyword_evidence_or_when_the_dense_score_is_too_low():
    settings = Settings.from_env(env={})
    alone, little = settings.answer_min_score_alone, settings.abstain_min_keyword_evidence - 0.01
    assert should_abstain(_ranked(alone - 0.01, 0.0), settings)
    assert should_abstain(_ranked(alone - 0.01, little), settings)
    assert should_abstain(_ranked(settings.abstain_min_score - 0.01, 3.0), settings)
    assert not should_abstain(_ranked(settings.abstain_min_score, settings.abstain_min_keyword_evidence), settings)
    assert not should_abstain(_ranked(alone, 0.0), settings)  # close enough in meaning alone
    about_comments = Ranked(np.array([0]), np.array([1.0]), np.array([alone - 0.01]), np.array([0]), 0, 0.0, True)
    assert not should_abstain(about_comments, settings)  # a question about what readers said is about this page
    below_backstop = Ranked(np.array([0]), np.array([1.0]), np.array([settings.abstain_min_score - 0.01]),
                            np.array([0]), 0, 0.0, True)
    assert should_abstain(below_backstop, settings)
    empty = Ranked(np.array([], dtype=int), np.array([]), np.array([]), np.array([], dtype=int), 5, 9.0)
    assert should_abstain(empty, settings)


def test_shortlist_bounds_the_candidates_and_a_full_shortlist_ranks_exactly(retriever, e5_embedder):
    from index.ranking import Ranker, Weights

    stored = retriever._loaded.stored
    question = "Qui a remplacé Mira Murati ?"
    vector = e5_embedder.embed_query(question)
    full = Ranker(stored, Weights(candidates=len(stored.passages))).rank(vector, question, k=5)
    default = Ranker(stored).rank(vector, question, k=5)
    assert list(full.ids) == list(default.ids)  # the corpus is smaller than the default shortlist
    _, dense_top = stored.passage_index.search(vector.reshape(1, -1), 3)
    short = Ranker(stored, Weights(candidates=2)).rank(vector, question, k=3)  # at least k are shortlisted
    assert len(short.ids) == 3 and set(short.ids) == set(dense_top[0])
    for pid, sentence in zip(short.ids, short.best_sentence):
        assert 0 <= sentence < len(stored.sentences[pid])


def test_comment_intent_is_read_from_reader_words_not_from_french_how():
    from index.ranking.intent import asks_about_comments

    for question in ("Un lecteur parle-t-il d'altruisme efficace ?", "Quel commentaire cite Netflix ?",
                     "De quoi les internautes ont-ils parlé ?", "What does a commenter say about tax optimisation?",
                     "Which reader compares the affair to a TV series?", "Is there a comment about Netflix?"):
        assert asks_about_comments(question), question
    for question in ("Comment installer Python sur Windows ?", "Comment Altman a-t-il répondu à Nadella ?",
                     "Pourquoi, et comment, Microsoft a-t-il recruté Altman ?", "Who is Emmett Shear?"):
        assert not asks_about_comments(question), question


def test_comment_intent_moves_comments_ahead_or_behind_and_nothing_else(retriever, e5_embedder):
    from index.ranking import Ranker, Weights

    stored = retriever._loaded.stored
    plain = Ranker(stored, Weights(comment_intent=0.0))
    moved = Ranker(stored, Weights(comment_intent=1.0))
    about_comments = "Quel lecteur compare l'affaire à une série télé ?"
    about_the_article = "Pourquoi Sam Altman a-t-il été licencié ?"
    for question, shift in ((about_comments, 1.0), (about_the_article, -1.0)):
        [vector] = e5_embedder.embed_queries([question])
        a, b = plain.rank(vector, question, k=50), moved.rank(vector, question, k=50)
        before, after = dict(zip(a.ids.tolist(), a.scores.tolist())), dict(zip(b.ids.tolist(), b.scores.tolist()))
        for pid, score in before.items():
            expected = score + (shift if stored.passages[pid].location.kind == "comment" else 0.0)
            assert abs(after[pid] - expected) < 1e-9
    only_comments = moved.rank(vector, about_the_article, scope="comments", k=50)
    reference = plain.rank(vector, about_the_article, scope="comments", k=50)
    assert only_comments.ids.tolist() == reference.ids.tolist()  # a uniform shift: the comments' order stands


def _aligned(keywords: KeywordIndex, embed, tmp_path) -> KeywordIndex:
    """`keywords` with the English words of a small test dictionary aligned as a build aligns them."""
    from index.ranking.alignment import align, embed_forms, english_candidates

    from tests.test_quality_lexicon import write_dictd

    dictionary = write_dictd(tmp_path, {  # written for the test, in FreeDict's layout
        "minister": "minister /ˈmɪnɪstər/\n1. ministre\n2. pasteur\n",
        "digital": "digital /ˈdɪdʒɪtl/\nnumérique\n",
        "bread": "bread /bred/\npain\n",
        "announce": "announce /əˈnaʊns/\nannoncer\n",
    })
    english = english_candidates(str(dictionary), keywords.vocabulary)
    keywords.form_vectors = embed_forms(keywords, embed)
    keywords.alignment_arrays = align(english, embed(list(english)), keywords.form_vectors)
    return keywords


def test_english_words_are_aligned_to_the_french_words_they_translate(e5_embedder, tmp_path):
    from index.ranking.alignment import translations

    keywords = _aligned(KeywordIndex.fit(TEXTS), e5_embedder.embed_queries, tmp_path)
    assert keywords.form_vectors.shape == (len(keywords.vocabulary.forms), e5_embedder.dim)
    # only headwords with a sense the corpus holds by stem are embedded ("pain" is not in it), with their forms
    assert keywords.alignments.get("bread") is None and keywords.alignments.get("ministers") is not None
    found = translations(keywords, "Which French minister was in charge of digital affairs?", 0.91)
    assert found.get("minister") == "ministre"
    assert translations(keywords, "How do I bake sourdough bread?", 0.91) == {}
    assert translations(keywords, "Which French minister?", 1.01) == {}  # above 1: off
    # a translated word counts as evidence, at the commonness of the more common of the two words
    question = "What did the minister say about the digital economy?"
    assert keywords.vocabulary.evidence(question) == 0
    assert keywords.vocabulary.evidence(question, translations(keywords, question, 0.91)) > 0


def test_alignments_survive_the_stored_arrays(e5_embedder, tmp_path):
    from index.ranking.alignment import translations

    fitted = _aligned(KeywordIndex.fit(TEXTS), e5_embedder.embed_queries, tmp_path)
    np.savez(tmp_path / "k.npz", **fitted.to_arrays())
    with np.load(tmp_path / "k.npz", allow_pickle=False) as arrays:
        loaded = KeywordIndex.from_arrays(arrays)
    question = "Which French minister was in charge of digital affairs?"
    assert translations(loaded, question, 0.91) == translations(fitted, question, 0.91) != {}


def test_a_build_without_alignments_embeds_the_words_at_answer_time(e5_embedder):
    from index.ranking.alignment import embed_forms, translations

    keywords = KeywordIndex.fit(TEXTS)  # as a build made before alignments, or without the dictionary
    assert translations(keywords, "Which minister?", 0.5) == {}  # nothing to embed with: nothing aligned
    keywords.form_vectors = embed_forms(keywords, e5_embedder.embed_queries)
    calls = []
    embed = lambda words: calls.append(words) or e5_embedder.embed_queries(words)
    assert translations(keywords, "Which French minister?", 0.91, embed).get("minister") == "ministre"
    assert calls == [["french", "minister"]]
    assert translations(keywords, "Which French minister?", 1.01, embed) == {} and len(calls) == 1  # off: no call


def test_a_sentence_that_asks_counts_less_than_one_that_tells(retriever, e5_embedder):
    from index.ranking.fusion import Ranker, Weights, _is_question

    assert _is_question("de quoi s’agit-il concrètement\u00a0?") and _is_question("« Pourquoi ? »")
    assert not _is_question("Elles n’ont finalement pas abouti.")
    stored = retriever._loaded.stored
    n = len(stored.passages)
    asking = next(p.id for p in stored.passages if p.text.startswith("Reste une grande inconnue"))  # only questions
    question = "Que reproche exactement le Conseil d’administration à Sam Altman ?"
    [vector] = e5_embedder.embed_queries([question])

    def lead(penalty: float) -> float:
        ranked = Ranker(stored, Weights(question_sentence_penalty=penalty)).rank(vector, question, k=n)
        scores = dict(zip(ranked.ids.tolist(), ranked.scores.tolist()))
        return scores[asking] - max(s for pid, s in scores.items() if pid != asking)

    assert lead(0.05) < lead(0.0)
