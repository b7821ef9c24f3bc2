"""`verbatim corpus import/sync/list/remove` end to end: real files, real trafilatura and feedparser, real
HTTP from a loopback server (never anywhere else), real index builds."""
from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest

from bot.cli import main
from index.chunking import ChunkerParams, chunk_document
from index.corpus.loader import load_corpus

from .conftest import SEED_PAGE
from .corpus_http import FixtureServer

DATA = Path(__file__).parent / "data"
WORDPRESS_ID = "harbourgazette-co-uk-2024-03-14-council-keeps-night-buses"
LIBRARY_ID = "blog-northfieldlibrary-org-posts-why-we-stopped-late-fees"


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.close()


@pytest.fixture
def dirs(tmp_path):
    return tmp_path / "corpus", tmp_path / "data"


def verbatim(capsys, dirs, *args):
    corpus, data = dirs
    rc = main(["corpus", *args, "--corpus", str(corpus), "--data-dir", str(data)])
    out, err = capsys.readouterr()
    return rc, out, err


def snapshot(corpus: Path) -> dict:
    """Every article and page file with its mtime (feeds.json, which records each sync's time, left out)."""
    if not corpus.exists():
        return {}
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(corpus.rglob("*"))
            if p.is_file() and p.name != "feeds.json"}


def test_seed_page_text_imports_as_before_and_reimport_is_unchanged(capsys, dirs):
    corpus, _ = dirs
    rc, out, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0, err
    assert "imported seed" in out and "18 comments" in out
    [committed] = load_corpus(SEED_PAGE.parent.parent)
    body = (corpus / "seed.md").read_text("utf-8").split("\n---\n", 1)[1]
    assert body == (SEED_PAGE.parent.parent / f"{committed.id}.md").read_text("utf-8").split("\n---\n", 1)[1]
    before = snapshot(corpus)
    rc, out, _ = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0 and out.strip() == "unchanged seed"
    assert snapshot(corpus) == before


def test_page_url_fetched_with_user_agent_then_unchanged_then_updated(capsys, dirs, server):
    corpus, _ = dirs
    url = server.url("/pages/wordpress_en_comments.html")
    rc, out, err = verbatim(capsys, dirs, "import", url)
    assert rc == 0, err
    assert f"imported {WORDPRESS_ID}: 5 paragraphs, 4 comments" in out
    [(path, agent)] = server.requests
    assert path == "/pages/wordpress_en_comments.html" and re.fullmatch(r"Verbatim/\S+ \(.+\)", agent)
    doc = load_corpus(corpus)[0]
    assert doc.url == "https://harbourgazette.co.uk/2024/03/14/council-keeps-night-buses/"
    assert len(doc.content_hash) == 64 and doc.provenance == f"pages/{WORDPRESS_ID}.html"

    before = snapshot(corpus)
    rc, out, _ = verbatim(capsys, dirs, "import", url)
    assert rc == 0 and out.strip() == f"unchanged {WORDPRESS_ID}"
    assert snapshot(corpus) == before  # not even an mtime moved

    page = (DATA / "pages" / "wordpress_en_comments.html").read_bytes()
    server.routes["/pages/wordpress_en_comments.html"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                                          page.replace(b"31 to 12", b"32 to 11"))
    rc, out, _ = verbatim(capsys, dirs, "import", url)
    assert rc == 0 and out.startswith(f"updated {WORDPRESS_ID}:")
    [doc2] = load_corpus(corpus)
    assert "voted 32 to 11" in doc2.text and doc2.content_hash != doc.content_hash
    # the same article saved as a file lands on the same id (its canonical URL)
    rc, out, _ = verbatim(capsys, dirs, "import", str(DATA / "pages" / "wordpress_en_comments.html"))
    assert rc == 0 and out.startswith(f"updated {WORDPRESS_ID}:") and len(load_corpus(corpus)) == 1


def test_non_utf8_page_over_http_with_charset_header(capsys, dirs, server):
    raw = (DATA / "pages" / "vignoble_fr_windows1252.html").read_bytes()
    raw = re.sub(rb"<meta http-equiv=[^>]*>", b"", raw)  # only the HTTP header declares the charset
    server.routes["/vendanges"] = (200, {"Content-Type": "text/html; charset=ISO-8859-1"}, raw)
    rc, out, err = verbatim(capsys, dirs, "import", server.url("/vendanges"), "--id", "vendanges-2024")
    assert rc == 0, err
    # 4: its opening "Publié le 29 août 2024 par Hélène Moreau" repeats the metadata (index.corpus.byline)
    assert "imported vendanges-2024: 4 paragraphs, no comments found on the page, article imported alone" in out
    [doc] = load_corpus(dirs[0])
    assert "d’une semaine" in doc.title and "œnotourisme" in doc.text and "1 450 €" in doc.text


def test_feeds_with_content_atom_and_fetched_entries(capsys, dirs, server, e5_embedder):
    corpus, _ = dirs
    rc, out, err = verbatim(capsys, dirs, "import", server.url("/feeds/rss_content_fr.xml"),
                            str(DATA / "feeds" / "atom_en.xml"))
    assert rc == 0, err
    assert len(re.findall(r"^imported ", out, re.M)) == 4 and len(server.requests) == 1  # full content: no page fetched
    rc, out, err = verbatim(capsys, dirs, "import", server.url("/feeds/rss_links_en.xml"))
    assert rc == 0, err
    assert f"imported {WORDPRESS_ID}: 5 paragraphs, 4 comments" in out
    assert f"imported {LIBRARY_ID}: 4 paragraphs, 3 comments" in out
    assert [p for p, _ in server.requests[1:]] == ["/feeds/rss_links_en.xml", "/pages/wordpress_en_comments.html",
                                                  "/pages/blog_en_article_comments.html"]
    docs = {d.id: d for d in load_corpus(corpus)}
    piscine = docs["journal-du-bocage-fr-2024-10-08-vire-piscine-reouverture"]
    assert (piscine.guid, piscine.author, piscine.date, piscine.language, piscine.source) == (
        "https://journal-du-bocage.fr/?p=2291", "Anne-Sophie Lecoq", "2024-10-08T13:45:00Z", "fr", "Le Journal du Bocage")
    assert [b.section for b in piscine.blocks if b.role == "paragraph"] == [None, "Un bassin nordique", "Un bassin nordique"]
    otters = docs["riverside-science-example-org-notes-otters-lower-wye"]
    assert otters.updated == "2024-05-21T09:30:00Z" and otters.author == "Dr Ffion Price" and "otters’ droppings" in otters.text
    assert docs[WORDPRESS_ID].guid == "harbourgazette-4182"

    # entries already in the corpus are not fetched again; nothing is rewritten
    before, seen = snapshot(corpus), len(server.requests)
    rc, out, _ = verbatim(capsys, dirs, "import", server.url("/feeds/rss_links_en.xml"),
                          server.url("/feeds/rss_content_fr.xml"))
    assert rc == 0 and out.split() == ["unchanged", WORDPRESS_ID, "unchanged", LIBRARY_ID, "unchanged",
                                       "journal-du-bocage-fr-2024-10-08-vire-piscine-reouverture", "unchanged",
                                       "journal-du-bocage-fr-2024-10-07-conde-marche-jeudi-demenage"]
    assert len(server.requests) == seen + 2 and snapshot(corpus) == before

    # every passage of every imported fixture is an exact substring of the stored text
    for doc in load_corpus(corpus):
        for max_tokens in (500, 24):
            for p in chunk_document(doc, ChunkerParams(max_tokens=max_tokens), e5_embedder.count_tokens):
                assert doc.text[p.location.start:p.location.end] == p.text


def test_follow_then_sync_imports_changes_and_rebuilds(capsys, dirs, server):
    corpus, data = dirs
    feed_url = server.url("/feeds/rss_links_en.xml")
    rc, out, err = verbatim(capsys, dirs, "import", "--follow", feed_url)
    assert rc == 0, err
    assert f"following {feed_url} (The Harbour Gazette, 2 entries)" in out
    registry = json.loads((corpus / "feeds.json").read_text())
    assert [f["url"] for f in registry["feeds"]] == [feed_url]

    rc, out, err = verbatim(capsys, dirs, "sync")
    assert rc == 0, err
    assert out.count("unchanged ") == 2 and "built " in out
    rc, out, _ = verbatim(capsys, dirs, "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows[WORDPRESS_ID]["comments"] == 4 and rows[WORDPRESS_ID]["passages"] >= 10
    assert rows[LIBRARY_ID]["date"] == "2024-09-02" and rows[LIBRARY_ID]["url"].startswith("https://blog.")

    before = snapshot(corpus)
    rc, out, _ = verbatim(capsys, dirs, "sync")
    assert rc == 0 and "index is up to date" in out and snapshot(corpus) == before
    assert json.loads((corpus / "feeds.json").read_text())["feeds"][0]["last_sync"]

    # the newsroom edits an article and bumps its date in the feed: the next sync updates and rebuilds
    feed = (DATA / "feeds" / "rss_links_en.xml").read_bytes().replace(b"{{BASE}}", server.base.encode())
    server.routes["/feeds/rss_links_en.xml"] = (200, {"Content-Type": "application/rss+xml"}, feed.replace(
        b"Thu, 14 Mar 2024 08:30:00 +0000", b"Fri, 15 Mar 2024 17:05:00 +0000"))
    page = (DATA / "pages" / "wordpress_en_comments.html").read_bytes()
    server.routes["/pages/wordpress_en_comments.html"] = (200, {"Content-Type": "text/html"}, page.replace(
        b"for six weeks.", b"for six weeks. Drop-in sessions will be held at the library."))
    rc, out, _ = verbatim(capsys, dirs, "sync")
    assert rc == 0 and f"updated {WORDPRESS_ID}" in out and f"unchanged {LIBRARY_ID}" in out and "built " in out
    assert "Drop-in sessions" in {d.id: d for d in load_corpus(corpus)}[WORDPRESS_ID].text

    rc, out, _ = verbatim(capsys, dirs, "remove", LIBRARY_ID)
    assert rc == 0 and f"removed {LIBRARY_ID}" in out
    assert not (corpus / f"{LIBRARY_ID}.md").exists() and not (corpus / "pages" / f"{LIBRARY_ID}.html").exists()
    rc, out, _ = verbatim(capsys, dirs, "list")
    assert LIBRARY_ID not in out and WORDPRESS_ID in out

    # the feed still lists the removed article: a sync must not bring it back (the newsroom removed it)
    page_url = server.url("/pages/blog_en_article_comments.html")
    rc, out, _ = verbatim(capsys, dirs, "sync")
    assert rc == 0 and f"skipped {page_url}: removed as {LIBRARY_ID} with `verbatim corpus remove`" in out
    assert not (corpus / f"{LIBRARY_ID}.md").exists()
    # importing it again by hand means it is wanted again, and later syncs keep it
    rc, out, err = verbatim(capsys, dirs, "import", page_url)
    assert rc == 0 and f"imported {LIBRARY_ID}" in out, err
    assert "removed" not in json.loads((corpus / "feeds.json").read_text())
    rc, out, _ = verbatim(capsys, dirs, "sync")
    assert rc == 0 and "skipped" not in out and (corpus / f"{LIBRARY_ID}.md").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BAD = {
    "binary file": (lambda tmp, srv: [str(_write(tmp / "photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0" * 40))],
                    "binary file"),
    "empty file": (lambda tmp, srv: [str(_write(tmp / "empty.html", b" \n"))], "is empty"),
    "page without article": (lambda tmp, srv: [str(DATA / "pages" / "menu_only.html")], "no article text"),
    "unreachable URL": (lambda tmp, srv: [f"http://127.0.0.1:{_closed_port()}/article"], "cannot reach"),
    "HTTP error": (lambda tmp, srv: [srv.url("/gone.html")], "HTTP error 404"),
    "not a feed": (lambda tmp, srv: ["--follow", srv.url("/pages/wordpress_en_comments.html")],
                   "is not an RSS or Atom feed"),
    "not a feed file": (lambda tmp, srv: [str(_write(tmp / "x.xml", b"<?xml version='1.0'?><rss><oops"))],
                        "not an RSS or Atom feed"),
}
BAD_IDS = ["../../x", "/tmp/evil", ".", "..", "a/b", "a\nb", "a\0b", "Upper", "-dash", "a..b", "x" * 101, ""]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_writes_nothing(capsys, dirs, server, tmp_path, case):
    corpus, _ = dirs
    make, message = BAD[case]
    rc, out, err = verbatim(capsys, dirs, "import", *make(tmp_path, server))
    assert rc == 1 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not corpus.exists()


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_id_must_be_a_plain_slug(capsys, dirs, tmp_path, bad_id):
    corpus, _ = dirs
    rc, _, err = verbatim(capsys, dirs, "import", str(DATA / "pages" / "blog_en_article_comments.html"), f"--id={bad_id}")
    assert rc == 1 and "not a plain id" in err and len(err.strip().splitlines()) == 1
    assert not corpus.exists() and not (tmp_path / "x.md").exists() and not Path("/tmp/evil.md").exists()


@pytest.mark.parametrize("good_id", ["my-article", "2024.03_night-buses", "a"])
def test_plain_slugs_are_accepted(capsys, dirs, good_id):
    rc, out, err = verbatim(capsys, dirs, "import", str(DATA / "pages" / "blog_en_article_comments.html"), "--id", good_id)
    assert rc == 0, err
    assert (dirs[0] / f"{good_id}.md").is_file()


def test_a_page_that_does_not_answer_in_time(capsys, dirs, server):
    server.delays["/slow.html"] = 1.5
    rc, _, err = verbatim(capsys, dirs, "import", server.url("/slow.html"), "--timeout", "0.3")
    assert rc == 1 and "no answer within 0.3 s" in err and len(err.strip().splitlines()) == 1
    assert not dirs[0].exists()


def test_sync_goes_on_when_one_feed_fails(capsys, dirs, server):
    corpus, _ = dirs
    good, bad = server.url("/feeds/rss_content_fr.xml"), server.url("/feeds/atom_en.xml")
    for url in (bad, good):
        assert verbatim(capsys, dirs, "import", "--follow", url)[0] == 0
    server.routes["/feeds/atom_en.xml"] = (503, {"Content-Type": "text/html"}, b"<h1>Service Unavailable</h1>")
    rc, out, err = verbatim(capsys, dirs, "sync", "--no-build")
    assert rc == 1 and "HTTP error 503" in err
    assert "unchanged journal-du-bocage-fr-2024-10-08-vire-piscine-reouverture" in out
    feeds = {f["url"]: f for f in json.loads((corpus / "feeds.json").read_text())["feeds"]}
    assert "503" in feeds[bad]["last_error"] and feeds[good]["last_error"] == ""


def test_another_article_under_the_same_id_needs_force(capsys, dirs):
    corpus, _ = dirs
    verbatim(capsys, dirs, "import", str(DATA / "pages" / "blog_en_article_comments.html"), "--id", "story")
    before = snapshot(corpus)
    rc, _, err = verbatim(capsys, dirs, "import", str(DATA / "pages" / "jsonld_fr_comments.html"), "--id", "story")
    assert rc == 1 and "--force" in err and snapshot(corpus) == before
    rc, out, _ = verbatim(capsys, dirs, "import", str(DATA / "pages" / "jsonld_fr_comments.html"), "--id", "story",
                          "--force")
    assert rc == 0 and out.startswith("updated story")


def test_remove_unknown_and_sync_without_feeds_are_one_line_errors(capsys, dirs):
    shutil.copytree(DATA / "pages", dirs[0] / "unused")  # a corpus dir with no article
    rc, _, err = verbatim(capsys, dirs, "remove", "nope")
    assert rc == 1 and "no article with id 'nope'" in err
    rc, _, err = verbatim(capsys, dirs, "remove", "../x")
    assert rc == 1 and "not a plain id" in err
    rc, _, err = verbatim(capsys, dirs, "sync")
    assert rc == 1 and "no feed is followed" in err


def test_a_damaged_article_file_is_skipped_with_a_warning_and_can_be_removed(capsys, dirs):
    """One hand-broken file must not stop list, import or remove; a byte-order mark is no damage."""
    corpus, _ = dirs
    rc, _, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0, err
    (corpus / "broken.md").write_text('---\nid: "broken\ntitle: x\n', "utf-8")
    rc, out, err = verbatim(capsys, dirs, "list")
    assert rc == 0 and out.startswith("seed\t") and "skipped" in err and "broken.md" in err, (out, err)
    assert "verbatim corpus remove broken" in err
    rc, out, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0 and "unchanged seed" in out and "broken.md" in err
    rc, out, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "broken")
    assert rc == 1 and "is damaged" in err and (corpus / "broken.md").read_text("utf-8").startswith('---\nid: "broken')
    rc, out, err = verbatim(capsys, dirs, "remove", "broken")
    assert rc == 0 and "removed the damaged file broken.md" in out and not (corpus / "broken.md").exists()
    (corpus / "README.md").write_text("Notes about this corpus.\n", "utf-8")  # a name that is no plain id
    rc, out, err = verbatim(capsys, dirs, "list")
    assert "verbatim corpus remove README" in err
    rc, out, err = verbatim(capsys, dirs, "remove", "README")
    assert rc == 0 and not (corpus / "README.md").exists(), err
    seed = (corpus / "seed.md").read_bytes()
    (corpus / "seed.md").write_bytes(b"\xef\xbb\xbf" + seed)
    rc, out, err = verbatim(capsys, dirs, "list")
    assert rc == 0 and out.startswith("seed\t") and err == "", err


def test_remove_takes_the_id_list_shows_when_the_file_is_named_otherwise(capsys, dirs):
    corpus, _ = dirs
    rc, _, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0, err
    text = (corpus / "seed.md").read_text("utf-8")
    (corpus / "seed.md").unlink()
    (corpus / "renamed.md").write_text(text.replace('id: "seed"', 'id: "other-id"', 1), "utf-8")
    rc, out, _ = verbatim(capsys, dirs, "list")
    assert out.startswith("other-id\t"), out
    rc, out, err = verbatim(capsys, dirs, "remove", "other-id")
    assert rc == 0 and "removed other-id" in out and not (corpus / "renamed.md").exists(), err


def test_a_long_bad_id_is_shown_cut_with_an_ellipsis_inside_its_quotes(capsys, dirs):
    rc, _, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "A" * 101)
    assert rc == 1 and f"'{'A' * 50}…' is not a plain id" in err, err


def test_list_warns_when_the_current_build_is_missing_or_unreadable(capsys, dirs):
    """The articles are still listed, "not indexed", and a warning says why instead of implying no build."""
    import os

    corpus, data = dirs
    rc, _, err = verbatim(capsys, dirs, "import", str(SEED_PAGE), "--id", "seed")
    assert rc == 0, err
    data.mkdir(parents=True)
    os.symlink("builds/20260101T000000.000Z-abcdef", data / "current")
    rc, out, err = verbatim(capsys, dirs, "list")
    assert rc == 0 and "not indexed" in out and "warning: the current index build" in err and "missing" in err
    (data / "builds" / "20260101T000000.000Z-abcdef").mkdir(parents=True)
    (data / "builds" / "20260101T000000.000Z-abcdef" / "passages.jsonl").write_text("garbage\n")
    rc, out, err = verbatim(capsys, dirs, "list")
    assert rc == 0 and "not indexed" in out and "cannot be read" in err
