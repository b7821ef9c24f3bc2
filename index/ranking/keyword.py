"""Keyword evidence: character n-grams of folded words, and the stemmed vocabulary of the corpus.

Character n-grams (4- and 5-grams of accent-folded, stopword-free words) match inflections ("annoncé",
"annonce"), compounds and cognates across French and English ("minister"/"ministre",
"announce"/"annoncé") that exact or stemmed words miss; proper names match in both languages.
Scored as tf-idf cosine through an inverted index, so a question costs a few dictionary lookups.

The corpus vocabulary, with how common each word is in everyday language, answers "do the question's
words tie it to the article?", the keyword half of abstention (`Vocabulary.evidence`). BM25 over
stemmed words is kept for comparison (docs/retrieval.md, `keyword_index = "bm25"`).
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from functools import cached_property, lru_cache

import numpy as np

from ..text_norm import fold, term, terms, words

if TYPE_CHECKING:
    from .keyword_refit import GramCounts, Refit, WordTable

log = logging.getLogger(__name__)

MIN_WORD_CHARS = 3  # shorter words ("IA", "PDG") carry too few n-grams to be evidence


def char_ngrams(text: str, sizes: tuple[int, ...] = (4, 5)) -> list[str]:
    """The n-grams of each folded content word, padded with ^ and $ ("^open", "nai$")."""
    out: list[str] = []
    for word in words(text):
        if len(word) >= MIN_WORD_CHARS:
            out += _word_ngrams(word, sizes)
    return out


@lru_cache(maxsize=1 << 17)
def _word_ngrams(word: str, sizes: tuple[int, ...]) -> tuple[str, ...]:
    """Memoised: a corpus repeats most of its words (fitting the keyword index of a large one)."""
    padded = f"^{fold(word)}$"
    out: list[str] = []
    for n in sizes:
        if len(padded) <= n:
            out.append(padded)
        else:
            out += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return tuple(out)


@dataclass
class CharNgramIndex:
    """tf-idf cosine over character n-grams, as an inverted index in CSR form.

    Row r of the index is the gram `grams[r]`: its passages are `ids[indptr[r]:indptr[r+1]]` with their
    normalised document weights alongside. Flat arrays, so a build stores the index and a process loads
    it in a millisecond instead of re-reading the corpus.
    """

    grams: dict[str, int]  # gram → row
    idf: np.ndarray  # [rows]
    indptr: np.ndarray  # [rows + 1]
    ids: np.ndarray  # [postings] passage ids
    weights: np.ndarray  # [postings] tf-idf weight of the gram in the passage, divided by the passage's norm
    size: int  # passages
    sizes: tuple[int, ...]  # n-gram lengths

    # Below this many postings per question n-gram on average, `scores(among=...)` scatters every posting (about 2 ns
    # each) rather than binary-search the wanted passages (about 5 us per n-gram, whatever the corpus): measured
    # on 2 CPUs, the two cross near 2,000 (tens of thousands of passages).
    SCATTER_POSTINGS: ClassVar[int] = 2000

    @classmethod
    def fit(cls, texts: list[str], sizes: tuple[int, ...] = (4, 5)) -> "CharNgramIndex":
        """The n-grams of each text are counted in Python, everything else in numpy over flat postings (a
        few hundred per passage): fitting 360,000 passages keeps to compact arrays, not Python lists."""
        from .keyword_refit import count_grams, text_keys

        return cls.from_counts(count_grams(texts, sizes, text_keys(texts), None), len(texts), sizes)[0]

    @classmethod
    def from_counts(cls, counts: "GramCounts", n: int, sizes: tuple[int, ...]) -> "tuple[CharNgramIndex, np.ndarray]":
        """The index of `n` texts from their n-gram counts (index.ranking.keyword_refit: counted, or copied from
        the previous build for the texts it had), and each count's row in it (text after text)."""
        present = np.zeros(len(counts.names), dtype=bool)
        present[counts.ids] = True
        order = np.flatnonzero(present).tolist()  # gram ids some text has, by gram
        order.sort(key=counts.names.__getitem__)
        grams = [counts.names[i] for i in order]
        rank = np.full(len(counts.names), -1, dtype=np.int64)
        rank[np.array(order, dtype=np.int64)] = np.arange(len(order))
        gram = rank[counts.ids] if len(counts.ids) else np.zeros(0, np.int64)
        doc = np.repeat(np.arange(n, dtype=np.int32), counts.lengths)
        df = np.bincount(gram, minlength=len(grams))
        idf = np.log((n + 1) / (df + 0.5))
        # per posting, in each text's order of first appearance: (1 + log tf) * idf / the text's norm
        weight = (1 + np.log(counts.tfs.astype(np.float64))) * idf[gram]
        norm = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=n))
        weight = (weight / np.where(norm > 0, norm, 1.0)[doc]).astype(np.float32)
        order_ = np.argsort(gram, kind="stable")  # by gram, passages ascending within each
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(dict(zip(grams, range(len(grams)))), idf.astype(np.float32), indptr,
                   doc[order_].astype(np.int32), weight[order_], n, tuple(sizes)), gram

    def scores(self, query: str, among: np.ndarray | None = None) -> np.ndarray:
        """Cosine of each passage with the question, 0 where no n-gram is shared.

        `among` (ascending passage ids): the cosines of those passages only, in that order, at a cost that
        follows their number rather than the corpus's (a question's common n-grams have postings in most
        passages of a large corpus). Each value is the same float as in the full array.
        """
        weights = self._query_weights(query)
        if among is not None:
            among = np.asarray(among)
            postings = int(sum(self.indptr[r + 1] - self.indptr[r] for r, _ in weights))
            if postings <= self.SCATTER_POSTINGS * len(weights):  # short postings: scattering them all is cheaper
                return self.scores(query)[among] if len(weights) else np.zeros(len(among), dtype=np.float32)
        if among is None:
            out = np.zeros(self.size, dtype=np.float32)
            for r, w in weights:
                lo, hi = self.indptr[r], self.indptr[r + 1]
                np.add.at(out, self.ids[lo:hi], self.weights[lo:hi] * w)
            return out
        out = np.zeros(len(among), dtype=np.float32)
        if not len(among):
            return out
        for r, w in weights:
            lo, hi = int(self.indptr[r]), int(self.indptr[r + 1])
            ids = self.ids[lo:hi]  # ascending: the fit appends passages in order
            if hi - lo <= len(among):  # a rare gram: find its passages among the wanted ones
                at = np.minimum(np.searchsorted(among, ids), len(among) - 1)
                hit = among[at] == ids
                out[at[hit]] += self.weights[lo:hi][hit] * w
            else:  # a common one: find the wanted passages among its postings
                at = np.minimum(np.searchsorted(ids, among), hi - lo - 1)
                hit = ids[at] == among
                out[hit] += self.weights[lo + at[hit]] * w
        return out

    def restricted(self, query: str, among: np.ndarray) -> "CharNgramIndex":
        """The question's n-grams with only their postings in `among` (ascending passage ids), idf and weights
        unchanged: what a per-question computation over some passages reads (documents.local_keyword over the
        candidates' documents), fetched at the cost of those passages instead of the corpus's."""
        among = np.asarray(among)
        found = {g: self.grams[g] for g in dict.fromkeys(char_ngrams(query, self.sizes)) if g in self.grams}
        rows = list(found.values())
        positions = []
        for r in rows:
            lo, hi = int(self.indptr[r]), int(self.indptr[r + 1])
            ids = self.ids[lo:hi]
            if not len(among) or hi == lo:
                positions.append(np.zeros(0, dtype=np.int64))
            elif hi - lo <= len(among):
                at = np.minimum(np.searchsorted(among, ids), len(among) - 1)
                positions.append(lo + np.flatnonzero(among[at] == ids))
            else:
                at = np.minimum(np.searchsorted(ids, among), hi - lo - 1)
                positions.append(lo + at[ids[at] == among])
        keep = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        lengths = np.array([len(p) for p in positions], dtype=np.int64)
        return CharNgramIndex({g: i for i, g in enumerate(found)},
                              self.idf[np.array(rows, dtype=np.int64)], np.concatenate([[0], np.cumsum(lengths)]),
                              self.ids[keep], self.weights[keep], self.size, self.sizes)

    def _query_weights(self, query: str) -> list[tuple[int, float]]:
        """(row, the question's normalised tf-idf weight) of each of its n-grams the corpus has; [] if none."""
        rows = [(self.grams[g], tf) for g, tf in Counter(char_ngrams(query, self.sizes)).items() if g in self.grams]
        weights = [(r, (1 + math.log(tf)) * float(self.idf[r])) for r, tf in rows]
        norm = math.sqrt(sum(w * w for _, w in weights))
        return [(r, w / norm) for r, w in weights] if norm else []


_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Z0-9]+)s\b")  # "TPUs", "GPUs", "CEOs": an acronym's English plural


@dataclass(frozen=True)
class Vocabulary:
    """The content words of the corpus with how common each is in everyday language: keyword evidence.

    `forms` maps each folded word of the corpus to its Zipf frequency (index.ranking.word_frequency), `stems`
    each stem to the highest Zipf of its forms, and `common` the everyday words of French and English
    to theirs, so that a question word met only through its stem ("open" → "OpenAI") is judged by
    its own commonness too.
    """

    forms: dict[str, float]
    stems: dict[str, float]
    common: dict[str, float]
    language: str = "fr"
    spellings: dict[str, str] | None = field(default=None, compare=False)  # form → as written (accents kept); fit, or stored since keyword reuse

    COMMON_ZIPF = 5.5  # a word at least this common ("temps", "jouer", "open") is no evidence at all
    KEPT_ZIPF = 4.5  # `common` keeps words down to this Zipf (below it a word counts nearly in full)

    @classmethod
    def rarity(cls, zipf: float) -> float:
        """How much a word this common counts as keyword evidence: how much rarer it is than an everyday word
        (COMMON_ZIPF - Zipf, at least 0). Every evidence sum counts its words this way."""
        return max(0.0, cls.COMMON_ZIPF - zipf)

    @classmethod
    def fit(cls, texts: list[str], language: str = "fr") -> "Vocabulary":
        from .keyword_refit import text_keys, word_table

        return cls.from_table(word_table(texts, language, text_keys(texts), None), language)

    @classmethod
    def from_table(cls, table: "WordTable", language: str = "fr", common: dict[str, float] | None = None
                   ) -> "Vocabulary":
        """The vocabulary of the texts whose distinct words `table` lists (index.ranking.keyword_refit), each word
        taken in order of first appearance; Zipf frequencies looked up as needed (and kept in `table`).
        `common`: the everyday-word table when an earlier fit computed it with the same wordfreq."""
        from .word_frequency import common_words, zipf

        forms: dict[str, float] = {}
        stems: dict[str, float] = {}
        spellings: dict[str, str] = {}
        from .keyword_refit import first_appearances

        for w in first_appearances(table.ids).tolist():  # each word once, where the texts first have it
            key = table.keys[w]
            if key not in forms:
                z = table.zipf[w]
                if z != z:  # NaN: not looked up yet
                    z = table.zipf[w] = zipf(table.words[w])
                forms[key] = z
                spellings[key] = table.words[w]
            stem = table.stems[w]
            stems[stem] = max(stems.get(stem, 0.0), forms[key])
        return cls(forms, stems, common if common is not None else common_words(cls.KEPT_ZIPF), language, spellings)

    def match(self, query: str) -> tuple[dict[str, float], list[str]]:
        """The question's words found in the corpus (stem → Zipf; as a word or through its stem), and the others."""
        found: dict[str, float] = {}
        missing: list[str] = []
        singular = {m.group(0).casefold(): m.group(1).casefold() for m in _ACRONYM_PLURAL.finditer(query)}
        for word in words(query):
            key, stem = fold(word), term(word, self.language)
            if key not in self.forms and stem not in self.stems and word in singular:  # "TPUs" of a corpus saying "TPU"
                word = singular[word]
                key, stem = fold(word), term(word, self.language)
            if key in self.forms:
                z = self.forms[key]
            elif stem in self.stems:
                z = max(self.stems[stem], self.common.get(key, 0.0))
            else:
                missing.append(word)
                continue
            found[stem] = min(found.get(stem, z), z)
        return found, missing

    def assess(self, query: str, translations: dict[str, str] | None = None) -> tuple[int, float]:
        """How many distinct content words of the question occur in the corpus, and how strongly its words
        tie it to the corpus: the sum over its words found there of how much rarer than everyday words each
        is (COMMON_ZIPF - Zipf, at least 0).

        "Qui est Emmett Shear ?" scores ~5.5 (two rare names); "Quel temps fera-t-il à Lyon ce week-end ?"
        ~0 although "temps", "week" and "end" all occur in the article. `translations` (question word →
        corpus form, index.ranking.alignment) counts more words as found, each as common as the more common of the two.
        """
        found, missing = self.match(query)
        matched = len(found)
        found.update({"~" + form: z for form, z in self.translated(missing, translations).items()})
        return matched, sum(self.rarity(z) for z in found.values())

    def translated(self, missing: list[str], translations: dict[str, str] | None) -> dict[str, float]:
        """The corpus forms that the question's missing words translate to (`translations`), each with its Zipf:
        that of the more common of the two words."""
        out: dict[str, float] = {}
        for word in missing:
            form = (translations or {}).get(word)
            if form in self.forms:
                z = max(self.forms[form], self.common.get(fold(word), self.KEPT_ZIPF))
                out[form] = min(out.get(form, z), z)
        return out

    @cached_property
    def form_list(self) -> list[str]:
        """The corpus words in their stored order (the rows of `KeywordIndex.form_vectors` and of alignments)."""
        return list(self.forms)

    def matched_terms(self, query: str) -> int:
        return self.assess(query)[0]

    def evidence(self, query: str, translations: dict[str, str] | None = None) -> float:
        return self.assess(query, translations)[1]


@dataclass
class KeywordIndex:
    """What a build stores for keyword search, fitted once from the passages (`keywords.npz`).

    `FORMAT` names the text normalisation and n-gram scheme; a file of another format is refitted
    rather than trusted, so a change to `text_norm` never meets a stale index.
    """

    FORMAT = "chargram-4-5+stems-fr+zipf/3"

    ngrams: CharNgramIndex
    vocabulary: Vocabulary
    form_vectors: np.ndarray | None = None  # [forms, dim]: each corpus word embedded alone (index.ranking.alignment)
    gloss_arrays: dict[str, np.ndarray] | None = field(default=None, compare=False)  # English forms → French words, packed
    alignment_arrays: dict[str, np.ndarray] | None = field(default=None, compare=False)  # English forms → corpus words (alignment.py)
    # what the next build needs to refit from this one (index.ranking.keyword_refit); written, never read to serve
    refit_arrays: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def fit(cls, texts: list[str], language: str = "fr", lexicon: str = "", previous: "Refit | None" = None
            ) -> "KeywordIndex":
        """`lexicon`: an English-French dictionary (index.ranking.lexicon) whose senses the corpus may hold
        are kept for English questions; "" or a dictionary that cannot be read: none (a warning says so).
        `previous`: what the previous build stored to refit from (`Refit.from_arrays`): only the texts it did
        not have are read, and the index is bit-for-bit the one a full fit gives."""
        from .keyword_refit import count_grams, text_keys, to_arrays, word_table

        sizes = (4, 5)
        keys = text_keys(texts)
        counts = count_grams(texts, sizes, keys, previous)
        ngrams, rows = CharNgramIndex.from_counts(counts, len(texts), sizes)
        table = word_table(texts, language, keys, previous)
        common = previous.common if previous is not None and previous.language == language else None
        vocabulary = Vocabulary.from_table(table, language, common)
        return cls(ngrams, vocabulary, gloss_arrays=_gloss_arrays(lexicon, ngrams),
                   refit_arrays=to_arrays(keys, rows, counts, table))

    @cached_property
    def glosses(self) -> "Glosses | dict[str, tuple[str, ...]]":
        """English word form → French sense words, unpacked on first use (only English questions need it)."""
        if self.gloss_arrays is None:
            return {}
        return Glosses(self.gloss_arrays)

    @cached_property
    def alignments(self):
        """English form → (corpus word row, cosine), index.ranking.alignment; None for a build made before them."""
        if self.alignment_arrays is None:
            return None
        from .alignment import Alignments

        return Alignments(self.alignment_arrays)

    def to_arrays(self, refit: bool = True) -> dict[str, np.ndarray]:
        """`refit=False`: without the arrays only the next build reads (PostgreSQL, where serving loads them all)."""
        n, v = self.ngrams, self.vocabulary
        arrays = {"format": np.array(self.FORMAT), "grams": np.array(list(n.grams), dtype=str), "idf": n.idf,
                  "indptr": n.indptr, "ids": n.ids, "weights": n.weights, "size": np.array(n.size),
                  "sizes": np.array(n.sizes, dtype=np.int64), "language": np.array(v.language)}
        for name in ("forms", "stems", "common"):
            table = getattr(v, name)
            arrays[name] = np.array(list(table), dtype=str)
            arrays[name + "_zipf"] = np.array(list(table.values()), dtype=np.float64)
        arrays.update(self.gloss_arrays or {})
        arrays.update(self.alignment_arrays or {})
        if v.spellings is not None:  # so that a rebuild reusing this index embeds the words as written
            arrays["spellings"] = _packed(v.spellings[form] for form in v.forms)
        if self.form_vectors is not None:
            arrays["form_vectors"] = self.form_vectors.astype(np.float16)  # half the size; cosines to ~1e-3
        if refit:
            arrays.update(self.refit_arrays or {})
        return arrays

    @classmethod
    def from_arrays(cls, a) -> "KeywordIndex | None":
        """The stored index, or None when it was written in another format (refit it from the passages)."""
        if str(a["format"]) != cls.FORMAT:
            return None
        grams = a["grams"].tolist()
        ngrams = CharNgramIndex(dict(zip(grams, range(len(grams)))), a["idf"], a["indptr"], a["ids"], a["weights"],
                                int(a["size"]), tuple(a["sizes"].tolist()))
        tables = [dict(zip(a[name].tolist(), a[name + "_zipf"].tolist())) for name in ("forms", "stems", "common")]
        vectors = a["form_vectors"].astype(np.float32) if "form_vectors" in a else None
        glosses = {k: a[k] for k in GLOSS_ARRAYS} if GLOSS_ARRAYS[0] in a else None  # builds before the lexicon: none
        aligned = {k: a[k] for k in ALIGNMENT_ARRAYS} if ALIGNMENT_ARRAYS[0] in a else None  # builds before session 8: none
        spelled = _unpacked(a["spellings"]) if "spellings" in a else None
        spellings = dict(zip(tables[0], spelled)) if spelled is not None and len(spelled) == len(tables[0]) else None
        return cls(ngrams, Vocabulary(*tables, str(a["language"]), spellings), vectors, glosses, aligned)


GLOSS_ARRAYS = ("gloss_forms", "gloss_words", "gloss_indptr", "gloss_ids")
ALIGNMENT_ARRAYS = ("align_forms", "align_targets", "align_cosines")  # as index.ranking.alignment.align packs them


def _gloss_arrays(lexicon: str, ngrams: CharNgramIndex) -> dict[str, np.ndarray] | None:
    """The dictionary's English forms whose French senses share a character n-gram with the corpus (a sense
    that shares none scores no passage), packed: forms and words as newline-joined UTF-8, and for each form
    the rows of its words (CSR), so a build stores ~18,000 forms in a few hundred kB and loads them at once."""
    if not lexicon:
        return None
    from .lexicon import corpus_glosses

    try:
        table = corpus_glosses(lexicon, lambda word: any(g in ngrams.grams for g in char_ngrams(word)))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        log.warning("no English-French glosses in this build: cannot read the dictionary %s (%s); install the "
                    "Debian package dict-freedict-eng-fra or set [ranking] lexicon", lexicon, e)
        return None
    words = sorted({w for senses in table.values() for w in senses})
    row = {w: i for i, w in enumerate(words)}
    counts = np.array([len(senses) for senses in table.values()], dtype=np.int64)
    return {"gloss_forms": _packed(table), "gloss_words": _packed(words),
            "gloss_indptr": np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
            "gloss_ids": np.array([row[w] for senses in table.values() for w in senses], dtype=np.int32)}


def _packed(strings) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unpacked(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return text.split("\n") if text else []


class Glosses:
    """English word form → its French sense words, read from the packed arrays of a build; unpacking only
    the index of forms (a few ms for ~18,000), each form's words when asked for."""

    def __init__(self, a: dict[str, np.ndarray]):
        self._rows = {form: n for n, form in enumerate(_unpacked(a["gloss_forms"]))}
        self._words = _unpacked(a["gloss_words"])
        self._indptr, self._ids = a["gloss_indptr"], a["gloss_ids"]

    def __len__(self) -> int:
        return len(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    def get(self, form: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        n = self._rows.get(form)
        if n is None:
            return default
        return tuple(self._words[i] for i in self._ids[self._indptr[n]:self._indptr[n + 1]].tolist())


@dataclass
class BM25:
    doc_terms: list[Counter]
    doc_len: np.ndarray
    idf: dict[str, float]
    language: str
    k1: float = 1.2
    b: float = 0.75

    @classmethod
    def fit(cls, texts: list[str], language: str = "fr") -> "BM25":
        doc_terms = [Counter(terms(t, language)) for t in texts]
        df = Counter(term for counts in doc_terms for term in counts)
        n = len(texts)
        idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        lengths = np.array([sum(c.values()) for c in doc_terms], dtype=np.float32)
        return cls(doc_terms, lengths, idf, language)

    def scores(self, query: str) -> np.ndarray:
        """One score per text, 0 where no query term occurs."""
        out = np.zeros(len(self.doc_terms), dtype=np.float32)
        avg = float(self.doc_len.mean()) if len(self.doc_len) else 1.0
        for term in set(terms(query, self.language)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, counts in enumerate(self.doc_terms):
                tf = counts.get(term)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * self.doc_len[i] / max(avg, 1e-9))
                    out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def max_possible(self, query: str) -> float:
        """Score of an ideal text holding every query term once: scales scores to [0, 1]."""
        return sum(self.idf.get(t, 0.0) for t in set(terms(query, self.language)))

