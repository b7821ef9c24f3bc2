"""Import of captured page text: chrome dropped, nothing of the article or comments lost or altered."""
from __future__ import annotations

import re

import pytest

from index.corpus import markdown_format
from index.corpus.loader import load_corpus
from index.corpus.page_import import import_page
from index.errors import CorpusError

from .conftest import CORPUS_DIR

CHROME = ["Connexion", "Abonnez-vous", "Commentaires (18)", "Vous devez être abonné", "votre avatar", "Fermer"]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def doc(seed_page):
    return import_page(seed_page, doc_id="seed")


def test_chrome_is_dropped(doc):
    text = markdown_format.dumps(doc)
    for chrome in CHROME:
        assert chrome not in text, chrome
    body = text.split("\n---\n", 1)[1]
    assert doc.title not in body  # the repeated title and the table of contents are gone


def test_header_fields(doc):
    assert doc.title.startswith("Intelligence artificielle")
    assert doc.kicker == "Ctrl, Alt(man), supprime"
    assert doc.date == "2023-11-20T09:57"
    assert doc.language == "fr"


def test_sections_and_eighteen_numbered_comments(doc):
    sections = []
    for block in doc.blocks:
        if block.role == "paragraph" and block.section not in sections:
            sections.append(block.section)
    nbsp = "\u00a0"  # the site puts a no-break space before French colons and question marks
    assert sections == [None, f"Résumé de la première saison{nbsp}: licenciements et démissions",
                        f"La deuxième saison commence{nbsp}: Sam et Greg chez Microsoft",
                        f"Microsoft gagnant sur tous les tableaux{nbsp}?", "Guerre des TPU"]
    comments = doc.comments
    assert [c.number for c in comments] == list(range(1, 19))
    assert comments[0].text.startswith("C’est un monde de requin.")
    assert comments[-1].text == ":mdr:"


def test_reply_is_recognised_with_its_quote(doc):
    reply = doc.comments[14]
    assert reply.number == 15
    assert reply.reply_to == 7 and reply.quote_author == "SebGF"
    assert reply.quote == "Ca va finir en biopic sur Netflix tout ça à force."
    assert reply.quote in reply.text
    assert all(c.reply_to is None for c in doc.comments if c.number != 15)


def test_every_block_is_verbatim_page_text(doc, seed_page):
    for block in doc.blocks:
        for line in block.text.split("\n"):
            if line:
                assert line in seed_page, line
        assert squash(block.text) in squash(seed_page)


def test_every_sentence_of_body_and_comments_is_kept(doc, seed_page):
    lines = seed_page.split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("Le 20 novembre 2023"))
    end = max(i for i, l in enumerate(lines) if l.strip() == doc.title)
    kept = squash(doc.text)
    chrome = set(CHROME) | {"Vous devez être abonné pour pouvoir commenter."}
    headings = {b.section for b in doc.blocks if b.section}
    for line in lines[start + 1:end]:
        line = line.strip()
        if not line or line in chrome or line in headings:
            continue
        assert squash(line) in kept, line


def test_markdown_round_trip_is_lossless(doc):
    assert markdown_format.loads(markdown_format.dumps(doc)) == doc


def test_committed_corpus_matches_a_fresh_import(seed_page):
    [committed] = load_corpus(CORPUS_DIR)
    fresh = import_page(seed_page, doc_id=committed.id, provenance=committed.provenance)
    assert committed == fresh


@pytest.mark.parametrize("page", ["", "Connexion\nAbonnez-vous\n", "Un titre\n\nDu texte sans date.\n"])
def test_pages_that_are_not_articles_are_refused(page):
    with pytest.raises(CorpusError):
        import_page(page)


@pytest.mark.parametrize("text, message", [
    ("no front matter", "front matter"),
    ("---\nid: x\n", "not closed"),
    ("---\ntitle: \"T\"\n---\nBody\n", "id"),
    ("---\nid: x\ntitle: \"unterminated\n---\n", "quoted"),
])
def test_malformed_markdown_is_a_clear_error(text, message):
    with pytest.raises(CorpusError, match=message):
        markdown_format.loads(text)


def test_seed_markdown_is_byte_for_byte_the_committed_file(seed_page):
    [committed] = load_corpus(CORPUS_DIR)
    fresh = import_page(seed_page, doc_id=committed.id, provenance=committed.provenance)
    assert markdown_format.dumps(fresh) == (CORPUS_DIR / f"{committed.id}.md").read_text("utf-8")
    # the fields documents gained (author, updated, guid, content hash) default to empty for old files
    assert (committed.author, committed.updated, committed.guid, committed.content_hash) == ("", "", "", "")
