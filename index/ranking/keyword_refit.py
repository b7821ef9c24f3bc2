"""What fitting the keyword index reads from each text, kept in the build so the next build reads only new texts.

Fitting the keyword index (index.ranking.keyword) of a large corpus is mostly Python reading every
passage: its character n-grams counted, its words folded, stemmed and looked up in wordfreq. Adding one
article changes a few dozen passages, yet the idf and the norms of every passage change with it, so the
index itself cannot be patched; what can be reused is what each unchanged text contributes. A build
therefore stores, beside the index (keywords.npz, arrays named `refit_*`, never read when serving):

* per text (keyed by a hash of its exact text): its n-grams with their counts, and its distinct words,
  both in order of first appearance, which is the order the fit sums them in;
* per distinct word: its folded form, stem and Zipf frequency (NaN when the fit did not need it);
* the everyday-word table and the package versions it was computed with.

`KeywordIndex.fit(texts, previous=...)` then recounts only the texts it has not seen and redoes the numpy
part over everything, so the result is bit-for-bit the full fit's (tests/test_keyword_refit.py). A file
of another `REFIT_FORMAT`, other package versions or damaged arrays: a full fit.
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

# What the refit arrays hold and mean; bump it when that changes (an older file then gets a full fit).
REFIT_FORMAT = "refit/1"
KEY_BYTES = 16


def text_keys(texts: Iterable[str]) -> list[bytes]:
    return [hashlib.blake2b(t.encode("utf-8"), digest_size=KEY_BYTES).digest() for t in texts]


def versions() -> str:
    """The packages whose output the stored words depend on (Zipf frequencies, stems)."""
    from importlib import metadata

    found = []
    for name in ("wordfreq", "PyStemmer"):
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=")
    return " ".join(found)


@dataclass
class GramCounts:
    """Per text, its character n-grams (ids into `names`) with their counts, in order of first appearance."""

    names: list[str]
    ids: np.ndarray  # int32, one per (text, n-gram), text after text
    tfs: np.ndarray  # int32, alongside
    lengths: np.ndarray  # int64, n-grams per text


@dataclass
class WordTable:
    """The distinct words met, with what the vocabulary needs of each, and per text its distinct words."""

    words: list[str]  # as `text_norm.words` gives them
    keys: list[str]  # folded
    stems: list[str]
    zipf: list[float]  # NaN: not looked up yet
    ids: np.ndarray  # int32, one per (text, distinct word), text after text
    lengths: np.ndarray  # int64, distinct words per text


@dataclass
class Refit:
    """What a previous build stored for refitting (see the module's docstring)."""

    row_of_key: dict[bytes, int]  # text hash → its row
    grams: GramCounts  # rows = the previous texts
    table: WordTable  # rows = the previous texts
    common: dict[str, float]
    sizes: tuple[int, ...]
    language: str

    def gram_slice(self, row: int) -> tuple[int, int]:
        return int(self._gram_ptr[row]), int(self._gram_ptr[row + 1])

    def word_slice(self, row: int) -> tuple[int, int]:
        return int(self._word_ptr[row]), int(self._word_ptr[row + 1])

    def __post_init__(self):
        self._gram_ptr = np.concatenate([[0], np.cumsum(self.grams.lengths)])
        self._word_ptr = np.concatenate([[0], np.cumsum(self.table.lengths)])

    @classmethod
    def from_arrays(cls, a) -> "Refit | None":
        """The refit state of keywords.npz (an open NpzFile or a dict), or None when it has none, of another
        format or versions, or arrays that do not fit together (then the build fits in full)."""
        from .keyword import KeywordIndex, _unpacked

        try:
            if "refit_format" not in a or str(a["refit_format"]) != REFIT_FORMAT or \
                    str(a["format"]) != KeywordIndex.FORMAT or str(a["refit_versions"]) != versions():
                return None
            keys = a["refit_keys"]
            n = len(keys) // KEY_BYTES
            grams = a["grams"].tolist()
            g_ids, tfs, g_len = (a[k].astype(np.int64) for k in ("refit_gram_ids", "refit_tfs", "refit_gram_lengths"))
            words, w_keys, w_stems = (_unpacked(a[k]) for k in ("refit_words", "refit_word_keys", "refit_word_stems"))
            zipf = a["refit_word_zipf"].astype(np.float64)
            w_ids, w_len = (a[k].astype(np.int64) for k in ("refit_word_ids", "refit_word_lengths"))
            ok = (len(keys) % KEY_BYTES == 0 and len(g_len) == n == len(w_len) and len(g_ids) == len(tfs)
                  and g_len.sum() == len(g_ids) and w_len.sum() == len(w_ids) and (g_len >= 0).all()
                  and (w_len >= 0).all() and len(words) == len(w_keys) == len(w_stems) == len(zipf)
                  and (not len(g_ids) or (g_ids.min() >= 0 and g_ids.max() < len(grams)))
                  and (not len(w_ids) or (w_ids.min() >= 0 and w_ids.max() < len(words)))
                  and (not len(tfs) or tfs.min() >= 1))
            if not ok:
                return None
            raw = keys.tobytes()
            row_of_key = {raw[i * KEY_BYTES:(i + 1) * KEY_BYTES]: i for i in range(n)}
            common = dict(zip(a["common"].tolist(), a["common_zipf"].tolist()))
            return cls(row_of_key, GramCounts(grams, g_ids, tfs, g_len),
                       WordTable(words, w_keys, w_stems, zipf.tolist(), w_ids, w_len), common,
                       tuple(a["sizes"].tolist()), str(a["language"]))
        except (KeyError, ValueError, TypeError, UnicodeDecodeError):
            return None


def count_grams(texts: list[str], sizes: tuple[int, ...], keys: list[bytes], previous: Refit | None) -> GramCounts:
    """The n-gram counts of every text: a text the previous build had is copied from its arrays, the others counted."""
    from .keyword import char_ngrams

    if previous is not None and previous.sizes != tuple(sizes):
        previous = None
    names: list[str] = list(previous.grams.names) if previous is not None else []
    row_of: dict[str, int] | None = None  # gram → id in `names`, built only when a text must be counted
    ids_parts, tf_parts, lengths = [], [], np.empty(len(texts), dtype=np.int64)
    for i, (text, key) in enumerate(zip(texts, keys)):
        row = previous.row_of_key.get(key) if previous is not None else None
        if row is not None:
            lo, hi = previous.gram_slice(row)
            ids_parts.append(previous.grams.ids[lo:hi])
            tf_parts.append(previous.grams.tfs[lo:hi])
            lengths[i] = hi - lo
            continue
        if row_of is None:
            row_of = {g: n for n, g in enumerate(names)}
        counts = Counter(char_ngrams(text, sizes))
        ids_parts.append(np.array([row_of.setdefault(g, len(row_of)) for g in counts], dtype=np.int64))
        tf_parts.append(np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))
        lengths[i] = len(counts)
    if row_of is not None:
        names = list(row_of)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int64)
    tfs = np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.int64)
    return GramCounts(names, ids, tfs, lengths)


def word_table(texts: list[str], language: str, keys: list[bytes], previous: Refit | None) -> WordTable:
    """Each text's distinct words (ids into one table of words with their folded form and stem); a text the
    previous build had is copied from its arrays."""
    from ..text_norm import fold, term, words

    if previous is not None and previous.language != language:
        previous = None
    if previous is not None:
        t = previous.table
        table = WordTable(list(t.words), list(t.keys), list(t.stems), list(t.zipf), t.ids, t.lengths)
    else:
        table = WordTable([], [], [], [], np.zeros(0, np.int64), np.zeros(0, np.int64))
    id_of: dict[str, int] | None = None
    parts, lengths = [], np.empty(len(texts), dtype=np.int64)
    for i, (text, key) in enumerate(zip(texts, keys)):
        row = previous.row_of_key.get(key) if previous is not None else None
        if row is not None:
            lo, hi = previous.word_slice(row)
            parts.append(previous.table.ids[lo:hi])
            lengths[i] = hi - lo
            continue
        if id_of is None:
            id_of = {w: n for n, w in enumerate(table.words)}
        ids = []
        for word in dict.fromkeys(words(text)):
            n = id_of.get(word)
            if n is None:
                n = id_of[word] = len(table.words)
                table.words.append(word)
                table.keys.append(fold(word))
                table.stems.append(term(word, language))
                table.zipf.append(math.nan)
            ids.append(n)
        parts.append(np.array(ids, dtype=np.int64))
        lengths[i] = len(ids)
    table.ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    table.lengths = lengths
    return table


def to_arrays(keys: list[bytes], gram_ids: np.ndarray, counts: GramCounts, table: WordTable) -> dict[str, np.ndarray]:
    """The refit arrays of a fit: `gram_ids` are the fitted index's rows (the stored `grams`), per text in order.
    The words are kept in order of first appearance, with the Zipf frequency of those the vocabulary took it
    from: whatever the builds before, equal texts give equal arrays (and an equal keywords.npz)."""
    from .keyword import _packed

    met = first_appearances(table.ids)
    renumber = np.full(len(table.words), -1, dtype=np.int64)
    renumber[met] = np.arange(len(met))
    seen: set[str] = set()
    zipf = []
    for w in met.tolist():
        key = table.keys[w]
        zipf.append(math.nan if key in seen else table.zipf[w])
        seen.add(key)
    kept = met.tolist()
    tfs = counts.tfs
    return {"refit_format": np.array(REFIT_FORMAT), "refit_versions": np.array(versions()),
            "refit_keys": np.frombuffer(b"".join(keys), dtype=np.uint8),
            "refit_gram_ids": gram_ids.astype(np.int32),
            "refit_tfs": tfs.astype(np.uint16 if not len(tfs) or tfs.max() < 1 << 16 else np.int32),
            "refit_gram_lengths": counts.lengths.astype(np.int32),
            "refit_words": _packed(table.words[k] for k in kept),
            "refit_word_keys": _packed(table.keys[k] for k in kept),
            "refit_word_stems": _packed(table.stems[k] for k in kept),
            "refit_word_zipf": np.array(zipf, dtype=np.float64),
            "refit_word_ids": renumber[table.ids].astype(np.int32),
            "refit_word_lengths": table.lengths.astype(np.int32)}


def first_appearances(ids: np.ndarray) -> np.ndarray:
    """Each distinct id once, in order of first appearance."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def is_refit_array(name: str) -> bool:
    return name.startswith("refit_")
