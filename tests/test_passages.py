"""Passages: verbatim spans of the document, cut only on sentence boundaries, located precisely."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from index.chunking import ChunkerParams, chunk_document, sentence_spans
from index.corpus.loader import load_corpus
from index.corpus.document import Block, Document

from .conftest import CORPUS_DIR


def words(text: str) -> int:
    return len(text.split())


def test_offsets_reproduce_the_text_and_locations_are_complete(e5_embedder):
    [doc] = load_corpus(CORPUS_DIR)
    passages = chunk_document(doc, ChunkerParams(max_tokens=200), e5_embedder.count_tokens)
    assert [p.id for p in passages] == list(range(len(passages)))
    for p in passages:
        loc = p.location
        assert doc.text[loc.start:loc.end] == p.text
        assert loc.doc_id == doc.id and loc.kind in ("article", "comment")
        assert e5_embedder.count_tokens(p.text) <= 200
        if loc.kind == "comment":
            assert loc.comment is not None and loc.section is None and loc.paragraph is None
        elif loc.role == "paragraph":
            assert loc.paragraph is not None and loc.comment is None
    comments = [p for p in passages if p.location.kind == "comment"]
    assert sorted({p.location.comment for p in comments}) == list(range(1, 19))
    assert next(p for p in comments if p.location.comment == 15).location.reply_to == 7


def test_no_passage_mixes_a_comment_with_the_article(e5_embedder):
    [doc] = load_corpus(CORPUS_DIR)
    article_text = doc.text[: doc.block_offsets[len(doc.blocks) - len(doc.comments)]]
    for p in chunk_document(doc, ChunkerParams(max_tokens=200), e5_embedder.count_tokens):
        inside_article = p.location.end <= len(article_text)
        assert inside_article == (p.location.kind == "article")


def test_long_block_is_split_on_sentences_never_mid_word():
    text = " ".join(f"Phrase numéro {i} avec quelques mots de plus pour la longueur." for i in range(40))
    doc = Document(id="d", title="T", blocks=(Block("title", "T"), Block("paragraph", text, section="S", number=1)))
    passages = chunk_document(doc, ChunkerParams(max_tokens=60), words)
    body = [p for p in passages if p.location.role == "paragraph"]
    assert len(body) > 1
    assert " ".join(p.text for p in body) == text
    for p in body:
        assert words(p.text) <= 60
        assert p.text.startswith("Phrase") and p.text.endswith(".")


def test_sentence_spans_on_french_punctuation():
    text = "Elles n’ont finalement pas abouti. « Et s’il n’était pas le gentil… », se demandait-il. Vraiment ? Oui !"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Elles n’ont finalement pas abouti.", "« Et s’il n’était pas le gentil… », se demandait-il.", "Vraiment ?",
        "Oui !"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdé XYZ.!?…«»\n ")), max_size=300))
def test_sentence_spans_cover_all_non_space_text_in_order(text):
    spans = sentence_spans(text)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    rebuilt = "".join(text[s:e] for s, e in spans)
    assert re.sub(r"\s", "", rebuilt) == re.sub(r"\s", "", text)


def test_memoised_sentence_spans_are_a_fresh_list_each_time():
    from index.chunking import sentence_spans

    text = "Première phrase. Deuxième phrase ! Troisième ?"
    first = sentence_spans(text)
    first.append((0, 1))  # a caller changing its list changes nobody else's
    assert sentence_spans(text) == [(0, 16), (17, 34), (35, 46)] and [text[s:e] for s, e in sentence_spans(text)][-1] \
        == "Troisième ?"
