"""`verbatim corpus …` with a database URL, against a real PostgreSQL (tests/pg_fixtures.py): `list` counts
what the database's current build holds, `sync` builds into the database, as `index build` would."""
from __future__ import annotations

import json
import shutil

import psycopg

from bot.cli import main
from index import store
from index.build import build_index
from index.pg.schema import SCHEMA, build_tables

from .conftest import SECOND_ARTICLE_ID, SEED_ARTICLE_ID
from .corpus_http import FixtureServer


def listed(capsys, corpus, data, *extra) -> dict:
    rc = main(["corpus", "list", "--json", "--corpus", str(corpus), "--data-dir", str(data), *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return {row["id"]: row for row in json.loads(out)}


def database_counts(url: str) -> dict:
    with psycopg.connect(url) as conn:
        build_id = conn.execute(f"SELECT build_id FROM {SCHEMA}.current_build").fetchone()[0]
        table = build_tables(build_id)["passages"]
        rows = conn.execute(f"SELECT doc_id, count(*), count(DISTINCT location->>'comment') "
                            f"FILTER (WHERE kind = 'comment') FROM {SCHEMA}.{table} GROUP BY doc_id").fetchall()
    return {doc_id: (passages, comments) for doc_id, passages, comments in rows}


def test_list_counts_the_database_build_not_the_files(capsys, built_settings, two_article_settings, e5_embedder,
                                                      pg_database_url, tmp_path, monkeypatch):
    # files: the seed article alone; the database: the seed and a second article (the cache is warm)
    data = tmp_path / "data-two"
    shutil.copytree(two_article_settings.data_dir, data, symlinks=True)
    assert build_index(two_article_settings.with_(data_dir=data, database_url=pg_database_url),
                       e5_embedder).embedded == 0
    corpus = two_article_settings.corpus_dir
    in_database = database_counts(pg_database_url)
    assert set(in_database) == {SEED_ARTICLE_ID, SECOND_ARTICLE_ID} and in_database[SEED_ARTICLE_ID][1] == 18

    on_files = listed(capsys, corpus, built_settings.data_dir)
    assert on_files[SECOND_ARTICLE_ID]["passages"] is None  # not in the file build
    assert (on_files[SEED_ARTICLE_ID]["passages"], on_files[SEED_ARTICLE_ID]["comments"]) == \
        store.indexed_counts(built_settings.data_dir)[SEED_ARTICLE_ID]

    for extra, env in ((["--database-url", pg_database_url], None), ([], pg_database_url)):
        if env:
            monkeypatch.setenv("VERBATIM_DATABASE_URL", env)
        rows = listed(capsys, corpus, built_settings.data_dir, *extra)
        assert {doc_id: (r["passages"], r["comments"]) for doc_id, r in rows.items()} == in_database

    monkeypatch.delenv("VERBATIM_DATABASE_URL")
    rc = main(["corpus", "list", "--corpus", str(corpus), "--data-dir", str(built_settings.data_dir),
               "--database-url", pg_database_url])
    out, _ = capsys.readouterr()
    second = next(line for line in out.splitlines() if line.startswith(SECOND_ARTICLE_ID))
    assert rc == 0 and second.endswith(f"{in_database[SECOND_ARTICLE_ID][0]} passages, "
                                       f"{in_database[SECOND_ARTICLE_ID][1]} comments")


def test_list_with_an_empty_database_says_not_indexed(capsys, built_settings, pg_database_url):
    rows = listed(capsys, built_settings.corpus_dir, built_settings.data_dir, "--database-url", pg_database_url)
    assert rows[SEED_ARTICLE_ID]["passages"] is None and rows[SEED_ARTICLE_ID]["comments"] == 18


def test_list_with_the_database_down_is_one_line(capsys, built_settings):
    rc = main(["corpus", "list", "--corpus", str(built_settings.corpus_dir), "--data-dir",
               str(built_settings.data_dir), "--database-url", "postgresql://verbatim:secret@127.0.0.1:1/none"])
    _, err = capsys.readouterr()
    assert rc == 1 and err.startswith("verbatim: error: ") and err.count("\n") == 1 and "secret" not in err


def test_sync_builds_into_the_database(capsys, pg_database_url, tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    server = FixtureServer()
    try:
        common = ["--corpus", str(corpus), "--data-dir", str(data), "--database-url", pg_database_url]
        assert main(["corpus", "import", "--follow", server.url("/feeds/rss_links_en.xml"), *common]) == 0
        rc = main(["corpus", "sync", *common])
        out, err = capsys.readouterr()
        assert rc == 0 and "built " in out, err
        assert store.current_build_id(data) is None  # nothing built in files
        counts = database_counts(pg_database_url)
        assert len(counts) == 2
        rows = listed(capsys, corpus, data, "--database-url", pg_database_url)
        assert {doc_id: (r["passages"], r["comments"]) for doc_id, r in rows.items()} == counts
        assert main(["corpus", "sync", *common]) == 0
        assert "index is up to date" in capsys.readouterr().out
    finally:
        server.close()
