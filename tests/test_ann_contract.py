"""One contract, every vector-index backend (index/ann): the same test runs over ANN_KINDS.

Small random unit vectors keep the whole file to a few seconds.  Scores are compared with a
numpy brute force so a backend that used the wrong metric (e.g. L2, which ranks unit vectors
the same way) or returned stale results after a reload would fail.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from index.ann import ANN_KINDS, Ann, load_ann, make_ann
from index.ann.ivf import MIN_TRAIN_PER_LIST, default_nlist

DIM = 32
N = 1500  # large enough that IVF trains several lists (default nlist = 38)


def unit(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def corpus() -> np.ndarray:
    return unit(N)


@pytest.fixture(scope="module")
def queries(corpus) -> np.ndarray:
    # Near-duplicates of 40 corpus rows: their exact nearest neighbour is that row.
    noise = unit(40, seed=1) * 0.05
    q = corpus[:40] + noise
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(params=ANN_KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def built(kind, corpus) -> Ann:
    ann = make_ann(kind, DIM)
    ann.add(corpus)
    return ann


def test_kind_and_shape(kind, built):
    assert isinstance(built, Ann)
    assert built.kind == kind
    assert built.dim == DIM
    assert built.ntotal == N == len(built)
    json.dumps(built.params())  # goes into the manifest
    if kind == "ivf":
        assert built.params()["nlist"] == default_nlist(N) > 1


def test_self_query_finds_itself_at_rank_1(built, corpus):
    rows = np.arange(0, N, 37)
    scores, ids = built.search(corpus[rows], 5)
    assert scores.shape == ids.shape == (len(rows), 5)
    assert scores.dtype == np.float32 and ids.dtype == np.int64
    np.testing.assert_array_equal(ids[:, 0], rows)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_near_duplicate_finds_exact_neighbour_with_cosine_scores(built, corpus, queries):
    scores, ids = built.search(queries, 10)
    exact = queries @ corpus.T
    np.testing.assert_array_equal(ids[:, 0], exact.argmax(axis=1))
    np.testing.assert_array_equal(ids[:, 0], np.arange(40))
    # The scores are the inner products (= cosine) of the returned rows, whatever the backend.
    np.testing.assert_allclose(scores, np.take_along_axis(exact, ids, axis=1), atol=1e-5)


def test_scores_descending(built, queries):
    scores, ids = built.search(queries, 25)
    assert (ids >= 0).all()
    assert (scores[:, :-1] >= scores[:, 1:]).all()


def test_k_larger_than_ntotal_pads_with_minus_one(kind):
    small = unit(50, seed=3)
    ann = make_ann(kind, DIM)
    ann.add(small)
    scores, ids = ann.search(small[:3], 60)
    assert ids.shape == (3, 60)
    assert (ids[:, 50:] == -1).all()
    assert np.isneginf(scores[:, 50:]).all()
    for row in ids[:, :50]:
        assert sorted(row.tolist()) == list(range(50))
    assert (scores[:, :-1] >= scores[:, 1:]).all()


def test_empty_index_returns_nothing(kind):
    ann = make_ann(kind, DIM)
    assert ann.ntotal == 0
    scores, ids = ann.search(unit(2, seed=4), 3)
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_ids_follow_insertion_order_across_adds(kind, corpus):
    ann = make_ann(kind, DIM)
    ann.add(corpus[:1000])  # IVF trains here: it is built in one (first) add
    ann.add(corpus[1000:])
    assert ann.ntotal == N
    rows = np.array([5, 999, 1000, 1234, N - 1])
    _, ids = ann.search(corpus[rows], 1)
    np.testing.assert_array_equal(ids[:, 0], rows)


def test_round_trip_on_disk(kind, built, queries, tmp_path):
    path = tmp_path / "sub" / f"{kind}.faiss"
    built.save(path)
    assert path.is_file() and path.stat().st_size > N * DIM * 4
    again = load_ann(kind, path)
    assert again.kind == kind and again.dim == DIM and again.ntotal == N
    assert again.params() == built.params()
    s1, i1 = built.search(queries, 10)
    s2, i2 = again.search(queries, 10)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(s1, s2)
    # A loaded index keeps growing with the next ids.
    extra = unit(3, seed=9)
    again.add(extra)
    _, ids = again.search(extra, 1)
    np.testing.assert_array_equal(ids[:, 0], [N, N + 1, N + 2])


def test_search_time_params_override_at_load(kind, built, tmp_path):
    path = tmp_path / "x.faiss"
    built.save(path)
    override = {"flat": {}, "hnsw": {"efSearch": 7}, "ivf": {"nprobe": 3}}[kind]
    again = load_ann(kind, path, **override)
    for name, value in override.items():
        assert again.params()[name] == value
    with pytest.raises(ValueError):
        load_ann(kind, path, nonsense=1)


@pytest.mark.parametrize("bad_dim", [DIM - 1, DIM + 1])
def test_wrong_dimension_is_a_clear_value_error(built, bad_dim):
    with pytest.raises(ValueError, match="dimension"):
        built.search(unit(2, dim=bad_dim), 3)
    with pytest.raises(ValueError, match="dimension"):
        built.add(unit(2, dim=bad_dim))
    assert built.ntotal == N  # the failed add changed nothing


def test_bad_inputs_are_value_errors(kind, built):
    with pytest.raises(ValueError):
        built.search(np.zeros((2, 3, DIM), dtype=np.float32), 3)
    with pytest.raises(ValueError):
        built.search(unit(1), 0)
    with pytest.raises(ValueError):
        built.add(np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(ValueError):
        make_ann(kind, 0)


def test_single_vector_query_is_one_row(built, corpus):
    scores, ids = built.search(corpus[7], 2)
    assert ids.shape == (1, 2) and ids[0, 0] == 7


def test_loading_another_kind_or_a_corrupt_file_is_refused(kind, built, tmp_path):
    path = tmp_path / "idx.faiss"
    built.save(path)
    for other in ANN_KINDS:
        if other != kind:
            with pytest.raises(ValueError, match="kind|holds"):
                load_ann(other, path)
    junk = tmp_path / "junk.faiss"
    junk.write_bytes(b"not a faiss index at all")
    with pytest.raises(ValueError):
        load_ann(kind, junk)
    with pytest.raises(FileNotFoundError):
        load_ann(kind, tmp_path / "missing.faiss")


def test_unknown_kind():
    with pytest.raises(ValueError, match="flat, hnsw, ivf"):
        make_ann("annoy", DIM)
    with pytest.raises(ValueError, match="bad parameters"):
        make_ann("flat", DIM, efSearch=3)


def test_ivf_nlist_degrades_gracefully():
    assert default_nlist(10) == 1
    assert default_nlist(MIN_TRAIN_PER_LIST * 2) == 2
    assert default_nlist(1_000_000) == 4000
    assert default_nlist(100_000) == 1265  # round(4 * sqrt(n))
    tiny = make_ann("ivf", DIM)
    tiny.add(unit(5))
    assert tiny.params()["nlist"] == 1
    with pytest.raises(ValueError, match="nlist"):
        make_ann("ivf", DIM, nlist=100).add(unit(20))
    with pytest.raises(ValueError, match="first add"):
        make_ann("ivf", DIM).save("/nonexistent/never-written.faiss")


# -- the index type as a build option: store.py goes through index.ann --------------------------


def test_store_writes_and_loads_each_kind(kind, tmp_path):
    from index import store
    from index.ranking.keyword import KeywordIndex
    from index.model import Location, Passage

    n = 60
    vectors = unit(n, seed=11)
    passages = [Passage(i, f"p{i}", Location("doc", "article", "S", i + 1, None, 0, 2)) for i in range(n)]
    build_id = store.new_build_id()
    store.write_build(tmp_path, build_id, {"dim": DIM, "ann": kind}, passages, [[(0, 2)]] * n, vectors, vectors,
                      KeywordIndex.fit([p.text for p in passages]))
    stored = store.load_build(tmp_path)
    assert stored.manifest["ann"] == kind
    assert stored.manifest["ann_params"] == stored.passage_index.params()
    assert isinstance(stored.passage_index, Ann) and stored.passage_index.kind == kind
    _, ids = stored.passage_index.search(vectors[[3, 42]], 1)
    np.testing.assert_array_equal(ids[:, 0], [3, 42])


def test_store_refuses_an_index_file_of_another_kind(tmp_path):
    from index import store
    from index.ranking.keyword import KeywordIndex
    from index.errors import IndexCorrupt
    from index.model import Location, Passage

    n = 10
    vectors = unit(n, seed=12)
    passages = [Passage(i, f"p{i}", Location("doc", "article", "S", i + 1, None, 0, 2)) for i in range(n)]
    build_id = store.new_build_id()
    folder = store.write_build(tmp_path, build_id, {"dim": DIM, "ann": "hnsw"}, passages, [[(0, 2)]] * n,
                               vectors, vectors, KeywordIndex.fit([p.text for p in passages]))
    manifest = json.loads((folder / store.MANIFEST).read_text("utf-8"))
    manifest["ann"] = "flat"  # a manifest that lies about the file beside it
    (folder / store.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexCorrupt):
        store.load_build(tmp_path)


def test_ann_setting_and_cli_option():
    from bot.cli import _parser
    from index.errors import ConfigError
    from index.settings import Settings

    assert Settings.from_env(env={}).ann == "flat"
    assert Settings.from_env(env={"VERBATIM_ANN": "ivf"}).ann == "ivf"
    with pytest.raises(ConfigError, match="flat, hnsw, ivf"):
        Settings.from_env(env={"VERBATIM_ANN": "annoy"})
    assert _parser().parse_args(["index", "build", "--ann", "hnsw"]).ann == "hnsw"
    with pytest.raises(SystemExit):
        _parser().parse_args(["index", "build", "--ann", "annoy"])


def test_vectors_gives_back_the_stored_rows(built, corpus, tmp_path):
    """Exact scores over one article's passages rely on it, whatever the backend (and after a reload)."""
    ids = np.array([0, 7, N - 1, 3], dtype=np.int64)
    np.testing.assert_allclose(built.vectors(ids), corpus[ids], atol=1e-6)
    assert built.vectors(np.zeros(0, np.int64)).shape == (0, DIM)
    built.save(tmp_path / "x.faiss")
    again = load_ann(built.kind, tmp_path / "x.faiss")
    np.testing.assert_allclose(again.vectors(ids), corpus[ids], atol=1e-6)


def test_flat_reads_and_searches_as_faiss_does_without_importing_it(corpus, queries, tmp_path):
    """The flat index searches with numpy and reads FAISS's IndexFlatIP file itself: the same vectors and
    the same neighbours as FAISS, a file FAISS wrote read back as it is, and every header field checked
    (a file whose layout differs goes to FAISS, which refuses it as before)."""
    import faiss

    reference = faiss.IndexFlatIP(DIM)
    reference.add(corpus)
    path = tmp_path / "flat.faiss"
    faiss.write_index(reference, str(path))
    ann = load_ann("flat", path)
    np.testing.assert_array_equal(ann.vectors(np.arange(N)), reference.reconstruct_n(0, N))
    for k in (1, 10, N + 5):
        scores, ids = ann.search(queries, k)
        want_scores, want_ids = reference.search(queries, k)
        np.testing.assert_array_equal(ids, want_ids)
        finite = want_ids >= 0
        np.testing.assert_allclose(scores[finite], want_scores[finite], atol=1e-5)
        assert np.isneginf(scores[~finite]).all()
    ann.save(tmp_path / "again.faiss")  # written by FAISS: the bytes FAISS itself writes
    assert (tmp_path / "again.faiss").read_bytes() == path.read_bytes()
    truncated = tmp_path / "truncated.faiss"
    truncated.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(ValueError, match="not a readable FAISS index"):
        load_ann("flat", truncated)


def test_flat_ties_go_to_the_lower_id():
    ann = make_ann("flat", 2)
    ann.add(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.6, 0.8]], dtype=np.float32))
    _, ids = ann.search(np.array([1.0, 0.0], dtype=np.float32), 3)
    assert ids.tolist() == [[1, 2, 3]]


def test_answering_from_a_flat_build_does_not_import_faiss(built_settings):
    """FAISS's import was a fifth of a cold `verbatim ask`; a flat build answers without it."""
    import subprocess
    import sys

    from .conftest import PROJECT_ROOT

    code = ("import sys; from index.service import Retriever; from index.settings import Settings; "
            f"s = Settings.from_env(env={{}}, data_dir={str(built_settings.data_dir)!r}, "
            f"corpus_dir={str(built_settings.corpus_dir)!r}); "
            "r = Retriever.open(s, build_if_missing=False); a = r.ask('Qui est Emmett Shear ?'); "
            "print(a.answered, 'faiss' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["True", "False"], run.stdout + run.stderr
