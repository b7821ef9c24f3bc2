"""Document-level ranking over many articles (index/ranking/documents.py) and document-level figures in eval.

Real parts: the real e5 model and a real build of a small archive (the seed article plus four short help
entries written for this test), and synthetic passages for the pure parts (interleaving, local idf).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from index.evaluation import Outcome, Question, format_report, metrics, outcome, parse_questions, report
from index.model import Location, Passage
from index.ranking import Ranker, Weights
from index.ranking.documents import DocumentWeights, Documents, choose_article
from index.ranking.keyword import CharNgramIndex
from index.settings import Settings

from .conftest import CORPUS_DIR, run_cli

ENTRIES = {
    "aide-cookies": ("Un cookie, qu'est-ce que c'est ?", [
        "Un cookie est un petit fichier texte déposé sur votre ordinateur lors de la visite d'un site web.",
        "Il permet au site de reconnaître votre navigateur et de mémoriser vos préférences, votre panier ou "
        "votre identifiant de connexion.",
        "Les cookies publicitaires suivent votre navigation d'un site à l'autre pour vous proposer des "
        "annonces ciblées ; ils exigent votre consentement.",
    ]),
    "aide-demarchage": ("Comment recevoir moins d'appels téléphoniques publicitaires ?", [
        "Inscrivez-vous gratuitement sur la liste d'opposition au démarchage téléphonique Bloctel.",
        "Ne communiquez votre numéro de téléphone à un commerçant que s'il est indispensable, par exemple "
        "pour une livraison.",
        "Si les appels continuent, signalez le numéro qui vous démarche et conservez la date des appels.",
    ]),
    "aide-compte": ("Comment supprimer un compte sur un réseau social ?", [
        "Connectez-vous à votre compte, ouvrez les paramètres puis choisissez « Supprimer le compte ».",
        "Si le réseau social ne répond pas à votre demande d'effacement dans un délai d'un mois, vous pouvez "
        "adresser une plainte.",
    ]),
    "aide-video": ("Vidéosurveillance au travail : quelles règles ?", [
        "Un employeur peut installer des caméras pour la sécurité des biens et des personnes, mais pas pour "
        "surveiller en permanence un salarié à son poste.",
        "Les salariés doivent être informés de la présence des caméras par un panneau et par une note.",
    ]),
}


def _entry(doc_id: str, title: str, paragraphs: list[str]) -> str:
    return f'---\nid: "{doc_id}"\ntitle: "{title}"\nsource: "test"\nlanguage: "fr"\n---\n\n' + \
        "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def archive(tmp_path_factory, e5_embedder):
    """A built archive: the seed article and four short help entries in one index."""
    from index.build import build_index
    from index.service import Retriever

    corpus = tmp_path_factory.mktemp("archive-corpus")
    for path in CORPUS_DIR.glob("*.md"):
        shutil.copy(path, corpus / path.name)
    for doc_id, (title, paragraphs) in ENTRIES.items():
        (corpus / f"{doc_id}.md").write_text(_entry(doc_id, title, paragraphs), "utf-8")
    settings = Settings.from_env(env={}, data_dir=str(tmp_path_factory.mktemp("archive-data")),
                                 corpus_dir=str(corpus))
    build_index(settings, e5_embedder)
    return Retriever.open(settings, build_if_missing=False)


def _ranked(retriever, question: str, weights: Weights | None = None, k: int = 5):
    loaded = retriever._loaded
    ranker = loaded.ranker if weights is None else Ranker(loaded.stored, weights)
    return ranker.rank(retriever.embedder.embed_query(question), question, "all", k)


def _docs(retriever, ranked) -> list[str]:
    return [retriever._loaded.stored.passages[int(i)].location.doc_id for i in ranked.ids]


def test_defaults_turn_document_evidence_on():
    documents = Weights.from_settings(Settings.from_env(env={})).documents
    assert documents.weight > 0 and documents.support > 0 and documents.diversity > 0 and documents.within == 1
    assert Weights.from_settings(Settings.from_env(env={"VERBATIM_DOCUMENT_WEIGHT": "0"})).documents.weight == 0


def test_one_article_ranks_exactly_as_without_document_evidence(retriever):
    """With one article every document signal is constant: the defaults change nothing, scores included."""
    defaults = Weights.from_settings(retriever.settings)
    assert defaults.documents.weight > 0
    for question in ("Qui est Emmett Shear ?", "What did the readers think?", "Quel poste occupe Jakub Pachocki ?"):
        plain = _ranked(retriever, question, replace(defaults, documents=DocumentWeights()))
        chosen = _ranked(retriever, question, defaults)
        assert chosen.ids.tolist() == plain.ids.tolist()
        assert np.allclose(chosen.scores, plain.scores)
        assert chosen.documents == plain.documents == (retriever._loaded.stored.passages[0].location.doc_id,)


def test_the_article_that_answers_is_chosen_and_named(archive):
    for question, doc_id in (("À quoi sert un cookie sur un site internet ?", "aide-cookies"),
                             ("Comment ne plus être démarché au téléphone ?", "aide-demarchage"),
                             ("Qui est Emmett Shear ?", "nextinpact-2023-11-20-microsoft-recrute-sam-altman")):
        ranked = _ranked(archive, question)
        assert choose_article(ranked) == doc_id == _docs(archive, ranked)[0], question
        assert ranked.documents[0] == doc_id and len(set(ranked.documents)) == len(ranked.documents)


def test_choose_article_is_none_when_nothing_is_ranked():
    class Empty:
        documents = ()

    assert choose_article(Empty()) is None


def test_a_second_article_that_matches_well_gets_a_place_in_the_top_k(archive):
    question = "Un cookie publicitaire ou un appel de démarchage téléphonique : comment refuser ?"
    defaults = Weights.from_settings(archive.settings)
    shown = _docs(archive, _ranked(archive, question))
    assert {"aide-cookies", "aide-demarchage"} <= set(shown[:3])
    crowded = _docs(archive, _ranked(archive, question, replace(defaults, documents=replace(
        defaults.documents, diversity=0.0))))
    assert len(set(crowded[:3])) <= len(set(shown[:3]))


def test_an_article_question_keeps_the_article_alone_top_passage_in_the_archive(archive, retriever):
    """The seed's own passages are ordered inside the seed (local standardisation and idf), so adding other
    documents to the index does not change which of its passages comes first."""
    for question in ("Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?", "Qui est Emmett Shear ?",
                     "Quel poste occupe Jakub Pachocki ?"):
        alone = _ranked(retriever, question)
        in_archive = _ranked(archive, question)
        top_alone = retriever._loaded.stored.passages[int(alone.ids[0])]
        top_archive = archive._loaded.stored.passages[int(in_archive.ids[0])]
        assert top_archive.text == top_alone.text, question


def _passage(pid: int, doc: str, text: str, role: str = "paragraph") -> Passage:
    return Passage(pid, text, Location(doc_id=doc, kind="article", section=None, paragraph=pid, comment=None,
                                       start=0, end=len(text), doc_title=doc, role=role))


def test_interleaving_gives_a_close_second_document_a_place_and_keeps_order_within_each():
    passages = [_passage(i, "a", f"a{i}") for i in range(4)] + [_passage(4 + i, "b", f"b{i}") for i in range(2)]
    cand = np.arange(6)
    fused = np.array([5.0, 4.5, 4.4, 4.3, 4.15, 1.0])
    inner = np.array([0.0, 3.0, 2.0, 1.0, 0.0, -1.0])  # inside "a", passage 1 comes first
    plain = Documents(passages, DocumentWeights(diversity=0.0))
    assert plain.top(cand, fused, 3)[0].tolist() == [0, 1, 2]
    spread = Documents(passages, DocumentWeights(diversity=1.0))
    order, shown = spread.top(cand, fused, 3, inner)
    assert order.tolist() == [1, 4, 2]  # a's best place goes to its first passage by inner order; b's best is close
    assert list(shown) == sorted(shown, reverse=True)
    far = Documents(passages, DocumentWeights(diversity=0.1))
    assert far.top(cand, fused, 3, inner)[0].tolist() == [1, 2, 3]  # b is not close enough to displace a


def test_local_idf_lets_the_words_that_tell_an_article_apart_count():
    """Over the corpus "Altman" is rare and "conseil" common; inside article "a", which names Altman in two
    paragraphs of three, it is the other way round, and the paragraph about the board should win there."""
    texts = ["Altman quitte OpenAI", "Le conseil se tait", "Altman rejoint Microsoft",
             "Le conseil municipal vote", "Le conseil de classe", "Un conseil pratique", "Le conseil régional"]
    passages = [_passage(i, "a" if i < 3 else "b", t) for i, t in enumerate(texts)]
    ngrams = CharNgramIndex.fit(texts)
    documents = Documents(passages, DocumentWeights(within=1.0))
    question = "Que reproche le conseil à Altman ?"
    overall = ngrams.scores(question)[:3]
    local = documents.local_keyword(ngrams, question, np.arange(len(texts)))[:3]
    assert int(np.argmax(overall)) != 1  # corpus idf: a paragraph naming Altman first
    assert int(np.argmax(local)) == 1


def test_grouped_standardisation_makes_the_order_inside_a_document_independent_of_the_others():
    passages = [_passage(i, "a" if i < 3 else "b", f"p{i}") for i in range(6)]
    documents = Documents(passages, DocumentWeights(within=1.0))
    cand, mask = np.arange(6), np.ones(6, dtype=bool)
    signals = ((1.0, np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])), (1.0, np.array([0.1, 0.3, 0.2, 5.0, 6.0, 7.0])))
    inner = documents.within(cand, signals, mask)
    other = ((1.0, np.array([0.9, 0.8, 0.7, 9.0, 9.0, 9.5])), (1.0, np.array([0.1, 0.3, 0.2, 0.0, 0.0, 0.0])))
    assert np.allclose(inner[:3], documents.within(cand, other, mask)[:3])


# ---- document-level figures in `verbatim eval`

def test_gold_doc_is_read_and_checked():
    q = parse_questions(['{"id": "c1", "question": "Un cookie ?", "gold_doc": "aide-cookies", "kind": "paraphrase"}'])[0]
    assert q.gold_doc == "aide-cookies" and q.answerable and not q.gold
    with pytest.raises(Exception, match="line 1"):
        parse_questions(['{"question": "x", "gold_doc": 3}'])


def test_document_level_recall_counts_the_first_passage_of_the_gold_document():
    q = Question("c", "question", (), gold_doc="d2")
    assert outcome(q, ["t1", "t2", "t3"], True, ["d1", "d1", "d2"]).doc_rank == 3
    assert outcome(q, ["t"] * 6, True, ["x"] * 5 + ["d2"]).doc_rank is None  # rank 6 is not seen
    outcomes = [Outcome(Question(i, "q", (), gold_doc="d"), None, True, doc_rank=r)
                for i, r in (("a", 1), ("b", 2), ("c", 4), ("d", None))]
    m = metrics(outcomes)
    assert (m.doc_r1, m.doc_r3, m.doc_mrr) == (0.25, 0.5, round((1 + 1 / 2 + 1 / 4) / 4, 4))
    assert m.r1 is None and m.answered == 1.0
    text = format_report(report(outcomes), verbose=True)
    assert "docR@1=0.250 docR@3=0.500" in text and "b doc_rank=2" in text
    plain = format_report(report([Outcome(Question("p", "q", ("x",)), 1, True)]))
    assert "docR@1" not in plain  # a set without gold_doc reads as before


def test_eval_command_reports_document_level_figures(archive, tmp_path):
    rows = [{"id": "c1", "kind": "paraphrase", "question": "À quoi sert un cookie sur un site internet ?",
             "gold_doc": "aide-cookies"},
            {"id": "c2", "kind": "paraphrase", "question": "Comment ne plus être démarché au téléphone ?",
             "gold_doc": "aide-demarchage"},
            {"id": "c3", "kind": "title", "question": "Vidéosurveillance au travail : quelles règles ?",
             "gold_doc": "aide-compte"}]  # deliberately wrong gold document: never at rank 1
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    done = run_cli("eval", str(path), "--json", data_dir=archive.settings.data_dir,
                   corpus_dir=archive.settings.corpus_dir)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["overall"]["doc_r1"] == round(2 / 3, 4) and figures["overall"]["r1"] is None
    assert figures["by_kind"]["paraphrase"]["doc_r1"] == 1.0
    assert [m["id"] for m in figures["misses"]] == ["c3"]
    text = run_cli("eval", str(path), data_dir=archive.settings.data_dir, corpus_dir=archive.settings.corpus_dir)
    assert "docR@1=0.667" in text.stdout


def test_the_document_nearest_as_a_whole_brings_its_passages_into_the_shortlist():
    from index.ann import make_ann

    passages = [_passage(i, "a" if i < 2 else "b", f"p{i}") for i in range(4)]
    vectors = np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 1, 0, 0], [0.1, 0.9, 0, 0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ann = make_ann("flat", 4)
    ann.add(vectors)
    owner = np.arange(4)  # one sentence per passage, the passage's own vector
    query = np.array([0, 1, 0, 0], dtype=np.float32)
    documents = Documents(passages, DocumentWeights(expand=1), vectors, owner)
    centroid = documents.centroid_similarity(query)
    assert int(np.argmax(centroid)) == documents.doc_ids.index("b")
    cand, sim = documents.expand(np.array([0]), np.array([0.0], dtype=np.float32), query, ann, centroid)
    assert sorted(cand.tolist()) == [0, 2, 3]
    assert np.allclose(sim[1:], vectors[cand[1:]] @ query)
    off = Documents(passages, DocumentWeights(expand=0), vectors, owner)
    assert off.expand(np.array([0]), np.array([0.0]), query, ann, centroid)[0].tolist() == [0]


# ---- the order inside an article is the one it has alone; questions about the comments

def test_local_keyword_with_local_norms_is_the_score_of_the_document_indexed_alone():
    """With its passages' and the question's norms counted inside each document, the local keyword score of
    every candidate is the cosine the document's own index gives it (not only up to a factor): two of them,
    a question and its glosses, then add up as they do when the article is indexed alone."""
    texts = ["Altman quitte OpenAI après un vote du conseil", "Le conseil se tait, Altman aussi",
             "Altman rejoint Microsoft avec Brockman", "Le conseil municipal vote le budget",
             "Le conseil de classe se réunit", "Un conseil pratique pour le budget", "Le conseil régional vote"]
    passages = [_passage(i, "a" if i < 3 else "b", t) for i, t in enumerate(texts)]
    ngrams = CharNgramIndex.fit(texts)
    documents = Documents(passages, DocumentWeights(within=1.0))
    norms = documents.local_norms(ngrams)
    cand = np.arange(len(texts))
    for question in ("Que reproche le conseil à Altman ?", "Quel budget vote le conseil ?", "board vote"):
        local = documents.local_keyword(ngrams, question, cand, norms)
        alone = np.concatenate([CharNgramIndex.fit(texts[:3]).scores(question),
                                CharNgramIndex.fit(texts[3:]).scores(question)])
        assert np.allclose(local, alone, atol=1e-5), question
    # without them it is not (the corpus-wide norms scale each passage differently)
    question = "Que reproche le conseil à Altman ?"
    plain = documents.local_keyword(ngrams, question, cand)[:3]
    exact = CharNgramIndex.fit(texts[:3]).scores(question)
    assert not np.allclose(plain / plain.max(), exact / exact.max(), atol=1e-3)


def test_local_norms_do_not_depend_on_the_order_of_the_postings_chunks():
    texts = [f"texte {i} du document {i % 3} avec des mots {i * 7 % 11}" for i in range(30)]
    passages = [_passage(i, f"d{i % 3}", t) for i, t in enumerate(sorted(texts, key=lambda t: t[-2:]))]
    passages = sorted(passages, key=lambda p: p.id)
    ngrams = CharNgramIndex.fit([p.text for p in passages])
    documents = Documents(passages, DocumentWeights(within=1.0))  # documents interleaved: postings not by document
    norms = documents.local_norms(ngrams)
    cand = np.arange(len(passages))
    for doc in ("d0", "d1", "d2"):
        own = [p for p in passages if p.location.doc_id == doc]
        exact = CharNgramIndex.fit([p.text for p in own]).scores("mots du document 4")
        local = documents.local_keyword(ngrams, "mots du document 4", cand, norms)[[p.id for p in own]]
        assert np.allclose(local, exact, atol=1e-5)


def test_english_questions_keep_the_article_alone_order_in_the_archive(archive, retriever):
    """The glosses of an English question count inside the article as they do across the corpus: without
    them there, the order of the article's passages in an archive was not the article's alone."""
    for question in ("What did Altman demand in exchange for coming back?",
                     "Who temporarily ran OpenAI right after the firing?",
                     "Why did the board say it no longer trusted its chief executive?",
                     "Which subsidiaries kept their independence inside Microsoft?",
                     "Who did Microsoft hire from OpenAI?"):
        alone = _ranked(retriever, question, k=3)
        in_archive = _ranked(archive, question, k=10)
        seed = retriever._loaded.stored.passages[0].location.doc_id
        texts_alone = [retriever._loaded.stored.passages[int(i)].text for i in alone.ids]
        texts_archive = [archive._loaded.stored.passages[int(i)].text for i in in_archive.ids
                         if archive._loaded.stored.passages[int(i)].location.doc_id == seed][:3]
        assert texts_archive == texts_alone, question


def test_a_question_about_what_readers_said_is_answered_from_a_document_with_comments(archive):
    """The help entries have no comments: a question about the readers goes to the article that has them,
    even when an entry is closer in words; a question without the cue may still go to an entry."""
    for question in ("Qu'ont dit les lecteurs à propos des cookies et de la publicité ciblée ?",
                     "Did any reader mention cameras at work?"):
        ranked = _ranked(archive, question)
        stored = archive._loaded.stored
        assert ranked.about_comments
        assert {stored.passages[int(i)].location.doc_id for i in ranked.ids} == \
            {"nextinpact-2023-11-20-microsoft-recrute-sam-altman"}, question
    plain = _ranked(archive, "À quoi servent les cookies et la publicité ciblée ?")
    assert choose_article(plain) == "aide-cookies"


def test_the_comment_filter_applies_only_to_a_mixed_collection():
    commented = [_passage(0, "a", "texte"), Passage(1, "avis", Location(
        doc_id="a", kind="comment", section=None, paragraph=None, comment=1, start=0, end=4, doc_title="a",
        role="comment"))]
    plain = [_passage(2, "b", "aide"), _passage(3, "c", "autre")]
    mixed = Documents(commented + plain)
    assert mixed.with_comments(True).tolist() == [True, False, False]
    assert mixed.with_comments(False) is None
    assert Documents(plain).with_comments(True) is None  # no document has comments: nothing to prefer
    assert Documents(commented).with_comments(True) is None  # one document


def test_in_the_archive_the_kind_asked_for_reorders_the_article_passages_as_alone(archive, retriever):
    """The answer-type order (Ranker._kind_first) also holds over many documents, where a place's score is its
    document's: the article's passages trade places by their order within it, the places keep their scores."""
    from dataclasses import replace

    question = "Who has Microsoft taken on from OpenAI?"  # the title names Sam Altman and Greg Brockman
    for index in (retriever, archive):
        weights = index._loaded.ranker.weights
        ordered, plain = _ranked(index, question), _ranked(index, question, replace(weights, answer_kind=0.0))
        stored = index._loaded.stored
        assert "récupère Sam Altman" in stored.passages[int(ordered.ids[0])].text
        assert "récupère Sam Altman" not in stored.passages[int(plain.ids[0])].text
        few = weights.answer_kind_among
        assert set(ordered.ids[:few].tolist()) == set(plain.ids[:few].tolist())
    assert list(ordered.scores) == list(plain.scores)  # the archive: places keep their scores
