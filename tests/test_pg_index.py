"""The index on PostgreSQL, against a real server (tests/pg_server.py): what a build stores, answers identical
to the file backend's, the switch, refresh, outages, a killed build, prune and rollback, `index push`."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import psycopg.types.json
import pytest

from index.build import build_index
from index.errors import DatabaseUnavailable, IndexMismatch
from index.pg.schema import SCHEMA, build_tables
from index.service import Retriever

from .conftest import PROJECT_ROOT, run_cli

DATA = Path(__file__).parent / "data"


def warm_copy(settings, tmp_path: Path, url: str):
    """The session build's data dir copied (its embedding cache is warm: a build embeds nothing), pointed at `url`."""
    data = tmp_path / "data"
    shutil.copytree(settings.data_dir, data, symlinks=True)
    return settings.with_(data_dir=data, database_url=url)


def questions() -> str:
    lines = []
    for name in ("heldout.jsonl", "unanswerable.jsonl"):
        rows = (DATA / name).read_text("utf-8").splitlines()
        lines += [json.loads(line)["question"] for line in rows if line.strip()]
    return "\n".join(lines) + "\n"


def without(output: str, *fields: str) -> str:
    for field in fields:
        output = re.sub(rf'"{field}": ("[^"]*"|[0-9.]+)', f'"{field}": null', output)
    return output


def test_a_build_in_postgres_holds_what_the_file_build_holds(built_settings, e5_embedder, pg_database_url, tmp_path):
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    summary = build_index(settings, e5_embedder)
    assert summary.embedded == 0  # the embedding cache stays in the data dir
    tables = build_tables(summary.build_id)
    with psycopg.connect(pg_database_url) as conn:
        assert conn.execute(f"SELECT build_id FROM {SCHEMA}.current_build").fetchone() == (summary.build_id,)
        assert conn.execute(f"SELECT state, manifest->>'model_id', manifest->>'corpus_hash' FROM {SCHEMA}.builds"
                            ).fetchall() == [("complete", e5_embedder.model_id,
                                              _file_manifest(built_settings)["corpus_hash"])]
        column = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
                              "AND attname = 'embedding'", (f"{SCHEMA}.{tables['passages']}",)).fetchone()
        assert column == ("vector(384)",)
        indexdefs = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                                                (tables["passages"],))]
        assert any("USING hnsw (embedding vector_ip_ops)" in d for d in indexdefs)
        mismatched = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.{tables['passages']} p "
            f"JOIN {SCHEMA}.{tables['documents']} d USING (doc_id) WHERE substr(d.text, p.start_at + 1, p.end_at - p.start_at) <> p.text").fetchone()[0]
        assert mismatched == 0
        grams = conn.execute(f"SELECT count(*) FROM {SCHEMA}.{tables['keyword_grams']}").fetchone()[0]
    on_pg = Retriever.open(settings, build_if_missing=False)
    on_files = Retriever.open(built_settings, build_if_missing=False)
    a, b = on_pg._loaded.stored, on_files._loaded.stored
    assert a.build_id == summary.build_id and a.passages == b.passages and a.sentences == b.sentences
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors) and np.array_equal(a.sentence_owner, b.sentence_owner)
    n = len(a.passages)
    assert np.array_equal(a.passage_index.vectors(np.arange(n)), b.passage_index.vectors(np.arange(n)))
    ka, kb = a.keywords.to_arrays(), b.keywords.to_arrays()
    assert sorted(ka) == sorted(kb) and grams == len(kb["grams"])
    assert all(np.array_equal(ka[k], kb[k]) and ka[k].dtype == kb[k].dtype for k in ka)
    on_pg.close()


def _file_manifest(settings) -> dict:
    from index import store

    return store.read_manifest(settings.data_dir)


def test_the_manifest_checks_apply_to_a_postgres_build(built_settings, e5_embedder, pg_database_url, tmp_path,
                                                       copied_corpus):
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    build_index(settings, e5_embedder)
    page = next(copied_corpus.glob("*.md"))
    page.write_text(page.read_text("utf-8") + "\nUn paragraphe ajouté.\n", "utf-8")
    with pytest.raises(IndexMismatch, match="corpus .* changed"):
        Retriever.open(settings.with_(corpus_dir=copied_corpus), build_if_missing=False)
    with pytest.raises(IndexMismatch, match="built with"):
        Retriever.open(settings.with_(embedder="sentence-transformers"), build_if_missing=False)


def test_ask_json_is_byte_identical_on_files_and_on_postgres(built_settings, e5_embedder, pushed_database_url,
                                                             pg_database_url, tmp_path):
    stdin = questions()
    files = run_cli("ask", "--json", "-", data_dir=built_settings.data_dir, stdin=stdin, timeout=300)
    pushed = run_cli("ask", "--json", "-", data_dir=built_settings.data_dir, stdin=stdin, timeout=300,
                     extra_env={"VERBATIM_DATABASE_URL": pushed_database_url})
    assert files.returncode == 0 and pushed.returncode == 0, pushed.stderr
    assert len(files.stdout.splitlines()) == stdin.count("\n") == 93
    assert without(pushed.stdout, "took_ms") == without(files.stdout, "took_ms")  # the same build id, pushed
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    build_index(settings, e5_embedder)  # built on PostgreSQL: its own build id, the same answers
    built = run_cli("ask", "--json", "-", data_dir=settings.data_dir, stdin=stdin, timeout=300,
                    extra_env={"VERBATIM_DATABASE_URL": pg_database_url})
    assert built.returncode == 0, built.stderr
    assert without(built.stdout, "took_ms", "build_id") == without(files.stdout, "took_ms", "build_id")
    assert without(built.stdout, "took_ms") != without(files.stdout, "took_ms")


def test_refresh_picks_up_a_new_build_and_keeps_serving_while_the_database_is_down(
        built_settings, e5_embedder, pg_server, pg_database_url, tmp_path, caplog):
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    first = build_index(settings, e5_embedder).build_id
    retriever = Retriever.open(settings, build_if_missing=False)  # not listening before its first refresh()
    with psycopg.connect(pg_database_url, autocommit=True) as listener:
        listener.execute("LISTEN verbatim_build")
        second = build_index(settings, e5_embedder).build_id
        heard = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert heard == [second]  # sent at the switch's commit
    assert retriever.refresh() is True and retriever.build_id == second != first  # the poll
    assert retriever.refresh() is False
    pg_server.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="index.service"):
            assert retriever.refresh() is False
        assert f"keeping index build {second}" in caplog.text and pg_server.password not in caplog.text
        assert retriever.ask("Qui est Emmett Shear ?").hits[0].passage.text  # served from memory
    finally:
        pg_server.resume()
    third = build_index(settings, e5_embedder).build_id
    retriever.refresh()  # the poll reconnects by itself (unless the reconnected listener was quicker)
    assert retriever.build_id == third
    retriever.close()


def test_a_new_build_is_picked_up_on_its_notification_between_polls(built_settings, e5_embedder, pg_database_url,
                                                                      tmp_path):
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    build_index(settings, e5_embedder)
    retriever = Retriever.open(settings, build_if_missing=False)
    try:
        assert retriever.refresh() is False  # the bot's first poll: it starts listening
        time.sleep(0.5)
        newer = build_index(settings, e5_embedder).build_id
        deadline = time.monotonic() + 20
        while retriever.build_id != newer and time.monotonic() < deadline:
            time.sleep(0.05)
        assert retriever.build_id == newer  # no refresh() called since the build
    finally:
        retriever.close()


def test_the_database_down_at_start_is_one_line_naming_it_without_the_password(built_settings, pushed_database_url,
                                                                                pg_server):
    pg_server.pause()
    try:
        result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=built_settings.data_dir,
                         extra_env={"VERBATIM_DATABASE_URL": pushed_database_url})
    finally:
        pg_server.resume()
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert pg_server.url_for("contract", with_password=False).split("@")[-1] in result.stderr
    assert pg_server.password not in result.stderr and "cannot connect" in result.stderr


def test_a_database_without_pgvector_says_create_extension_vector(built_settings, pg_server):
    with psycopg.connect(pg_server.url_for("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS novector")
        conn.execute("DROP ROLE IF EXISTS plain")
        conn.execute("CREATE ROLE plain LOGIN PASSWORD 'plain-pw-42'")
        conn.execute("CREATE DATABASE novector OWNER plain TEMPLATE template0")
    url = f"postgresql://plain:plain-pw-42@127.0.0.1:{pg_server.port}/novector"
    try:
        result = run_cli("index", "push", data_dir=built_settings.data_dir, extra_env={"VERBATIM_DATABASE_URL": url})
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert "CREATE EXTENSION vector" in result.stderr and "plain-pw-42" not in result.stderr
    finally:
        with psycopg.connect(pg_server.url_for("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS novector WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS plain")


def test_a_killed_build_leaves_the_current_one_serving_and_the_next_build_cleans_up(
        built_settings, e5_embedder, pg_database_url, tmp_path):
    settings = warm_copy(built_settings, tmp_path, pg_database_url)
    serving = build_index(settings, e5_embedder).build_id
    env = dict(os.environ, VERBATIM_DATA_DIR=str(settings.data_dir), VERBATIM_CORPUS_DIR=str(settings.corpus_dir),
               VERBATIM_DATABASE_URL=pg_database_url)
    build = subprocess.Popen([sys.executable, "-m", "bot.cli", "index", "build"], env=env, cwd=PROJECT_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with psycopg.connect(pg_database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 120
            dead = None
            while dead is None and build.poll() is None and time.monotonic() < deadline:
                row = conn.execute(f"SELECT build_id FROM {SCHEMA}.builds WHERE state = 'writing'").fetchone()
                dead = row[0] if row else time.sleep(0.02)
            assert dead is not None, "the build never started writing"
            build.send_signal(signal.SIGKILL)
            build.wait(10)
            assert conn.execute(f"SELECT build_id FROM {SCHEMA}.current_build").fetchone() == (serving,)
            assert conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{build_tables(dead)['passages']}",)).fetchone()[0]
    finally:
        if build.poll() is None:
            build.kill()
    retriever = Retriever.open(settings, build_if_missing=False)
    assert retriever.build_id == serving and retriever.ask("Qui est Emmett Shear ?").hits
    retriever.close()
    after = build_index(settings, e5_embedder).build_id
    with psycopg.connect(pg_database_url) as conn:
        states = conn.execute(f"SELECT build_id, state FROM {SCHEMA}.builds ORDER BY build_id").fetchall()
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
                            (SCHEMA, "%" + build_tables(dead)["passages"].removeprefix("passages"))).fetchone()[0]
    assert states == [(serving, "complete"), (after, "complete")] and left == 0


def test_prune_keeps_current_and_previous_and_rollback_and_info_work(built_settings, e5_embedder, pg_database_url,
                                                                     tmp_path):
    settings = warm_copy(built_settings, tmp_path, pg_database_url).with_(keep_builds=2)
    ids = [build_index(settings, e5_embedder).build_id for _ in range(3)]
    env = {"VERBATIM_DATABASE_URL": pg_database_url}
    with psycopg.connect(pg_database_url) as conn:
        kept = [r[0] for r in conn.execute(f"SELECT build_id FROM {SCHEMA}.builds ORDER BY build_id")]
        dropped = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{build_tables(ids[0])['passages']}",)).fetchone()
    assert kept == ids[1:] and dropped == (None,)
    info = run_cli("index", "info", data_dir=settings.data_dir, extra_env=env)
    assert info.returncode == 0 and json.loads(info.stdout)["build_id"] == ids[2]
    passages = f"{SCHEMA}.{build_tables(ids[1])['passages']}"
    with psycopg.connect(pg_database_url, autocommit=True) as conn:  # damage the build a rollback would pick
        location = conn.execute(f"SELECT location FROM {passages} WHERE id = 0").fetchone()[0]
        conn.execute(f"UPDATE {passages} SET location = location || '{{\"paragraph\": \"two\"}}' WHERE id = 0")
        refused = run_cli("index", "rollback", data_dir=settings.data_dir, extra_env=env)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "cannot roll back" in refused.stderr
        assert json.loads(run_cli("index", "info", data_dir=settings.data_dir, extra_env=env).stdout)["build_id"] \
            == ids[2]
        conn.execute(f"UPDATE {passages} SET location = %s WHERE id = 0", (psycopg.types.json.Jsonb(location),))
    back = run_cli("index", "rollback", data_dir=settings.data_dir, extra_env=env)
    assert back.returncode == 0 and back.stdout.strip() == f"current build is now {ids[1]} (was {ids[2]})"
    assert json.loads(run_cli("index", "info", data_dir=settings.data_dir, extra_env=env).stdout)["build_id"] == ids[1]
    again = run_cli("index", "rollback", data_dir=settings.data_dir, extra_env=env)
    assert again.returncode == 1 and "no earlier build" in again.stderr


def test_after_a_rollback_a_new_build_rolls_back_to_the_build_that_was_serving(built_settings, e5_embedder,
                                                                               pg_database_url, tmp_path):
    """As files do (tests/test_store.py): A, B, rollback to A, build C; rolling back returns to A, not to B."""
    settings = warm_copy(built_settings, tmp_path, pg_database_url).with_(keep_builds=3)
    env = {"VERBATIM_DATABASE_URL": pg_database_url}
    a = build_index(settings, e5_embedder).build_id
    build_index(settings, e5_embedder)
    assert run_cli("index", "rollback", data_dir=settings.data_dir, extra_env=env).returncode == 0
    c = build_index(settings, e5_embedder).build_id
    back = run_cli("index", "rollback", data_dir=settings.data_dir, extra_env=env)
    assert back.returncode == 0 and back.stdout.strip() == f"current build is now {a} (was {c})", back.stderr


def test_push_copies_the_file_build_without_embedding_anything(built_settings, pg_database_url, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built_settings.data_dir, data, symlinks=True, ignore=shutil.ignore_patterns("embeddings"))
    env = {"VERBATIM_DATABASE_URL": pg_database_url, "VERBATIM_MODEL": str(tmp_path / "no-such-model")}
    pushed = run_cli("index", "push", data_dir=data, extra_env=env)  # a model that cannot load: none is needed
    assert pushed.returncode == 0, pushed.stderr
    build_id = _file_manifest(built_settings)["build_id"]
    assert pushed.stdout.startswith(f"pushed {build_id}: ") and "nothing embedded" in pushed.stdout
    assert not (data / "embeddings").exists()  # no embedding cache was even opened
    again = run_cli("index", "push", data_dir=data, extra_env=env)
    assert again.returncode == 1 and "already in the database" in again.stderr
    settings = built_settings.with_(database_url=pg_database_url)
    on_pg, on_files = Retriever.open(settings, build_if_missing=False), Retriever.open(built_settings)
    question = "Qui est Emmett Shear ?"
    assert on_pg.build_id == build_id and on_pg.ask(question).hits == on_files.ask(question).hits
    on_pg.close()


def test_without_a_database_url_push_says_what_it_needs(built_settings):
    result = run_cli("index", "push", data_dir=built_settings.data_dir)
    assert result.returncode == 1 and "VERBATIM_DATABASE_URL" in result.stderr


def test_opening_a_database_that_is_down_raises_database_unavailable(built_settings, pg_server, pushed_database_url):
    pg_server.pause()
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot connect"):
            Retriever.open(built_settings.with_(database_url=pushed_database_url), build_if_missing=False)
    finally:
        pg_server.resume()


def test_a_postgres_rebuild_refits_the_keyword_index_reading_only_new_passages(
        built_settings, e5_embedder, pg_database_url, copied_corpus, tmp_path, monkeypatch):
    """The keyword side of a build in PostgreSQL is incremental too: a rebuild refits the current build's
    index from the refit arrays it kept, reading no passage it had (none when nothing changed, the new
    article's when one is added), and what serving loads is the index a file build of the same corpus
    holds, array for array."""
    from index import store
    from index.ranking import keyword

    from .test_build_incremental import NEW_ARTICLE

    settings = warm_copy(built_settings, tmp_path, pg_database_url).with_(corpus_dir=copied_corpus)
    counted: list[str] = []
    real = keyword.char_ngrams
    monkeypatch.setattr(keyword, "char_ngrams", lambda text, *a: counted.append(text) or real(text, *a))
    first = build_index(settings, e5_embedder)  # the database's first build: every passage read
    with psycopg.connect(pg_database_url) as conn:  # the refit state is kept, beside what serving reads
        names = [r[0] for r in conn.execute(f"SELECT name FROM {SCHEMA}.{build_tables(first.build_id)['arrays']}")]
    assert any(n.startswith("refit_") for n in names)
    passages = {p.text for p in Retriever.open(settings, build_if_missing=False)._loaded.stored.passages}
    assert passages <= set(counted)
    counted.clear()
    build_index(settings, e5_embedder)
    assert not passages & set(counted)  # nothing changed: no passage read again
    (copied_corpus / "essai-velo-cargo.md").write_text(NEW_ARTICLE, "utf-8")
    build_index(settings, e5_embedder)
    served = Retriever.open(settings, build_if_missing=False)
    stored = served._loaded.stored
    new = [p.text for p in stored.passages if p.location.doc_id == "essai-velo-cargo"]
    assert new and set(new) <= set(counted) and not (passages - set(new)) & set(counted)
    clean = settings.with_(data_dir=tmp_path / "clean", database_url="")  # a file build from nothing
    shutil.copytree(settings.data_dir / "embeddings", clean.data_dir / "embeddings")
    build_index(clean, e5_embedder)
    fresh = store.load_build(clean.data_dir).keywords.to_arrays(refit=False)
    loaded = stored.keywords.to_arrays(refit=False)
    assert sorted(loaded) == sorted(fresh)
    for name, values in fresh.items():
        np.testing.assert_array_equal(loaded[name], values, err_msg=name)
    assert served.ask("Qui prête des vélos cargos aux artisans ?").hits[0].passage.location.doc_id == "essai-velo-cargo"
