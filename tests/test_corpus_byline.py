"""Byline paragraphs that open an article body and only repeat its author and date metadata are left out
(index.corpus.byline); anything else that looks like one stays, and the text stays verbatim."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import ChunkerParams, chunk_document
from index.corpus import markdown_format
from index.corpus.byline import is_byline
from index.corpus.html_import import import_html

PAGES = Path(__file__).parent / "data" / "pages"
AUTHORS = "Jane Doe; John Smith"
DATES = ("2024-03-02T18:30:00+00:00", "2024-03-03T10:02:00+00:00")


@pytest.mark.parametrize("text", [
    "By Jane Doe and John Smith, Staff Reporters",
    "— Updated 3 March 2024 at 10:02",
    "By Jane Doe · Published Saturday 2 March 2024, 6:30 pm GMT",
    "JOHN SMITH, Senior Correspondent",
])
def test_a_line_of_names_and_metadata_dates_is_a_byline(text):
    assert is_byline(text, AUTHORS, DATES)


@pytest.mark.parametrize("text", ["Par Jeanne Dupont", "Par Jeanne Dupont, envoyée spéciale",
                                  "Publié le 2 mars 2024 à 18h30, mis à jour le 3 mars à 10h02"])
def test_french_bylines(text):
    assert is_byline(text, "Jeanne Dupont", DATES)


@pytest.mark.parametrize("text", [
    "By the end of March, 40 homes had been flooded.",  # words that are not a byline's
    "Jane Doe was not available for comment.",
    "— Updated 4 March 2024 at 10:02",  # a date the metadata does not give
    "By Peter Brown",  # not an author of the page
    "Updated",  # names nobody and no date
    "By Jane Doe and John Smith " + "and Jane Doe " * 8,  # not short
])
def test_anything_else_is_not_a_byline(text):
    assert not is_byline(text, AUTHORS, DATES)


def test_without_metadata_nothing_is_a_byline():
    assert not is_byline("By Jane Doe", "", ())
    assert not is_byline("Updated 3 March 2024", "", ())


def test_the_fixture_page_loses_its_bylines_and_nothing_else():
    doc = import_html((PAGES / "courier_en_byline.html").read_text("utf-8"))
    paragraphs = [b for b in doc.blocks if b.role == "paragraph"]
    assert paragraphs[0].text.startswith("The Riverside bridge, which carries") and paragraphs[0].number == 1
    assert paragraphs[1].number == 2
    assert "Staff Reporters" not in doc.text and "Updated 3 March" not in doc.text
    # the credit at the end names the authors too, but it is not an opening line: it stays
    assert paragraphs[-1].text == "Jane Doe and John Smith cover transport and local government for the Courier."
    assert doc.author == AUTHORS and doc.updated == DATES[1]


def _page(first: str, second: str = "") -> str:
    body = " ".join(["Le conseil municipal a voté mardi soir le budget de la piscine, qui rouvrira en septembre "
                     "après deux ans de travaux et une hausse des tarifs de vingt centimes."] * 2)
    return (f"""<html lang="fr"><head><title>La piscine rouvre</title>
<meta name="author" content="Jeanne Dupont">
<meta property="article:published_time" content="2024-03-02T18:30:00+01:00"></head>
<body><article><h1>La piscine rouvre</h1><p>{first}</p>{f"<p>{second}</p>" if second else ""}
<p>{body}</p><p>Les travaux ont coûté 4 millions d’euros, financés pour moitié par la région.</p>
</article></body></html>""")


def test_a_french_page_loses_its_byline():
    doc = import_html(_page("Par Jeanne Dupont", "Publié le 2 mars 2024 à 18h30"))
    first = next(b for b in doc.blocks if b.role == "paragraph")
    assert first.text.startswith("Le conseil municipal") and first.number == 1
    assert "Jeanne Dupont" not in doc.text and doc.author == "Jeanne Dupont"


def test_an_opening_line_that_says_more_is_kept():
    doc = import_html(_page("Par sa décision, Jeanne Dupont relance le débat."))
    first = next(b for b in doc.blocks if b.role == "paragraph")
    assert first.text == "Par sa décision, Jeanne Dupont relance le débat."


@pytest.mark.parametrize("max_tokens", [500, 24])
def test_passages_stay_exact_substrings(e5_embedder, max_tokens):
    doc = import_html((PAGES / "courier_en_byline.html").read_text("utf-8"))
    stored = markdown_format.loads(markdown_format.dumps(doc))
    assert stored == doc
    passages = chunk_document(stored, ChunkerParams(max_tokens=max_tokens), e5_embedder.count_tokens)
    assert passages and not any("Staff Reporters" in p.text for p in passages)
    for p in passages:
        assert stored.text[p.location.start:p.location.end] == p.text
