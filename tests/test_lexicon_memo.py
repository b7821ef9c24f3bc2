"""simplemma's English forms of the dictionary's headwords, kept in the data directory so that a build in a fresh
process does not walk simplemma's whole table again (index/ranking/lexicon_memo.py)."""
from __future__ import annotations

import stat

from index.ranking import lexicon
from index.ranking.keyword import KeywordIndex
from index.ranking.lexicon_memo import memo_path, prepare_english_pairs

from .test_quality_lexicon import ENTRIES, TEXTS, write_dictd


def _fresh_dictionary(path):
    """What a new process sees: the dictionary parsed anew, simplemma's table not yet read."""
    lexicon._dictionary.cache_clear()
    lexicon.forget_english_lemmas()
    return lexicon.dictionary(path)


def test_the_first_build_writes_the_forms_and_the_next_process_reads_them_back(tmp_path, monkeypatch):
    path = str(write_dictd(tmp_path, ENTRIES))
    data = tmp_path / "data"
    computed = _fresh_dictionary(path).english_pairs
    assert ("fired", "fire") in computed  # simplemma's form of a headword
    _fresh_dictionary(path)
    assert prepare_english_pairs(data, path) is False  # nothing kept yet: computed, then written
    memo = memo_path(data, lexicon.dictionary(path))
    assert memo.is_file() and stat.S_IMODE(memo.stat().st_mode) & 0o077 == 0  # private, as the data dir's files

    _fresh_dictionary(path)
    monkeypatch.setattr(lexicon, "_english_lemmas", lambda: (_ for _ in ()).throw(AssertionError("table read")))
    assert prepare_english_pairs(data, path) is True
    assert lexicon.dictionary(path).english_pairs == computed  # the same pairs, in the same order
    assert KeywordIndex.fit(TEXTS, lexicon=path).glosses.get("fired") == ("licencier",)  # the glosses built from them


def test_a_damaged_or_stale_memo_is_computed_again(tmp_path):
    path = str(write_dictd(tmp_path, ENTRIES))
    data = tmp_path / "data"
    prepare_english_pairs(data, path)
    memo = memo_path(data, lexicon.dictionary(path))
    expected = memo.read_text("utf-8")
    for damaged in (expected[: len(expected) // 2],  # cut short: no final newline
                    "# verbatim english pairs 1\nfired\n",  # a line without its lemma
                    "\x00\xff binary"):
        memo.write_text(damaged, "utf-8")
        _fresh_dictionary(path)
        assert prepare_english_pairs(data, path) is False and memo.read_text("utf-8") == expected

    write_dictd(tmp_path, dict(ENTRIES, fire="fire /faɪər/\n1. congédier\n"))  # a new version of the package
    newer = memo_path(data, _fresh_dictionary(path))
    assert newer != memo
    prepare_english_pairs(data, path)
    assert newer.is_file() and not memo.exists()  # the older dictionary's memo is removed


def test_an_unwritable_data_dir_only_costs_the_time(tmp_path):
    path = str(write_dictd(tmp_path, ENTRIES))
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    _fresh_dictionary(path)
    assert prepare_english_pairs(blocked / "data", path) is False
    assert ("fired", "fire") in lexicon.dictionary(path).english_pairs


def test_without_a_dictionary_nothing_is_written(tmp_path):
    assert prepare_english_pairs(tmp_path / "data", "") is False
    assert prepare_english_pairs(tmp_path / "data", str(tmp_path / "missing")) is False
    assert not (tmp_path / "data").exists()
