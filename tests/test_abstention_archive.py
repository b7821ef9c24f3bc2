"""Abstention over many documents (index/evidence.py, index/answer.py): a word many documents hold is weak
evidence, and a question naming what the collection never mentions is about something else.

Real parts: the real e5 model and a real build of a small archive, the seed article plus six real CNIL
help-centre entries copied from the shared evaluation corpus into tests/data/cnil_sample/ (five of which mention 2018, one Windows 10).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from index.evidence import CollectionSpread, absent_names
from index.settings import Settings
from index.text_norm import term

from .conftest import CORPUS_DIR

CNIL_CORPUS = Path(__file__).parent / "data" / "cnil_sample"  # six entries of the shared CNIL set
ENTRIES = ("cnil-023-windows-10-quelles-precautions-elementaires-prendre",
           "cnil-262-la-cnil-a-t-elle-une-copie-des-fichiers-qui-lui-sont-declare",
           "cnil-266-comment-obtenir-la-liste-des-declarations-faites-a-la-cnil-p",
           "cnil-161-taj-traitement-d-antecedents-judiciaires-anciens-stic-et-jud",
           "cnil-332-credits-aux-personnes-physiques-que-faire",
           "cnil-341-opticiens-lunetiers-que-faire")
WINDOWS = ENTRIES[0]


@pytest.fixture(scope="module")
def archive(tmp_path_factory, e5_embedder):
    from index.build import build_index
    from index.service import Retriever

    sources = [CNIL_CORPUS / f"{e}.md" for e in ENTRIES]
    if not all(p.exists() for p in sources):
        pytest.skip(f"the CNIL corpus is not at {CNIL_CORPUS}")
    corpus = tmp_path_factory.mktemp("abstain-corpus")
    for path in [*CORPUS_DIR.glob("*.md"), *sources]:
        shutil.copy(path, corpus / path.name)
    settings = Settings.from_env(env={}, data_dir=str(tmp_path_factory.mktemp("abstain-data")),
                                 corpus_dir=str(corpus))
    build_index(settings, e5_embedder)
    return Retriever.open(settings, build_if_missing=False)


def _stored(retriever):
    return retriever._loaded.stored


def test_a_question_sharing_only_a_year_many_entries_hold_is_abstained(archive):
    question = "Quel album s'est le mieux vendu en 2018 ?"
    stored = _stored(archive)
    found, _ = stored.keywords.vocabulary.match(question)
    assert set(found) == {term("2018", "fr")}  # the one word it shares with the collection
    spread = CollectionSpread.of(stored)
    assert spread.documents == 7 and spread.df[term("2018", "fr")] >= 5
    answer = archive.ask(question)
    assert answer.extra["keyword_evidence"] >= Settings.from_env(env={}).abstain_min_keyword_evidence  # before
    assert not answer.answered
    counted_flat = archive.__class__(Settings.from_env(env={"VERBATIM_ABSTAIN_SPREAD": "0"}, data_dir=str(
        archive.settings.data_dir), corpus_dir=str(archive.settings.corpus_dir)), archive.embedder, archive._loaded)
    assert counted_flat.ask(question).answered  # what the rule changes: without the spread it was answered


def test_a_question_naming_what_no_document_mentions_is_abstained_beside_a_close_entry(archive):
    answer = archive.ask("Comment installer Perl sur Windows 10 ?")
    assert answer.hits[0].passage.location.doc_id == WINDOWS  # the nearest entry is the Windows one...
    assert answer.extra["absent_names"] > 0
    assert not answer.answered  # ...but it says nothing of Perl


def test_on_topic_questions_are_answered_from_their_document(archive):
    seed = archive.ask("Qui est Emmett Shear ?")
    assert seed.answered and seed.quoted[0].passage.location.doc_id not in ENTRIES
    windows = archive.ask("Quels paramètres de vie privée régler quand on installe Windows 10 ?")
    assert windows.answered and windows.quoted[0].passage.location.doc_id == WINDOWS


def test_a_title_that_restates_the_question_is_not_quoted_as_its_answer(archive):
    """Help entries are titled as questions: asked in its own words, the title ranks first and answers nothing."""
    asked = archive.ask("La CNIL a-t-elle une copie des fichiers qui lui sont déclarés ?")
    assert asked.hits[0].passage.location.role == "title"  # it still ranks first (and so chose the entry)
    first = asked.quoted[0].passage
    assert asked.answered and first.location.doc_id == ENTRIES[1] and first.location.role != "title"
    assert first.text.startswith("Non, la CNIL ne détient pas")
    assert all(h.passage.location.role != "title" for h in asked.quoted)
    # With only the title among the hits (k=1), its entry's text is looked up within the entry and quoted.
    alone = archive.ask("La CNIL a-t-elle une copie des fichiers qui lui sont déclarés ?", k=1)
    assert [h.passage.location.role for h in alone.hits] == ["title"]
    assert alone.answered and alone.quoted[0].passage.text.startswith("Non, la CNIL ne détient pas")
    assert alone.quoted[0].passage.location.doc_id == ENTRIES[1]


def test_one_document_keeps_every_word_in_full_and_names_it_holds_weigh_nothing(archive):
    passages = [SimpleNamespace(text="Sam Altman rejoint Microsoft en 2018.", location=SimpleNamespace(doc_id="a"))]
    one = CollectionSpread(passages)
    assert one.documents == 1 and one.weight(term("2018", "fr")) == 1.0
    vocabulary = _stored(archive).keywords.vocabulary
    assert absent_names("Que dit la CNIL sur Windows 10 ?", vocabulary) == 0  # both are in the collection
    assert absent_names("Which French minister met Sam Altman?", vocabulary) < 0.5  # an everyday word, capitalised
    assert absent_names("Comment installer Perl sur Windows 10 ?", vocabulary) >= 1.5  # a rare name


OPTICIANS = ENTRIES[5]


def _top(dense: float, about_comments: bool = False):
    """A ranking whose top passage has this dense similarity (what beside_its_document reads of it)."""
    import numpy as np

    from index.ranking.fusion import Ranked

    one = np.zeros(1, dtype=np.int64)
    return Ranked(one, np.ones(1), np.array([dense]), one, about_comments=about_comments)


def test_a_question_whose_words_only_other_documents_hold_is_not_answered_from_this_one(archive, retriever):
    """Over many documents the question's evidence words must be in the document it would be answered from:
    "opticien" ties a question to the opticians' entry, not to the Windows one that happens to be nearest."""
    from index.answer import beside_its_document

    stored, settings = _stored(archive), archive.settings
    question = "Quel opticien choisir pour un enfant ?"
    near = _top(0.80)
    assert beside_its_document(question, "fr", near, stored, settings, WINDOWS)
    assert not beside_its_document(question, "fr", near, stored, settings, OPTICIANS)
    # close in meaning, about the comments, another language, the rule off, one document: not applied
    assert not beside_its_document(question, "fr", _top(0.90), stored,
                                   settings, WINDOWS)
    assert not beside_its_document(question, "fr", _top(0.80, about_comments=True), stored,
                                   settings, WINDOWS)
    assert not beside_its_document("Which optician should I choose?", "en", near, stored, settings, WINDOWS)
    off = Settings.from_env(env={"VERBATIM_ABSTAIN_DOCUMENT_WORDS": "0"})
    assert not beside_its_document(question, "fr", near, stored, off, WINDOWS)
    seed = _stored(retriever)
    assert not beside_its_document("Quel opticien choisir ?", "fr", near, seed, retriever.settings,
                                   seed.passages[0].location.doc_id)


def test_the_meaning_alone_bar_rises_with_the_passages_a_question_could_meet_by_chance():
    from index.answer import alone_bar

    settings = Settings.from_env(env={})
    base, reference = settings.answer_min_score_alone, settings.answer_alone_passages
    assert alone_bar(settings, reference) == base and alone_bar(settings, 1) == base  # never lower
    bars = [alone_bar(settings, n) for n in (reference, 100, 1_000, 4_040, 100_000)]
    assert bars == sorted(bars) and len(set(bars)) == len(bars)
    assert 0.02 < alone_bar(settings, 4_040) - base < 0.03  # the archive: off-topic questions' best cosine +0.02
    off = Settings.from_env(env={"VERBATIM_ANSWER_ALONE_SPREAD": "0"})
    assert alone_bar(off, 100_000) == base


# French off-topic questions in everyday words: nothing in the collection, yet some passage of it is close
OFF_TOPIC_EVERYDAY = ("Comment réussir une pâte à crêpes sans grumeaux ?", "Comment apprendre à jouer de la guitare ?",
                      "Quelle est la meilleure recette de crêpes ?", "Comment changer un pneu de vélo ?",
                      "Où partir en vacances en Bretagne ?", "Comment entretenir un potager en été ?",
                      "Comment faire une mayonnaise maison ?")


def test_in_a_larger_collection_an_off_topic_question_needs_more_than_a_chance_closeness(archive):
    """The archive holds 7 documents (~100 passages): the bar is a little above the article's. The off-topic
    questions between the two bars, with no evidence words, would be answered on meaning alone without the rise."""
    from index.answer import alone_bar

    stored, settings = _stored(archive), archive.settings
    base, bar = settings.answer_min_score_alone, alone_bar(settings, len(stored.passages))
    assert bar > base
    flat = archive.__class__(Settings.from_env(env={"VERBATIM_ANSWER_ALONE_SPREAD": "0"}, data_dir=str(
        settings.data_dir), corpus_dir=str(settings.corpus_dir)), archive.embedder, archive._loaded)
    between = [(q, a) for q, a in zip(OFF_TOPIC_EVERYDAY, archive.ask_many(list(OFF_TOPIC_EVERYDAY)))
               if base <= a.extra["dense"][0] < bar and a.extra["collection_evidence"] == 0 == a.extra["absent_names"]]
    assert between, "no off-topic question fell between the two bars"
    for (question, answer), before in zip(between, flat.ask_many([q for q, _ in between])):
        assert not answer.answered, question
        assert before.answered, question  # what the rise changes
    for question, answer in zip(OFF_TOPIC_EVERYDAY, archive.ask_many(list(OFF_TOPIC_EVERYDAY))):
        if answer.extra["dense"][0] < base:
            assert not answer.answered, question


def test_translated_words_count_by_how_many_documents_hold_them_as_the_question_s_own_words(archive):
    """The second look's translations (an English word → a corpus word) were counted in full over many
    documents; a translation into a word most documents hold ties the question to none of them."""
    from index.evidence import collection_evidence

    stored = _stored(archive)
    vocabulary, spread = stored.keywords.vocabulary, CollectionSpread.of(stored)
    common = max((f for f in vocabulary.forms if len(f) > 4 and vocabulary.forms[f] < 4.5),
                 key=lambda f: spread.df[term(f, "fr")])  # the rare-in-everyday-language word most entries hold
    rare = next(f for f in vocabulary.forms if len(f) > 6 and spread.df[term(f, "fr")] == 1
                and vocabulary.forms[f] < 4.0)  # a word one document holds
    question = "What about the zzword?"
    assert vocabulary.match(question)[0] == {}  # no word of its own: only what its translation gives
    flat = vocabulary.evidence(question, {"zzword": common})
    assert flat > 0 and spread.weight(term(common, "fr")) < 0.25
    assert collection_evidence(question, vocabulary, spread, {"zzword": common}) < 0.25 * flat
    assert collection_evidence(question, vocabulary, spread, {"zzword": rare}) == \
        pytest.approx(vocabulary.evidence(question, {"zzword": rare}))  # one document: counted in full
    assert collection_evidence(question, vocabulary, spread, None) == 0


def test_an_acronym_in_the_english_plural_is_the_corpus_s_acronym(archive):
    vocabulary = _stored(archive).keywords.vocabulary
    assert "tpu" in vocabulary.forms and "tpus" not in vocabulary.forms  # the article writes "TPU"
    found, missing = vocabulary.match("Does Google have its own TPUs?")
    assert term("tpu", "fr") in found and "tpus" not in missing
    assert vocabulary.match("Does Google have its own tpus?")[1] == ["tpus"]  # lower case: a word, not an acronym


def test_an_english_question_takes_the_second_look_it_takes_in_its_article_alone(tmp_path, e5_embedder, built_settings,
                                                                                 retriever):
    """"executive" is found in a help entry's "exécuté", which gives the question enough evidence over the
    collection to skip the look at its words' translations; in the article it is about it has too little, as
    the article alone says. The look is taken, and the article's passages come in the order they have alone."""
    from index.build import build_index
    from index.service import Retriever

    entry = CNIL_CORPUS / "cnil-133-fijaisv-fichier-judiciaire-automatise-des-auteurs-d-infracti.md"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in [*CORPUS_DIR.glob("*.md"), entry]:
        shutil.copy(path, corpus / path.name)
    settings = built_settings.with_(data_dir=tmp_path / "data", corpus_dir=corpus)
    shutil.copytree(built_settings.data_dir / "embeddings", settings.data_dir / "embeddings")  # the article's vectors
    build_index(settings, e5_embedder)
    two = Retriever.open(settings, build_if_missing=False)
    question = "Why did the board say it no longer trusted its chief executive?"
    found, _ = two._loaded.stored.keywords.vocabulary.match(question)
    assert term("executive", "fr") in found  # the help entry's word
    with_entry, alone = two.ask(question), retriever.ask(question)
    assert alone.extra["second_look"] and with_entry.extra["second_look"]
    article = with_entry.hits[0].passage.location.doc_id
    assert article == alone.hits[0].passage.location.doc_id
    order = [h.passage.text for h in with_entry.hits if h.passage.location.doc_id == article]
    assert order == [h.passage.text for h in alone.hits][: len(order)]
