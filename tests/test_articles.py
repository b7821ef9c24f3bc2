"""Asking about one article or all of them (issue 8 §3), on a real two-article index built with e5."""
from __future__ import annotations

import json

import pytest

from index.corpus.loader import load_corpus
from index.errors import UnknownArticle

from .conftest import SECOND_ARTICLE_ID, SEED_ARTICLE_ID, run_cli

BIKES = "Combien de vélos-cargos la métropole va-t-elle prêter ?"
ALTMAN = "Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?"


def test_articles_are_listed_newest_first_with_their_metadata(two_article_retriever):
    articles = two_article_retriever.articles()
    assert [a.id for a in articles] == [SECOND_ARTICLE_ID, SEED_ARTICLE_ID]
    second, seed = articles
    assert second.title.startswith("Lyon prête des vélos-cargos") and second.date == "2024-03-05T08:30"
    assert second.url == "https://news.example/2024/03/05/lyon-velos-cargo"
    assert second.source == "Le Quotidien d'exemple" and seed.source == "Next INpact"
    assert (second.passages, second.comments) == (7, 2)
    assert seed.comments == 18 and seed.url == ""
    assert two_article_retriever.built_at == two_article_retriever.manifest["created_at"]


def test_passages_know_their_article_and_stay_verbatim(two_article_retriever, two_article_corpus):
    docs = {d.id: d for d in load_corpus(two_article_corpus)}
    for passage in two_article_retriever._loaded.stored.passages:
        loc, doc = passage.location, docs[passage.location.doc_id]
        assert (loc.doc_title, loc.doc_date, loc.doc_url, loc.doc_source) == (doc.title, doc.date, doc.url, doc.source)
        assert doc.text[loc.start:loc.end] == passage.text


def test_without_an_article_the_question_finds_its_article(two_article_retriever):
    bikes, altman = two_article_retriever.ask_many([BIKES, ALTMAN])
    assert bikes.answered and bikes.article_id == SECOND_ARTICLE_ID
    assert bikes.hits[0].passage.location.doc_id == SECOND_ARTICLE_ID
    assert altman.answered and altman.article_id == SEED_ARTICLE_ID


def test_an_article_restricts_every_passage(two_article_retriever):
    # Asked about the other article, every passage still comes from the one asked for.
    answer = two_article_retriever.ask(BIKES, article=SEED_ARTICLE_ID)
    assert answer.hits and {h.passage.location.doc_id for h in answer.hits} == {SEED_ARTICLE_ID}
    assert answer.article_id == SEED_ARTICLE_ID
    comments = two_article_retriever.ask("Que pensent les lecteurs ?", scope="comments", article=SECOND_ARTICLE_ID)
    assert [h.passage.location.comment for h in comments.hits] in ([1, 2], [2, 1])
    batch = two_article_retriever.ask_many([BIKES, ALTMAN], article=SECOND_ARTICLE_ID)
    for question, answer in zip([BIKES, ALTMAN], batch):
        single = two_article_retriever.ask(question, article=SECOND_ARTICLE_ID)
        assert [h.passage.id for h in answer.hits] == [h.passage.id for h in single.hits]
        assert {h.passage.location.doc_id for h in answer.hits} == {SECOND_ARTICLE_ID}


def test_a_question_naming_an_article_is_answered_from_it_alone(two_article_retriever):
    """"Dans l'article sur les vélos-cargos, …": as with --article (index.named_article decides what names one)."""
    plain = two_article_retriever.ask("Qui est Emmett Shear ?")
    assert plain.hits[0].passage.location.doc_id == SEED_ARTICLE_ID
    named = two_article_retriever.ask("Dans l'article sur les vélos-cargos, qui est Emmett Shear ?")
    assert {h.passage.location.doc_id for h in named.hits} == {SECOND_ARTICLE_ID}
    assert named.article_id == SECOND_ARTICLE_ID
    other = two_article_retriever.ask("Dans cet article sur les vélos-cargos, qui est Emmett Shear ?")  # the channel's own
    assert other.hits[0].passage.location.doc_id == SEED_ARTICLE_ID


def test_an_english_second_look_keeps_the_restriction(two_article_retriever):
    answer = two_article_retriever.ask("What happened over the weekend?", article=SECOND_ARTICLE_ID)
    assert {h.passage.location.doc_id for h in answer.hits} == {SECOND_ARTICLE_ID}


def test_unknown_article_is_refused_before_any_model_work(two_article_retriever, monkeypatch):
    calls = []
    original = two_article_retriever.embedder.embed_queries
    monkeypatch.setattr(two_article_retriever.embedder, "embed_queries", lambda q: calls.append(q) or original(q))
    with pytest.raises(UnknownArticle) as e:
        two_article_retriever.ask_many([BIKES], article="nope")
    assert calls == [] and str(e.value) == "no article with id 'nope' (see `verbatim corpus list`)"


def test_cli_json_names_the_article_of_every_passage_and_of_the_answer(two_article_settings):
    result = run_cli("ask", "--json", BIKES, data_dir=two_article_settings.data_dir,
                     corpus_dir=two_article_settings.corpus_dir)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert {"question", "answered", "answer", "language", "passages", "build_id", "took_ms"} <= set(row)
    assert row["article"] == {"id": SECOND_ARTICLE_ID, "title": "Lyon prête des vélos-cargos électriques aux "
                              "familles pendant un mois", "date": "2024-03-05T08:30",
                              "url": "https://news.example/2024/03/05/lyon-velos-cargo"}
    for p in row["passages"]:
        assert set(p["article"]) == {"id", "title", "date", "url"}
        assert p["article"]["id"] == p["location"]["doc_id"]
    top = row["passages"][0]
    assert top["link"].startswith("https://news.example/2024/03/05/lyon-velos-cargo#:~:text=")
    assert "Lyon prête des vélos-cargos" in row["answer"] and "(5 mars 2024)" in row["answer"]


def test_cli_article_flag_single_and_batch(two_article_settings):
    dirs = dict(data_dir=two_article_settings.data_dir, corpus_dir=two_article_settings.corpus_dir)
    one = run_cli("ask", "--json", "--article", SEED_ARTICLE_ID, BIKES, **dirs)
    assert one.returncode == 0, one.stderr
    row = json.loads(one.stdout)
    assert row["article"]["id"] == SEED_ARTICLE_ID
    assert {p["location"]["doc_id"] for p in row["passages"]} == {SEED_ARTICLE_ID}
    batch = run_cli("ask", "--json", "--article", SECOND_ARTICLE_ID, "-", stdin=f"{ALTMAN}\n{BIKES}\n", **dirs)
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert batch.returncode == 0 and len(rows) == 2
    assert all({p["location"]["doc_id"] for p in r["passages"]} == {SECOND_ARTICLE_ID} for r in rows)


def test_cli_unknown_article_is_one_line_and_rc_1(two_article_settings):
    dirs = dict(data_dir=two_article_settings.data_dir, corpus_dir=two_article_settings.corpus_dir)
    one = run_cli("ask", "--article", "nope", BIKES, **dirs)
    assert one.returncode == 1 and one.stdout == ""
    assert one.stderr == "verbatim: error: no article with id 'nope' (see `verbatim corpus list`)\n"
    batch = run_cli("ask", "--json", "--article", "nope", "-", stdin=f"{BIKES}\n{ALTMAN}\n", **dirs)
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert batch.returncode == 1 and "Traceback" not in batch.stderr
    assert [r["question"] for r in rows] == [BIKES, ALTMAN]
    assert all("no article with id 'nope'" in r["error"] and r["passages"] == [] for r in rows)


def test_single_article_corpus_answers_as_before(built_settings):
    result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=built_settings.data_dir)
    assert result.returncode == 0
    assert "(20 novembre 2023)" not in result.stdout and "http" not in result.stdout
