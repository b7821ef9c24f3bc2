"""English-French glosses on the keyword side (index/ranking/lexicon.py): read from a dictd dictionary at build
time, stored in the build, used to rank English questions only, never as abstention evidence."""
from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pytest

from index.ranking.keyword import KeywordIndex
from index.ranking.lexicon import DEFAULT_DICTIONARY, corpus_glosses, gloss, read_dictd

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENTRIES = {  # a few entries written for the test, in FreeDict's layout (not taken from the GPL dictionary)
    "boss": "boss /bɒs/\n1. patron\n2. chef\n",
    "fire": "fire /faɪər/\n1. licencier, renvoyer\n2. feu\n",
    "weather": "weather /ˈweðər/\ntemps\n",
    "board": "board /bɔːd/\nconseil d'administration\n",
    "a lot of": "a lot of\nbeaucoup de\n",
}
TEXTS = ["Le conseil d’administration a licencié son patron vendredi soir.",
         "Microsoft annonce des puces Azure Maia 100 lors de la conférence Ignite."]


def _number(n: int) -> str:
    out = ""
    while True:
        out = _B64[n % 64] + out
        n //= 64
        if not n:
            return out


def write_dictd(folder: Path, entries: dict[str, str]) -> Path:
    """A dictd dictionary (`name.index` + gzipped `name.dict.dz`) holding these entries."""
    base = folder / "test-eng-fra"
    data, index = b"", []
    for head in ["00-database-info", *entries]:
        body = entries.get(head, "00-database-info\nA test dictionary.\n").encode("utf-8")
        index.append(f"{head}\t{_number(len(data))}\t{_number(len(body))}")
        data += body
    with gzip.open(base.with_name(base.name + ".dict.dz"), "wb") as f:
        f.write(data)
    base.with_name(base.name + ".index").write_text("\n".join(index) + "\n", "utf-8")
    return base


def test_dictd_entries_are_read_with_their_numbered_senses(tmp_path):
    senses = read_dictd(write_dictd(tmp_path, ENTRIES))
    assert senses["boss"] == ["patron", "chef"]
    assert senses["fire"] == ["licencier", "renvoyer", "feu"]
    assert "a lot of" not in senses and "00-database-info" not in senses  # multi-word and dictd's own entries


def test_glosses_keep_the_senses_the_corpus_may_hold_for_every_english_form(tmp_path):
    table = corpus_glosses(write_dictd(tmp_path, ENTRIES), lambda word: word in {"licencier", "patron", "conseil"})
    assert table["fire"] == table["fired"] == ("licencier",)  # "fired" → "fire" through simplemma's English forms
    assert table["bosses"] == ("patron",)
    assert "weather" not in table  # no sense of it can matter for this corpus
    assert gloss("Who fired the boss?", table) == ["licencier", "patron"]


def test_glosses_survive_the_build_arrays(tmp_path):
    fitted = KeywordIndex.fit(TEXTS, lexicon=str(write_dictd(tmp_path, ENTRIES)))
    assert fitted.glosses.get("fired") == ("licencier",)  # "renvoyer" and "feu" share no n-gram with the texts
    np.savez(tmp_path / "k.npz", **fitted.to_arrays())
    with np.load(tmp_path / "k.npz", allow_pickle=False) as arrays:
        loaded = KeywordIndex.from_arrays(arrays)
    assert len(loaded.glosses) == len(fitted.glosses)
    for form in ("fire", "fired", "boss", "bosses", "board", "nothing"):
        assert loaded.glosses.get(form) == fitted.glosses.get(form)


def test_without_the_dictionary_a_build_has_no_glosses_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        fitted = KeywordIndex.fit(TEXTS, lexicon=str(tmp_path / "absent-eng-fra"))
    assert fitted.gloss_arrays is None and not fitted.glosses
    assert "dict-freedict-eng-fra" in caplog.text
    assert KeywordIndex.fit(TEXTS).gloss_arrays is None  # lexicon = "": none, silently
    arrays = fitted.to_arrays()
    assert not any(name.startswith("gloss") for name in arrays)
    assert not KeywordIndex.from_arrays(arrays).glosses  # a build without glosses (or from before them) loads


def _ranker(tmp_path, lexicon_weight: float):
    from index.ranking import Ranker, Weights
    from index.store import StoredIndex

    keywords = KeywordIndex.fit(TEXTS, lexicon=str(write_dictd(tmp_path, ENTRIES)))
    stored = StoredIndex.__new__(StoredIndex)
    object.__setattr__(stored, "keywords", keywords)
    ranker = Ranker.__new__(Ranker)
    ranker.stored, ranker.weights, ranker.vocabulary = stored, Weights(lexicon=lexicon_weight), keywords.vocabulary
    return ranker


def test_only_english_questions_are_glossed(tmp_path):
    ranker = _ranker(tmp_path, 1.0)
    assert ranker.glosses("Who fired the boss on Friday?")
    assert ranker.glosses("Qui a licencié le patron ?") == []  # French: no glosses
    assert _ranker(tmp_path, 0.0).glosses("Who fired the boss on Friday?") == []  # lexicon_weight 0: off


def test_glosses_move_the_ranking_but_not_the_evidence(retriever, built_settings):
    """On the seed article with the system dictionary: an English question in everyday words."""
    from index.service import Retriever

    if not retriever._loaded.stored.keywords.glosses:
        pytest.skip(f"the English-French dictionary is not installed ({DEFAULT_DICTIONARY}.dict.dz)")
    question = "Who took over as interim boss?"
    without = Retriever.open(built_settings.with_(lexicon_weight=0.0), build_if_missing=False).ask(question)
    with_ = retriever.ask(question)
    assert with_.extra["keyword_evidence"] == without.extra["keyword_evidence"]
    assert with_.answered == without.answered
    assert [h.score for h in with_.hits] != [h.score for h in without.hits]
    assert "Mira Murati laisse sa place à Emmett Shear" in with_.hits[0].passage.text


def test_the_dictionary_is_read_once_a_process_until_it_changes(tmp_path, monkeypatch):
    from index.ranking import lexicon

    path = write_dictd(tmp_path, ENTRIES)
    reads: list[str] = []
    real = lexicon.read_dictd
    monkeypatch.setattr(lexicon, "read_dictd", lambda p: reads.append(str(p)) or real(p))
    first = KeywordIndex.fit(TEXTS, lexicon=str(path))
    again = KeywordIndex.fit(TEXTS, lexicon=str(path))  # the next build in this process
    assert len(reads) == 1 and again.glosses.get("fired") == first.glosses.get("fired") == ("licencier",)
    write_dictd(tmp_path, dict(ENTRIES, fire="fire /faɪər/\n1. congédier\n"))  # a new version of the package
    assert "licencier" not in (KeywordIndex.fit(TEXTS, lexicon=str(path)).glosses.get("fired") or ())
    assert len(reads) == 2


def test_the_glosses_stored_do_not_depend_on_the_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    from .conftest import PROJECT_ROOT

    path = write_dictd(tmp_path, ENTRIES)
    script = (f"import sys, numpy as np; from index.ranking.keyword import KeywordIndex; "
              f"np.savez(sys.argv[1], **KeywordIndex.fit({TEXTS!r}, lexicon={str(path)!r}).gloss_arrays)")
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / f"g{seed}.npz")], check=True, cwd=PROJECT_ROOT,
                       env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), PYTHONHASHSEED=seed), timeout=120)
    with np.load(tmp_path / "g1.npz") as one, np.load(tmp_path / "g2.npz") as two:
        assert len(one["gloss_ids"]) and all(one[k].tobytes() == two[k].tobytes() for k in one.files)
