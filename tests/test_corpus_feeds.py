"""Feeds (feedparser), the feed registry and document ids, on their own."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.corpus import feed_registry
from index.corpus.feed_import import entry_document, looks_like_feed, parse_feed
from index.corpus.html_import import import_html
from index.corpus.ids import check_id, id_from_url
from index.errors import CorpusError

DATA = Path(__file__).parent / "data"


def feed(name: str):
    return parse_feed((DATA / "feeds" / name).read_bytes().replace(b"{{BASE}}", b"http://127.0.0.1:9"), name)


def test_rss_with_content_encoded():
    f = feed("rss_content_fr.xml")
    assert (f.title, f.language, len(f.entries)) == ("Le Journal du Bocage", "fr", 2)
    entry = f.entries[0]
    assert entry.guid == "https://journal-du-bocage.fr/?p=2291" and entry.published == "2024-10-08T13:45:00Z"
    doc = entry_document(entry, f)
    assert doc.title == "Vire : la piscine intercommunale rouvrira en janvier"
    assert doc.text.count("\n\n") == 3 and "dix-huit mois" in doc.text and "[…]" not in doc.text  # content, not summary


def test_rss_without_content_needs_the_pages():
    f = feed("rss_links_en.xml")
    assert [e.content_html for e in f.entries] == ["", ""]
    assert f.entries[1].guid == f.entries[1].link == "http://127.0.0.1:9/pages/blog_en_article_comments.html"


def test_atom_content_and_dates():
    f = feed("atom_en.xml")
    otters, mayflies = f.entries
    assert (otters.published, otters.updated, otters.author) == ("2024-05-20T07:00:00Z", "2024-05-21T09:30:00Z", "Dr Ffion Price")
    assert mayflies.updated == ""  # no <updated>: not made up from <published>
    doc = entry_document(otters, f)
    assert [b.section for b in doc.blocks if b.role == "paragraph"][-1] == "What the survey cannot tell us"


@pytest.mark.parametrize("data", [b"<html><body><p>Hello</p></body></html>", b"just text", b"<?xml version='1.0'?><root/>",
                                  b"<?xml version='1.0'?><rss><channel><item><title>x"])
def test_what_is_not_a_feed_is_refused(data):
    with pytest.raises(CorpusError, match="not an RSS or Atom feed"):
        parse_feed(data, "source.xml")


def test_feed_sniffing():
    assert looks_like_feed((DATA / "feeds" / "atom_en.xml").read_bytes())
    assert looks_like_feed(b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- generator -->\n<rss version='2.0'>")
    assert not looks_like_feed((DATA / "pages" / "wordpress_en_comments.html").read_bytes())


def test_registry_round_trip_and_damage(tmp_path):
    assert feed_registry.followed(tmp_path) == []
    assert feed_registry.follow(tmp_path, "http://127.0.0.1:9/feed", "T") is True
    assert feed_registry.follow(tmp_path, "http://127.0.0.1:9/feed") is False
    feed_registry.record_entries(tmp_path, "http://127.0.0.1:9/feed", {"g": "2024-01-01T00:00:00Z"})
    [entry] = feed_registry.followed(tmp_path)
    assert entry["url"] == "http://127.0.0.1:9/feed" and entry["entries"] == {"g": "2024-01-01T00:00:00Z"}
    (tmp_path / "feeds.json").write_text('{"feeds": 3}')
    with pytest.raises(CorpusError, match="damaged"):
        feed_registry.followed(tmp_path)


@pytest.mark.parametrize("url, expected", [
    ("https://www.lemonde.fr/economie/article/2024/03/12/la-cnil-sanctionne_6221.html",
     "lemonde-fr-economie-article-2024-03-12-la-cnil-sanctionne-6221"),
    ("https://example.org/?p=2291", "example-org-p-2291"),
    ("https://blog.example.org/posts/café-crème/", "blog-example-org-posts-cafe-creme"),
])
def test_ids_from_canonical_urls(url, expected):
    assert id_from_url(url) == expected == check_id(expected)


def test_long_urls_keep_distinct_ids():
    a = id_from_url("https://example.org/" + "very-long-title-" * 10 + "one")
    b = id_from_url("https://example.org/" + "very-long-title-" * 10 + "two")
    assert a != b and len(a) <= 80 and re.fullmatch(r"[a-z0-9-]+", a)


@pytest.mark.parametrize("name, language", [("blog_en_article_comments.html", "en"), ("forum_fr_microdata.html", "fr")])
def test_language_from_the_words_when_the_page_does_not_say(name, language):
    html = (DATA / "pages" / name).read_text("utf-8")
    html = re.sub(r'<html lang="[^"]*">', "<html>", html)
    assert "lang=" not in html[:200]
    assert import_html(html).language == language
