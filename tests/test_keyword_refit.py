"""A keyword index refitted from the previous build's (only new texts read) is bit-for-bit a full fit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.corpus.loader import load_corpus
from index.ranking import keyword_refit
from index.ranking.keyword import KeywordIndex
from index.ranking.keyword_refit import Refit

from .conftest import CORPUS_DIR

CNIL_SAMPLE = Path(__file__).parent / "data" / "cnil_sample"


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> list[str]:
    """Real texts: the seed article with its comments, and a few CNIL help entries."""
    cnil = tmp_path_factory.mktemp("cnil")
    for path in CNIL_SAMPLE.glob("cnil-*.md"):
        (cnil / path.name).write_bytes(path.read_bytes())
    docs = load_corpus(CORPUS_DIR) + load_corpus(cnil)
    out = [block.text for doc in docs for block in doc.blocks]
    assert len(out) > 100
    return out


def stored(index: KeywordIndex) -> dict[str, np.ndarray]:
    """What keywords.npz holds of the index, refit arrays included."""
    return index.to_arrays()


def assert_same(a: KeywordIndex, b: KeywordIndex) -> None:
    left, right = stored(a), stored(b)
    assert sorted(left) == sorted(right)
    for name in left:
        x, y = np.asarray(left[name]), np.asarray(right[name])
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert a.vocabulary.spellings == b.vocabulary.spellings


def refit(previous: KeywordIndex, texts: list[str]) -> KeywordIndex:
    state = Refit.from_arrays(stored(previous))
    assert state is not None
    return KeywordIndex.fit(texts, previous=state)


def counting_ngrams(monkeypatch) -> list[str]:
    """The texts whose n-grams are counted (not copied from the previous build)."""
    from index.ranking import keyword

    seen: list[str] = []
    real = keyword.char_ngrams
    monkeypatch.setattr(keyword, "char_ngrams", lambda text, *a: seen.append(text) or real(text, *a))
    return seen


def test_refit_after_adding_texts_equals_a_full_fit(texts, monkeypatch):
    before = KeywordIndex.fit(texts[:-20])
    counted = counting_ngrams(monkeypatch)
    assert_same(refit(before, texts), KeywordIndex.fit(texts))
    new = [t for t in texts[-20:] if t not in texts[:-20]]
    assert new and counted[:len(new)] == new  # the refit read only the new texts (then the full fit read them all)
    assert len(counted) == len(new) + len(texts)


def test_refit_after_removing_and_changing_texts_equals_a_full_fit(texts):
    before = KeywordIndex.fit(texts)
    changed = list(texts)
    changed[3] = changed[3] + " Une phrase ajoutée par la rédaction, avec Zébulon."
    del changed[10:30]  # an article's blocks gone: their n-grams and words may leave the index
    changed.insert(0, "Un texte neuf sur l’aérodrome de Saint-Nazaire.")
    changed.append(texts[5])  # the same text twice
    after = refit(before, changed)
    assert_same(after, KeywordIndex.fit(changed))
    assert "zebulon" in after.vocabulary.forms and "nazaire" in after.vocabulary.forms


def test_refit_chains_over_several_builds(texts):
    one = KeywordIndex.fit(texts[:50])
    two = refit(one, texts[:80])
    three = refit(two, texts[20:])
    assert_same(three, KeywordIndex.fit(texts[20:]))


def test_nothing_in_common_and_empty_corpora(texts):
    assert_same(refit(KeywordIndex.fit(texts[:10]), texts[10:40]), KeywordIndex.fit(texts[10:40]))
    assert_same(refit(KeywordIndex.fit(texts[:10]), []), KeywordIndex.fit([]))
    assert_same(refit(KeywordIndex.fit([]), texts[:10]), KeywordIndex.fit(texts[:10]))


def test_an_old_format_or_damaged_previous_file_means_a_full_fit(texts, monkeypatch):
    arrays = stored(KeywordIndex.fit(texts[:30]))
    assert Refit.from_arrays(arrays) is not None
    old = {k: v for k, v in arrays.items() if not keyword_refit.is_refit_array(k)}  # a build before refits
    assert Refit.from_arrays(old) is None
    assert Refit.from_arrays(dict(arrays, refit_format=np.array("refit/0"))) is None
    assert Refit.from_arrays(dict(arrays, refit_versions=np.array("wordfreq=0.0"))) is None
    damaged = dict(arrays, refit_gram_ids=arrays["refit_gram_ids"][:-1])
    assert Refit.from_arrays(damaged) is None
    damaged = dict(arrays, refit_word_ids=arrays["refit_word_ids"] + len(arrays["refit_word_ids"]))
    assert Refit.from_arrays(damaged) is None
    monkeypatch.setattr(keyword_refit, "REFIT_FORMAT", "refit/next")  # the code moved on: the file is old
    assert Refit.from_arrays(arrays) is None


def test_serving_reads_none_of_the_refit_arrays(texts, tmp_path):
    path = tmp_path / "keywords.npz"
    index = KeywordIndex.fit(texts[:30])
    np.savez(path, **stored(index))
    read: list[str] = []

    class Watched(dict):
        def __getitem__(self, name):
            read.append(name)
            return super().__getitem__(name)

    with np.load(path, allow_pickle=False) as arrays:
        assert any(keyword_refit.is_refit_array(n) for n in arrays.files)
        loaded = KeywordIndex.from_arrays(Watched({n: arrays[n] for n in arrays.files}))
    assert read and not [n for n in read if keyword_refit.is_refit_array(n)]
    assert loaded.refit_arrays is None
    assert not any(keyword_refit.is_refit_array(n) for n in index.to_arrays(refit=False))
