"""Index builds on disk: round trip, manifest checks, rollback, and builds that die half-way."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from index import store
from index.build import build_index
from index.errors import IndexCorrupt, IndexMismatch, IndexMissing
from index.service import Retriever
from index.settings import Settings

from .conftest import CORPUS_DIR, PROJECT_ROOT, run_cli


@pytest.fixture
def private(tmp_path, built_settings) -> Settings:
    """A private copy of the session's build that a test may damage or rebuild."""
    shutil.copytree(built_settings.data_dir, tmp_path / "data", symlinks=True)
    return built_settings.with_(data_dir=tmp_path / "data")


def test_round_trip_and_manifest(built_settings, retriever):
    manifest = store.read_manifest(built_settings.data_dir)
    for key in ("schema_version", "build_id", "embedder", "model_id", "dim", "corpus_hash", "chunker", "created_at",
                "packages", "files", "counts"):
        assert key in manifest, key
    assert manifest["embedder"] == "e5" and manifest["dim"] == 384
    assert set(manifest["files"]) == set(store.DATA_FILES)
    loaded = store.load_build(built_settings.data_dir)
    assert len(loaded.passages) == manifest["counts"]["passages"] == loaded.passage_index.ntotal
    assert retriever.build_id == manifest["build_id"]
    answer = retriever.ask("Qui est Emmett Shear ?")
    assert "Twitch" in answer.hits[0].passage.text


def test_stored_keyword_index_equals_one_fitted_from_the_passages(built_settings):
    from index.ranking.keyword import KeywordIndex

    loaded = store.load_build(built_settings.data_dir)
    fitted = KeywordIndex.fit([p.text for p in loaded.passages])
    assert loaded.keywords.vocabulary == fitted.vocabulary and loaded.keywords.ngrams.grams == fitted.ngrams.grams
    question = "Which board member co-founded Twitch?"
    assert (loaded.keywords.ngrams.scores(question) == fitted.ngrams.scores(question)).all()


def test_a_build_without_stored_keywords_still_loads_and_answers_alike(private, built_settings):
    """Builds written before keyword indexes were stored: fitted at load time instead. Such a build has no
    English-French glosses (the build stores them, index.ranking.lexicon), so it answers as the current
    pipeline does without them."""
    folder = private.data_dir / "current"
    manifest = json.loads((folder / store.MANIFEST).read_text())
    del manifest["files"][store.KEYWORDS]
    (folder / store.MANIFEST).write_text(json.dumps(manifest))
    (folder / store.KEYWORDS).unlink()
    old = Retriever.open(private, build_if_missing=False)
    current = Retriever.open(built_settings.with_(lexicon_weight=0.0), build_if_missing=False)
    for question in ("Qui est Emmett Shear ?", "Who lost their seat on the board?"):
        assert [h.passage.id for h in old.ask(question).hits] == [h.passage.id for h in current.ask(question).hits]


def test_built_files_live_in_the_data_dir_not_among_sources(built_settings):
    assert (built_settings.data_dir / "current").is_symlink()
    assert not list(CORPUS_DIR.rglob("*.faiss"))
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/current"], cwd=PROJECT_ROOT)
    assert ignored.returncode == 0


def test_missing_index_is_named(tmp_path, e5_embedder):
    settings = Settings.from_env(env={}, data_dir=str(tmp_path / "empty"), corpus_dir=str(CORPUS_DIR))
    with pytest.raises(IndexMissing, match="verbatim index build"):
        Retriever.open(settings, build_if_missing=False)


def test_model_mismatch_is_refused(private):
    settings = private
    manifest_path = settings.data_dir / "current" / store.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(dict(manifest, model_id="some/other-model")))
    with pytest.raises(IndexMismatch, match="some/other-model.*verbatim index build"):
        Retriever.open(settings, build_if_missing=False)


def test_backend_and_dimension_mismatch_is_refused(private):
    settings = private
    with pytest.raises(IndexMismatch, match="built with e5.*pass --embedder e5"):
        Retriever.open(settings.with_(embedder="sentence-transformers"), build_if_missing=False)


def test_changed_corpus_is_refused(private, copied_corpus):
    settings = private.with_(corpus_dir=copied_corpus)
    Retriever.open(settings, build_if_missing=False)  # an identical copy of the corpus is accepted
    [md] = copied_corpus.glob("*.md")
    md.write_text(md.read_text().replace("Guerre des TPU", "Guerre des puces"))
    with pytest.raises(IndexMismatch, match="corpus .* changed") as caught:
        Retriever.open(settings, build_if_missing=False)
    assert f"built from ({private.corpus_dir})" in str(caught.value)  # and which corpus it was built from


def test_a_build_older_than_its_own_corpus_answers_and_says_it_is_stale(private, copied_corpus, e5_embedder):
    """An article imported, edited or removed since the last build (or a rollback to a build of an older corpus):
    the build still quotes the articles as they were, as a running bot would, and says so; a new build clears it."""
    from index.backends import rollback

    settings = private.with_(corpus_dir=copied_corpus)
    first = build_index(settings, e5_embedder).build_id  # a build of this very corpus directory
    assert store.read_manifest(settings.data_dir)["corpus_dir"] == str(copied_corpus.resolve())  # not as typed
    assert Retriever.open(settings, build_if_missing=False).stale is None
    [md] = copied_corpus.glob("*.md")
    md.write_text(md.read_text().replace("Guerre des TPU", "Guerre des puces"))
    stale = Retriever.open(settings, build_if_missing=False)
    assert stale.build_id == first and "changed since index build" in stale.stale
    assert stale.ask("Qui est Emmett Shear ?").answered
    cli = run_cli("ask", "Qui est Emmett Shear ?", data_dir=settings.data_dir, corpus_dir=copied_corpus)
    assert cli.returncode == 0 and "Emmett Shear" in cli.stdout, cli.stderr
    assert cli.stderr.count("verbatim: note: the corpus") == 1 and "verbatim index build" in cli.stderr
    second = build_index(settings, e5_embedder).build_id
    assert Retriever.open(settings, build_if_missing=False).stale is None
    # Rolled back to the build of the older corpus: it answers, as the rollback promised.
    assert rollback(settings) == (first, second)
    back = run_cli("ask", "Qui est Emmett Shear ?", data_dir=settings.data_dir, corpus_dir=copied_corpus)
    assert back.returncode == 0 and "Emmett Shear" in back.stdout and "note:" in back.stderr, back.stderr
    (copied_corpus / "bad.md").write_bytes(b"---\nid: \xff\xfe\n---\n")  # an unreadable file: still served
    damaged = run_cli("ask", "Qui est Emmett Shear ?", data_dir=settings.data_dir, corpus_dir=copied_corpus)
    assert damaged.returncode == 0 and "cannot be read" in damaged.stderr and "bad.md" in damaged.stderr
    (copied_corpus / "bad.md").unlink()
    md.unlink()  # the only article removed: the note says what to do, not "run index build" (which would refuse)
    empty = run_cli("ask", "Qui est Emmett Shear ?", data_dir=settings.data_dir, corpus_dir=copied_corpus)
    assert empty.returncode == 0 and "holds no article any more" in empty.stderr and "corpus import" in empty.stderr


def test_a_current_that_is_no_link_is_reported_not_rebuilt_over(private):
    """`current` turned into a copy of its build, or a file: a one-line error naming the fix, no silent build."""
    link = private.data_dir / "current"
    build = os.readlink(link)
    link.unlink()
    shutil.copytree(private.data_dir / build, link)
    copied = run_cli("ask", "Qui est Emmett Shear ?", data_dir=private.data_dir)
    assert copied.returncode == 1 and "is a directory" in copied.stderr and "building" not in copied.stderr
    shutil.rmtree(link)
    link.write_text("junk")
    junk = run_cli("ask", "Qui est Emmett Shear ?", data_dir=private.data_dir)
    assert junk.returncode == 1 and "but is a file" in junk.stderr and "index rollback" in junk.stderr
    link.unlink()
    back = run_cli("index", "rollback", data_dir=private.data_dir)
    assert back.returncode == 0 and "there was none" in back.stdout, back.stderr
    assert run_cli("ask", "Qui est Emmett Shear ?", data_dir=private.data_dir).returncode == 0


def test_damaged_file_is_refused(private):
    settings = private
    passages = settings.data_dir / "current" / store.PASSAGES
    passages.write_text(passages.read_text().replace("Twitch", "Twitter"))
    with pytest.raises(IndexCorrupt, match="sha256"):
        Retriever.open(settings, build_if_missing=False)


def test_rebuild_keeps_the_previous_build_and_refresh_switches(private, e5_embedder):
    settings = private
    first = store.current_build_id(settings.data_dir)
    retriever = Retriever.open(settings, build_if_missing=False)
    assert retriever.refresh() is False
    build_index(settings, e5_embedder)
    second = store.current_build_id(settings.data_dir)
    assert second != first and store.complete_builds(settings.data_dir) == [first, second]
    assert retriever.refresh() is True and retriever.build_id == second
    build_index(settings, e5_embedder)
    assert first not in store.complete_builds(settings.data_dir)  # keep_builds = 2
    assert len(store.complete_builds(settings.data_dir)) == 2


def test_refresh_keeps_serving_when_the_new_build_is_broken(private):
    settings = private
    retriever = Retriever.open(settings, build_if_missing=False)
    old = retriever.build_id
    broken = settings.data_dir / "builds" / "99999999T999999Z-broken"
    shutil.copytree(settings.data_dir / "builds" / old, broken)
    (broken / store.PASSAGE_VECTORS).write_bytes(b"garbage")
    store.switch_current(settings.data_dir, broken.name)
    assert retriever.refresh() is False
    assert retriever.build_id == old
    assert retriever.ask("Qui est Emmett Shear ?").hits


def test_killed_build_leaves_the_current_index_answering(private, e5_embedder, copied_corpus):
    settings = private
    before = store.current_build_id(settings.data_dir)
    # A corpus large enough that its build takes many seconds, so the kill lands mid-way. Each copy has
    # its own title: the title is part of every embedded passage, so the embedding cache cannot skip them.
    [md] = copied_corpus.glob("*.md")
    text = md.read_text()
    for i in range(12):
        (copied_corpus / f"copy{i}.md").write_text(
            text.replace("id: \"", f"id: \"copy{i}-", 1).replace("title: \"", f"title: \"Copie {i} · ", 1))
    env = dict(os.environ, VERBATIM_DATA_DIR=str(settings.data_dir), VERBATIM_CORPUS_DIR=str(copied_corpus))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "index", "build"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert store.current_build_id(settings.data_dir) == before
    answer = Retriever.open(settings, build_if_missing=False).ask("Qui est Emmett Shear ?")
    assert "Twitch" in answer.hits[0].passage.text
    for copy in copied_corpus.glob("copy*.md"):
        copy.unlink()
    build_index(settings.with_(corpus_dir=copied_corpus), e5_embedder)  # cleans up what the dead build left
    assert not list((settings.data_dir / "builds").glob("*.partial"))


def test_rollback_makes_the_previous_build_current(private, e5_embedder):
    from .conftest import run_cli

    settings = private
    first = store.current_build_id(settings.data_dir)
    build_index(settings, e5_embedder)
    result = run_cli("index", "rollback", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert store.current_build_id(settings.data_dir) == first
    again = run_cli("index", "rollback", data_dir=settings.data_dir)
    assert again.returncode == 1 and "no earlier build" in again.stderr


@pytest.mark.parametrize("keep", [2, 3])
def test_after_a_rollback_a_new_build_keeps_and_rolls_back_to_the_build_that_was_serving(private, e5_embedder, keep):
    """A, B, rollback to A, build C: a rollback returns to A (serving before C), never to B (rejected), and
    pruning never drops A."""
    from .conftest import run_cli

    settings = private.with_(keep_builds=keep)
    a = store.current_build_id(settings.data_dir)
    b = build_index(settings, e5_embedder).build_id
    assert run_cli("index", "rollback", data_dir=settings.data_dir).returncode == 0
    assert store.current_build_id(settings.data_dir) == a
    c = build_index(settings, e5_embedder).build_id
    builds = store.complete_builds(settings.data_dir)
    assert a in builds and c in builds and len(builds) == keep
    back = run_cli("index", "rollback", data_dir=settings.data_dir)
    assert back.returncode == 0 and back.stdout.strip() == f"current build is now {a} (was {c})", back.stderr
    assert b not in back.stdout


def test_rollback_passes_over_a_previous_build_deleted_by_hand(private, e5_embedder):
    """`previous` names B, but B's directory is gone: the rollback goes to A, the newest complete build
    older than the current one, as PostgreSQL's does (index/rollback_plan.py), not to an error about B."""
    import shutil

    from .conftest import run_cli

    settings = private.with_(keep_builds=3)
    a = store.current_build_id(settings.data_dir)
    b = build_index(settings, e5_embedder).build_id
    c = build_index(settings, e5_embedder).build_id
    assert store.previous_build_id(settings.data_dir) == b
    shutil.rmtree(settings.data_dir / "builds" / b)
    back = run_cli("index", "rollback", data_dir=settings.data_dir)
    assert back.returncode == 0 and back.stdout.strip() == f"current build is now {a} (was {c})", back.stderr


def test_rollback_plan_returns_to_what_was_serving_and_passes_over_what_is_gone():
    from index.rollback_plan import rollback_plan

    assert rollback_plan("C", "A", ["A", "B", "C"]) == ("A", None)  # B was rejected by a rollback
    assert rollback_plan("C", "B", ["A", "B", "C"]) == ("B", "A")
    assert rollback_plan("C", "B", ["A", "C"]) == ("A", None)  # B deleted
    assert rollback_plan("C", None, ["A", "B", "C"]) == ("B", "A")
    assert rollback_plan("C", "C", ["C"]) == (None, None)
    assert rollback_plan(None, None, []) == (None, None)


def test_rollback_refuses_a_damaged_build_and_keeps_the_current_one(private, e5_embedder):
    from .conftest import run_cli

    settings = private
    older = store.current_build_id(settings.data_dir)
    build_index(settings, e5_embedder)
    current = store.current_build_id(settings.data_dir)
    damaged = settings.data_dir / "builds" / older / store.PASSAGES
    damaged.write_bytes(damaged.read_bytes().replace(b"Altman", b"Altmen", 1))
    result = run_cli("index", "rollback", data_dir=settings.data_dir)
    assert result.returncode == 1 and f"cannot roll back to build {older}" in result.stderr
    assert "damaged" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert store.current_build_id(settings.data_dir) == current


def test_several_documents_are_indexed_and_cited_apart(tmp_path, e5_embedder, copied_corpus):
    second = copied_corpus / "second.md"
    second.write_text('---\nid: "second"\ntitle: "La recette de la ratatouille"\n---\n\n'
                      "## Ingrédients\n\nIl faut des aubergines, des courgettes et des tomates bien mûres.\n\n"
                      "## Commentaires\n\n### Commentaire 1\n\nMa grand-mère ajoutait du thym.\n", "utf-8")
    settings = Settings.from_env(env={}, data_dir=str(tmp_path / "data"), corpus_dir=str(copied_corpus))
    summary = build_index(settings, e5_embedder)
    assert summary.documents == 2
    retriever = Retriever.open(settings, build_if_missing=False)
    hits = retriever.ask("Quels légumes faut-il pour la ratatouille ?").hits
    assert {h.passage.location.doc_id for h in hits[:2]} == {"second"}  # its title and its ingredients
    veg = next(h.passage for h in hits[:2] if h.passage.location.role == "paragraph")
    assert veg.location.section == "Ingrédients" and "aubergines" in veg.text
    shear = retriever.ask("Qui est Emmett Shear ?").hits[0].passage
    assert shear.location.doc_id != "second" and "Twitch" in shear.text
    thyme = retriever.ask("Quelle herbe ajoutait la grand-mère ?", scope="comments").hits[0].passage
    assert (thyme.location.doc_id, thyme.location.comment) == ("second", 1)


def test_passages_file_holds_exactly_the_json_of_each_passage(built_settings):
    """The faster passages.jsonl writer (one encoder, Location.to_dict without asdict's deep copy) writes the
    very bytes `json.dumps(row, ensure_ascii=False)` of `dataclasses.asdict` did."""
    import dataclasses
    import json

    stored = store.load_build(built_settings.data_dir)
    path = store.builds_dir(built_settings.data_dir) / stored.build_id / store.PASSAGES
    expected = "".join(json.dumps({"id": p.id, "text": p.text, "location": dataclasses.asdict(p.location),
                                   "sentences": [list(s) for s in spans]}, ensure_ascii=False) + "\n"
                       for p, spans in zip(stored.passages, stored.sentences))
    assert path.read_text("utf-8") == expected
    assert all(p.location.to_dict() == dataclasses.asdict(p.location) for p in stored.passages)


def test_a_refresh_logs_the_build_it_left_and_the_one_it_took(private, e5_embedder, caplog):
    import logging

    first = store.current_build_id(private.data_dir)
    retriever = Retriever.open(private, build_if_missing=False)
    second = build_index(private, e5_embedder).build_id
    with caplog.at_level(logging.INFO, logger="index.service"):
        assert retriever.refresh() is True
    assert f"switched from index build {first} to {second}" in caplog.text
