"""The `verbatim` command line as a user meets it: the JSON contract, human answers, bad input.

Tests taking `backend` run twice: on the file build and on the same build in PostgreSQL (conftest.py).
"""
from __future__ import annotations

import json

import pytest

from index import store

from .conftest import CORPUS_DIR, SEED_PAGE, run_cli

PASSAGE_KEYS = {"rank", "score", "text", "citation", "location"}


def test_json_batch_contract(backend):
    questions = ["Qui est Emmett Shear ?", "Did Greg Brockman resign?", "What is the best pizza topping?"]
    result = run_cli("ask", "--json", "-", data_dir=backend.data_dir, extra_env=backend.env,
                     stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    for row in rows:
        assert isinstance(row["answered"], bool) and isinstance(row["answer"], str) and row["answer"]
        assert isinstance(row["took_ms"], float)
        assert len(row["passages"]) == 5
        assert [p["rank"] for p in row["passages"]] == [1, 2, 3, 4, 5]
        scores = [p["score"] for p in row["passages"]]
        assert scores == sorted(scores, reverse=True)
        for p in row["passages"]:
            assert PASSAGE_KEYS <= set(p) and isinstance(p["score"], float)
            loc = p["location"]
            assert loc["kind"] in ("article", "comment") and loc["end"] > loc["start"]
    assert "Twitch" in rows[0]["passages"][0]["text"]


def test_every_quoted_passage_is_verbatim_document_text(backend):
    from index.corpus.loader import load_corpus

    texts = {d.id: d.text for d in load_corpus(CORPUS_DIR)}
    result = run_cli("ask", "--json", "-", data_dir=backend.data_dir, extra_env=backend.env,
                     stdin="Que reproche le conseil à Sam Altman ?\nWhat chips did Microsoft show?\n")
    for row in map(json.loads, result.stdout.splitlines()):
        for p in row["passages"]:
            loc = p["location"]
            assert texts[loc["doc_id"]][loc["start"]:loc["end"]] == p["text"]


def test_human_answer_in_french_and_english(backend):
    fr = run_cli("ask", "Qui est Emmett Shear ?", data_dir=backend.data_dir, extra_env=backend.env)
    assert fr.returncode == 0, fr.stderr
    assert fr.stdout.startswith("D’après l’article") and "co-fondateurs de Twitch" in fr.stdout
    assert "Article · La deuxième saison commence" in fr.stdout
    en = run_cli("ask", "Who is Emmett Shear?", data_dir=backend.data_dir, extra_env=backend.env)
    assert en.stdout.startswith("From the article") and "Twitch" in en.stdout


def test_scope_restricts_to_comments(backend):
    result = run_cli("ask", "--json", "--scope", "comments", "Microsoft et OpenAI", data_dir=backend.data_dir,
                     extra_env=backend.env)
    row = json.loads(result.stdout)
    assert {p["location"]["kind"] for p in row["passages"]} == {"comment"}
    assert all(p["citation"].startswith("Commentaire") for p in row["passages"])


def test_first_ask_builds_the_index(tmp_path):
    result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=tmp_path / "fresh")
    assert result.returncode == 0, result.stderr
    assert "building it first" in result.stderr
    assert "Twitch" in result.stdout
    assert store.current_build_id(tmp_path / "fresh")


def test_index_build_and_info(tmp_path):
    build = run_cli("index", "build", data_dir=tmp_path / "d")
    assert build.returncode == 0, build.stderr
    assert build.stdout.startswith("built ") and "1 documents" in build.stdout and "dim 384" in build.stdout
    info = run_cli("index", "info", data_dir=tmp_path / "d")
    assert json.loads(info.stdout)["embedder"] == "e5"


@pytest.mark.parametrize("question, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("x" * 10_000, "limit is"),
    ("bonjour\x1b[2J le monde", "control characters"),
    ("?!? ...", "no words"),
])
def test_bad_questions_get_one_clear_line(built_settings, question, message):
    result = run_cli("ask", question, data_dir=built_settings.data_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_bad_line_in_a_batch_does_not_lose_the_others(backend):
    result = run_cli("ask", "--json", "-", data_dir=backend.data_dir, extra_env=backend.env,
                     stdin="Qui est Emmett Shear ?\n" + "y" * 10_000 + "\nQui est Jakub Pachocki ?\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3 and "error" in rows[1] and rows[2]["passages"]
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_a_bad_batch_line_on_a_terminal_is_reported_once(built_settings):
    """stdout and stderr on one screen: the error in its place only, not a second time from stderr."""
    import os
    import subprocess
    import sys

    main, screen = os.openpty()
    env = dict(os.environ, VERBATIM_DATA_DIR=str(built_settings.data_dir), VERBATIM_CORPUS_DIR=str(CORPUS_DIR))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ask", "-"], stdin=subprocess.PIPE, stdout=screen,
                            stderr=screen, env=env)
    os.close(screen)
    proc.stdin.write(b"Qui est Emmett Shear ?\n\xff\n")
    proc.stdin.close()
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(120) == 1
    os.close(main)
    assert shown.count(b"not valid UTF-8") == 1 and b"Emmett Shear" in shown, shown[-2000:]


def test_missing_corrupt_index_and_unreadable_corpus(tmp_path, built_settings):
    missing = run_cli("index", "info", data_dir=tmp_path / "none")
    assert missing.returncode == 1 and "verbatim index build" in missing.stderr
    corrupt_dir = tmp_path / "corrupt"
    (corrupt_dir / "builds" / "x").mkdir(parents=True)
    (corrupt_dir / "builds" / "x" / "manifest.json").write_text("{not json")
    store.switch_current(corrupt_dir, "x")
    corrupt = run_cli("ask", "Qui ?", data_dir=corrupt_dir)
    assert corrupt.returncode == 1 and "unreadable" in corrupt.stderr and "Traceback" not in corrupt.stderr
    bad_corpus = tmp_path / "bad"
    bad_corpus.mkdir()
    (bad_corpus / "a.md").write_bytes(b"---\nid: \xff\xfe\n---\n")
    unreadable = run_cli("index", "build", data_dir=tmp_path / "d2", corpus_dir=bad_corpus)
    assert unreadable.returncode == 1 and "not UTF-8" in unreadable.stderr and "Traceback" not in unreadable.stderr
    nothing = run_cli("index", "build", data_dir=tmp_path / "d3", corpus_dir=tmp_path / "nowhere")
    assert nothing.returncode == 1 and "does not exist" in nothing.stderr


def test_a_named_corpus_or_data_dir_that_is_not_a_directory_gets_one_line(tmp_path, built_settings):
    # The data directory holds a good build: a mistyped corpus must not be answered from it silently.
    mistyped = run_cli("ask", "Qui est Sam Altman ?", data_dir=built_settings.data_dir, corpus_dir=tmp_path / "corpsu")
    assert mistyped.returncode == 1 and mistyped.stdout == ""
    assert mistyped.stderr == f"verbatim: error: corpus directory {tmp_path / 'corpsu'} does not exist " \
                              "(set VERBATIM_CORPUS_DIR or --corpus)\n"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for args in (("ask", "Qui ?"), ("eval", "tests/data/heldout.jsonl"), ("index", "build")):
        result = run_cli(*args, data_dir=built_settings.data_dir, corpus_dir=a_file)
        assert result.returncode == 1 and result.stderr.strip().endswith(
            f"corpus directory {a_file} is a file, not a directory (set VERBATIM_CORPUS_DIR or --corpus)"), args
    for data_dir, said in ((a_file, "is a file"), (a_file / "data", "lies under a file")):
        result = run_cli("ask", "Qui ?", data_dir=data_dir)
        assert result.returncode == 1 and result.stderr == (
            f"verbatim: error: the data directory {data_dir} {said}, not a directory: point VERBATIM_DATA_DIR or "
            "--data-dir at a writable directory\n"), result.stderr
    assert a_file.read_text() == "x"


def test_corpus_import_command(tmp_path):
    corpus = tmp_path / "corpus"
    result = run_cli("corpus", "import", str(SEED_PAGE), "--id", "seed", data_dir=tmp_path / "d", corpus_dir=corpus)
    assert result.returncode == 0, result.stderr
    assert "18 comments" in result.stdout
    assert (corpus / "seed.md").is_file() and (corpus / "pages" / SEED_PAGE.name).read_bytes() == SEED_PAGE.read_bytes()
    again = run_cli("corpus", "import", str(SEED_PAGE), "--id", "seed", data_dir=tmp_path / "d", corpus_dir=corpus)
    assert again.returncode == 0 and again.stdout.strip() == "unchanged seed"  # issue 8: re-import is a no-op
    missing = run_cli("corpus", "import", str(tmp_path / "nope.txt"), data_dir=tmp_path / "d", corpus_dir=corpus)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
