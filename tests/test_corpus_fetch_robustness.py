"""What a real server or feed does that a polite fixture does not, met by `verbatim corpus import` / `sync`:
a download cut short, bytes dripped past the timeout, an unasked-for compressed body, a malformed URL, a
redirect loop; a feed listing one article twice (a tracking-tagged link, an entry in two versions); a page
whose URL names another day than its own markup. Real HTTP on loopback (tests/corpus_http.py), the real CLI."""
from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest

from index.corpus.ids import canonical_url
from index.corpus.loader import load_corpus

from .conftest import SEED_PAGE
from .test_corpus_cli import DATA, WORDPRESS_ID, dirs, server, snapshot, verbatim  # noqa: F401 (fixtures)

PAGE = (DATA / "pages" / "wordpress_en_comments.html").read_bytes()
NO_CANONICAL = re.sub(rb'<link rel="canonical"[^>]*>', b"", PAGE)


def _one_line_error(rc: int, err: str) -> str:
    assert rc == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_download_cut_short_is_refused_and_the_stored_article_kept(capsys, dirs, server):
    corpus, _ = dirs
    assert verbatim(capsys, dirs, "import", str(DATA / "pages" / "wordpress_en_comments.html"))[0] == 0
    before = snapshot(corpus)

    def cut_short(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.write(PAGE[: len(PAGE) // 2])  # then the connection closes

    server.custom["/cut.html"] = cut_short
    err = _one_line_error(*verbatim(capsys, dirs, "import", server.url("/cut.html"))[::2])
    assert "cut off" in err and f"of {len(PAGE)} bytes" in err
    assert snapshot(corpus) == before  # the article and its saved page untouched


def test_a_server_that_drips_bytes_is_given_up_on_at_the_timeout(capsys, dirs, server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        try:
            for byte in PAGE[:40]:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client gave up
            pass

    server.custom["/drip.html"] = drip
    started = time.monotonic()
    rc, _, err = verbatim(capsys, dirs, "import", server.url("/drip.html"), "--timeout", "0.5")
    assert time.monotonic() - started < 2.5  # each wait is short: only the overall deadline stops it
    assert "took longer than 0.5 s" in _one_line_error(rc, err)
    assert not dirs[0].exists()


def test_a_compressed_body_sent_unasked_is_inflated_and_a_damaged_one_refused(capsys, dirs, server):
    packed = gzip.compress(PAGE)
    server.routes["/gz.html"] = (200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, packed)
    rc, out, err = verbatim(capsys, dirs, "import", server.url("/gz.html"))
    assert rc == 0 and out.startswith(f"imported {WORDPRESS_ID}"), err
    server.routes["/bad.html"] = (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, packed[:40] + b"x" * 60)
    assert "damaged compressed (gzip) body" in _one_line_error(*verbatim(capsys, dirs, "import", server.url("/bad.html"))[::2])


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:port/x", "https://"])
def test_a_malformed_url_is_a_one_line_error(capsys, dirs, url):
    assert "URL" in _one_line_error(*verbatim(capsys, dirs, "import", url)[::2])
    assert not dirs[0].exists()


def test_a_redirect_loop_is_one_line(capsys, dirs, server):
    server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    assert "HTTP error 302" in _one_line_error(*verbatim(capsys, dirs, "import", server.url("/loop"))[::2])


def _rss(*items: tuple[str, str]) -> bytes:
    entries = "".join(f"<item><title>Night buses</title><guid>{guid}</guid><link>{link}</link>"
                      "<pubDate>Thu, 14 Mar 2024 08:30:00 +0000</pubDate></item>" for guid, link in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title><link>http://x/</link>'
            f"<description>d</description>{entries}</channel></rss>").encode()


@pytest.mark.parametrize("page", [PAGE, NO_CANONICAL], ids=["canonical link", "no canonical link"])
def test_a_feed_listing_one_article_twice_stores_it_once_and_a_removal_holds(capsys, dirs, server, page):
    corpus, _ = dirs
    server.routes["/story.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, _rss(
        ("g1", server.url("/story.html")), ("g1-rss", server.url("/story.html?utm_source=rss&utm_medium=feed"))))
    rc, out, err = verbatim(capsys, dirs, "import", "--follow", server.url("/feed.xml"))
    assert rc == 0 and err == "", err
    [doc] = load_corpus(corpus)
    assert out.count(f"imported {doc.id}") == 1 and f"unchanged {doc.id}" in out
    assert "utm_" not in doc.url
    assert verbatim(capsys, dirs, "sync", "--no-build")[0] == 0
    assert verbatim(capsys, dirs, "remove", doc.id)[0] == 0
    for _ in range(2):  # neither entry brings it back, sync after sync
        rc, out, err = verbatim(capsys, dirs, "sync", "--no-build")
        assert rc == 0 and "imported" not in out and out.count("skipped") == 2, (out, err)
        assert not (corpus / f"{doc.id}.md").exists()


def test_an_entry_listed_in_two_versions_keeps_the_newest(capsys, dirs, server):
    def entry(updated: str, count: str) -> str:
        return (f"<entry><id>urn:vel-1</id><title>Vélos cargo</title><updated>{updated}</updated>"
                f"<link href='{server.url('/velos')}'/><content type='html'>&lt;p&gt;La ville prête {count} "
                "vélos cargo aux familles du centre.&lt;/p&gt;</content></entry>")
    atom = ("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Ville</title>"
            "<id>urn:ville</id><updated>2024-05-02T10:00:00Z</updated>"
            + entry("2024-05-02T10:00:00Z", "cinquante") + entry("2024-05-01T10:00:00Z", "quarante") + "</feed>")
    server.routes["/atom.xml"] = (200, {"Content-Type": "application/atom+xml"}, atom.encode())
    rc, out, err = verbatim(capsys, dirs, "import", server.url("/atom.xml"))
    assert rc == 0 and out.count("imported 127-0-0-1-velos") == 1 and "updated" not in out, (out, err)
    [doc] = load_corpus(dirs[0])
    assert "cinquante" in doc.text and "quarante" not in doc.text


def test_the_page_markup_dates_an_article_over_its_url(capsys, dirs, server):
    moved = PAGE.replace(b"2024-03-14T08:30:00+00:00", b"2024-03-16T07:05:00+00:00")  # its meta and <time>
    assert moved != PAGE
    server.routes["/2024/03/14/night-buses.html"] = (200, {"Content-Type": "text/html"}, moved)
    assert verbatim(capsys, dirs, "import", server.url("/2024/03/14/night-buses.html"))[0] == 0
    [doc] = load_corpus(dirs[0])
    assert doc.date == "2024-03-16T07:05:00+00:00"


def test_ids_and_sources_that_would_store_an_article_wrongly_are_refused(capsys, dirs, tmp_path):
    corpus, _ = dirs
    page = str(DATA / "pages" / "wordpress_en_comments.html")
    assert "without .md" in _one_line_error(*verbatim(capsys, dirs, "import", page, "--id", "story.md")[::2])
    assert not corpus.exists()
    assert verbatim(capsys, dirs, "import", page)[0] == 0
    before = snapshot(corpus)
    err = _one_line_error(*verbatim(capsys, dirs, "import", page, "--id", "copy")[::2])
    assert f"already in the corpus as {WORDPRESS_ID}" in err and snapshot(corpus) == before
    assert "empty SOURCE" in _one_line_error(*verbatim(capsys, dirs, "import", "")[::2])
    huge = tmp_path / "huge.html"
    with open(huge, "wb") as f:
        f.truncate(25 * 1024 * 1024)  # sparse: the size is refused before anything is read
    assert "larger than 20 MB" in _one_line_error(*verbatim(capsys, dirs, "import", str(huge))[::2])
    assert "more than 0" in _one_line_error(*verbatim(capsys, dirs, "import", page, "--timeout", "0")[::2])
    assert snapshot(corpus) == before


def test_an_article_without_a_web_address_lists_no_url(capsys, dirs):
    assert verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")[0] == 0
    rc, out, _ = verbatim(capsys, dirs, "list", "--json")
    [row] = json.loads(out)
    assert rc == 0 and row["url"] == ""


def test_canonical_url_drops_only_what_tracks_the_reader():
    assert canonical_url("https://a.fr/x.html?utm_source=rss&utm_medium=feed#comments") == "https://a.fr/x.html"
    assert canonical_url("https://a.fr/x?id=3&xtor=RSS-1&fbclid=abc") == "https://a.fr/x?id=3"
    assert canonical_url("https://a.fr/p?q=a%20b&page=2") == "https://a.fr/p?q=a%20b&page=2"  # untouched
    assert canonical_url("pages/000.txt") == "pages/000.txt"


def test_imports_into_one_corpus_take_turns(capsys, dirs, server):
    """While one import holds the corpus (a slow page), a second waits for it, then judges against what the
    first wrote: it says "unchanged", never "imported" over the first one's file. Nothing is written for the lock."""
    import threading

    from bot.cli import main

    corpus, data = dirs
    assert verbatim(capsys, dirs, "import", str(DATA / "pages" / "blog_en_article_comments.html"))[0] == 0
    server.routes["/story.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)
    server.delays["/story.html"] = 1.0
    first: list[int] = []
    slow = threading.Thread(target=lambda: first.append(main(["corpus", "import", server.url("/story.html"),
                                                             "--corpus", str(corpus), "--data-dir", str(data)])))
    slow.start()
    time.sleep(0.3)  # the first import holds the lock while it waits for the page
    started = time.monotonic()
    rc, out, err = verbatim(capsys, dirs, "import", str(DATA / "pages" / "wordpress_en_comments.html"))
    waited = time.monotonic() - started
    slow.join(10)
    assert first == [0] and rc == 0, err
    assert waited > 0.4 and f"unchanged {WORDPRESS_ID}" in out, (waited, out)
    assert sorted(p.name for p in corpus.iterdir() if p.name.startswith(".")) == []
