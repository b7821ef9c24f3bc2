"""Document-level evidence: which article a question is about, not only which passage matches best.

Over many articles the single best passage is a noisy vote: a short paragraph of the wrong help-centre
entry can edge out the right one, whose title and several paragraphs all match. So each document with a
shortlisted passage gets a score of its own, from signals that describe the document as a whole:

- `best`: its best fused passage score (what the passage ranking alone would say);
- `title`: the dense similarity of the question with its title (the title is a passage of its own);
- `title_keyword`: the keyword similarity of the question with its title;
- `support`: its second best fused passage score (a document that matches in two places is surer);
- `keyword`: the keyword similarity summed over all its passages, divided by the square root of their
  number (words of the question spread over several paragraphs count together; long documents do not
  win by length alone).
- `centroid`: the dense similarity of the question with the document as a whole (the mean of its sentence
  vectors): a question about a long article worded away from every one of its paragraphs is still nearest
  to the article. The `expand` documents nearest as a whole also bring all their passages into the
  shortlist, which otherwise holds only the corpus-wide nearest passages.

Each signal is standardised over the candidate documents and averaged with its weight, as the passage
signals are (`fusion.py`); the document score, standardised again, is then added to every passage of the
document times `weight`, so passages of the chosen article rise together and the order inside one
article is untouched. With one article (or one candidate document) every document signal is constant and
the ranking is exactly the passage ranking.

`diversity` keeps the top-k from being five passages of one article when another also matches well: a
passage counts `diversity` lower for each passage of its document already taken (greedy, like MMR).

docs/retrieval.md, "Across documents", has the figures behind the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from collections import Counter
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .keyword import char_ngrams

if TYPE_CHECKING:
    from ..model import Passage
    from .keyword import CharNgramIndex

SIGNALS = ("best", "title", "title_keyword", "support", "keyword", "centroid")


@dataclass(frozen=True)
class DocumentWeights:
    """How much the document counts against the passage, and what makes up its score ([ranking] settings)."""

    weight: float = 0.0  # fused units (standard deviations) a document one SD better than the others adds
    best: float = 1.0
    title: float = 0.0
    title_keyword: float = 0.0
    support: float = 0.0
    keyword: float = 0.0
    diversity: float = 0.0  # fused units a passage loses per passage of its document already in the top-k
    within: float = 0.0  # 1: order a document's passages by signals standardised over that document alone
    centroid: float = 0.0  # dense similarity of the question with the document as a whole (its mean sentence vector)
    expand: int = 0  # the passages of this many documents nearest as a whole join the shortlist

    @classmethod
    def from_settings(cls, settings) -> "DocumentWeights":
        return cls(weight=settings.document_weight, title=settings.document_title,
                   title_keyword=settings.document_title_keyword, support=settings.document_support,
                   keyword=settings.document_keyword, diversity=settings.document_diversity,
                   within=settings.document_within, centroid=settings.document_centroid,
                   expand=settings.document_expand)

    def signal_weights(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in SIGNALS}


class Documents:
    """Per-passage document facts of a loaded build, and the document score of one question."""

    def __init__(self, passages: Sequence["Passage"], weights: DocumentWeights = DocumentWeights(),
                 sentence_vectors: np.ndarray | None = None, sentence_owner: np.ndarray | None = None):
        self.weights = weights
        ids = [p.location.doc_id for p in passages]
        self.doc_ids: tuple[str, ...] = tuple(dict.fromkeys(ids))  # in corpus order
        position = {d: i for i, d in enumerate(self.doc_ids)}
        self.doc_of = np.array([position[d] for d in ids], dtype=np.int64)  # passage id → document number
        self.count = np.bincount(self.doc_of, minlength=len(self.doc_ids)).astype(np.float64)
        title = np.full(len(self.doc_ids), -1, dtype=np.int64)  # document number → its title passage, -1 if none
        for p in passages:
            if p.location.role == "title" and title[position[p.location.doc_id]] < 0:
                title[position[p.location.doc_id]] = p.id
        self.title_passage = title
        self.by_doc = np.argsort(self.doc_of, kind="stable")  # passage ids grouped by document
        self.doc_start = np.r_[0, np.cumsum(self.count)].astype(np.int64)
        self.is_comment = np.array([p.location.kind == "comment" for p in passages], dtype=bool)  # per passage
        self.commented = np.bincount(self.doc_of, weights=self.is_comment, minlength=len(self.doc_ids)) > 0
        self.centroids = None  # [documents, dim]: each document's mean sentence vector, normalised
        if sentence_vectors is not None and len(self.doc_ids) > 1 and len(sentence_vectors):
            sums = np.zeros((len(self.doc_ids), sentence_vectors.shape[1]), dtype=np.float64)
            np.add.at(sums, self.doc_of[sentence_owner], sentence_vectors)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self.centroids = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def centroid_similarity(self, query_vector: np.ndarray) -> np.ndarray | None:
        return None if self.centroids is None else self.centroids @ query_vector

    def with_comments(self, about_comments: bool) -> np.ndarray | None:
        """Which documents may answer: those with reader comments when the question asks what readers said,
        and only when the collection mixes documents with and without them; None (all may) otherwise.

        Within one article the comment cue is a cue (intent.py); across documents it is a filter: a help entry
        or an article nobody commented on cannot say what readers said, however close its words are ("De quoi
        les internautes ont-ils parlé sous le message du ministre ?" is nearest to an entry on cyber-harassment).
        """
        if not about_comments or len(self.doc_ids) < 2 or self.commented.all() or not self.commented.any():
            return None
        return self.commented

    def expand(self, cand: np.ndarray, passage_sim: np.ndarray, query_vector: np.ndarray, ann,
               centroid_sim: np.ndarray | None, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The shortlist plus every passage of the `expand` documents nearest the question as a whole.

        A question about a long article worded away from it ("the former boss", no name) may have none
        of the article's passages among the corpus-wide nearest ones, while the article as a whole is the
        nearest document. Their dense similarity is computed from the vectors the index holds; an index
        that cannot give them back leaves the shortlist as it is.
        """
        if not self.weights.expand or centroid_sim is None:
            return cand, passage_sim
        nearest = centroid_sim if allowed is None else np.where(allowed, centroid_sim, -np.inf)
        top = np.argsort(-nearest, kind="stable")[: int(self.weights.expand)]
        if allowed is not None:
            top = top[allowed[top]]
            if not len(top):
                return cand, passage_sim
        extra = np.concatenate([self.by_doc[self.doc_start[d]:self.doc_start[d + 1]] for d in top])
        extra = extra[~np.isin(extra, cand)]
        if not len(extra):
            return cand, passage_sim
        try:
            vectors = ann.vectors(extra.astype(np.int64))
        except RuntimeError:  # an index that cannot give its vectors back (IVF without a direct map)
            return cand, passage_sim
        return np.concatenate([cand, extra]), np.concatenate([passage_sim, vectors @ query_vector])

    @property
    def active(self) -> bool:
        return len(self.doc_ids) > 1 and (self.weights.weight != 0 or self.weights.diversity != 0)

    def signals(self, cand: np.ndarray, fused: np.ndarray, passage_sim: np.ndarray, keyword_all: np.ndarray,
                mask: np.ndarray, wanted: Sequence[str] = SIGNALS, centroid_sim: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The candidate documents (document numbers), each candidate passage's row among them, and the
        raw value of each wanted document signal per candidate document."""
        live = mask & np.isfinite(fused)
        docs, row = np.unique(self.doc_of[cand], return_inverse=True)
        m = len(docs)
        floor = float(fused[live].min()) if live.any() else 0.0
        scored = np.where(live, fused, floor)
        values: dict[str, np.ndarray] = {}
        best = np.full(m, -np.inf)
        np.maximum.at(best, row, scored)
        if "support" in wanted:  # second best: the best of what remains once each document's best is set aside
            order = np.lexsort((-scored, row))  # by document, best first within it
            first = np.r_[True, row[order][1:] != row[order][:-1]]
            rest = order[~first]
            support = np.full(m, -np.inf)
            np.maximum.at(support, row[rest], scored[rest])
            values["support"] = np.where(np.isfinite(support), support, floor)
        values["best"] = np.where(np.isfinite(best), best, floor)
        if "title" in wanted:  # a title outside the shortlist is at most as similar as the shortlist's last passage
            title_pid = self.title_passage[docs]
            sim = np.full(len(self.doc_of), float(passage_sim.min()) if len(passage_sim) else 0.0)
            sim[cand] = passage_sim
            values["title"] = np.where(title_pid >= 0, sim[np.maximum(title_pid, 0)], sim.min())
        if "title_keyword" in wanted:
            title_pid = self.title_passage[docs]
            values["title_keyword"] = np.where(title_pid >= 0, keyword_all[np.maximum(title_pid, 0)], 0.0)
        if "keyword" in wanted:
            summed = np.bincount(self.doc_of, weights=keyword_all, minlength=len(self.doc_ids))[docs]
            values["keyword"] = summed / np.sqrt(self.count[docs])
        if "centroid" in wanted and centroid_sim is not None:
            values["centroid"] = centroid_sim[docs]
        return docs, row, values

    def score(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted mean of the standardised document signals, standardised again."""
        weights = {k: w for k, w in self.weights.signal_weights().items() if w and k in values}
        total = sum(weights.values()) or 1.0
        combined = sum(w * _z(values[k]) for k, w in weights.items()) / total if weights else \
            np.zeros(len(next(iter(values.values()))))
        return _z(combined)

    def adjust(self, cand: np.ndarray, fused: np.ndarray, passage_sim: np.ndarray, keyword_all: np.ndarray,
               mask: np.ndarray, centroid_sim: np.ndarray | None = None) -> np.ndarray:
        """Each candidate's fused score plus its document's score times `weight`."""
        if not self.weights.weight or len(self.doc_ids) < 2:
            return fused
        wanted = [k for k, w in self.weights.signal_weights().items() if w]
        docs, row, values = self.signals(cand, fused, passage_sim, keyword_all, mask, wanted, centroid_sim)
        return fused + self.weights.weight * self.score(values)[row]

    def within(self, cand: np.ndarray, signals, mask: np.ndarray, keyword: np.ndarray | None = None
               ) -> np.ndarray | None:
        """The passage signals fused as in fusion.py, but each standardised over the candidates of its own
        document, the keyword signal (the last one) replaced by `keyword` when given (`local_keyword`): the
        order inside an article then does not depend on what else the corpus holds. None when off or with
        one document."""
        if not self.weights.within or len(self.doc_ids) < 2:
            return None
        if keyword is not None:
            signals = tuple(signals[:-1]) + ((signals[-1][0], keyword),)
        docs, row = np.unique(self.doc_of[cand], return_inverse=True)
        total = sum(weight for weight, _ in signals) or 1.0
        return sum(weight * _grouped_z(np.asarray(values, dtype=np.float64), row, len(docs), mask)
                   for weight, values in signals) / total

    def local_norms(self, ngrams: "CharNgramIndex") -> np.ndarray:
        """Per passage: its n-gram vector's norm with idf counted inside its own document, in units of its
        corpus-wide norm (the stored weights are divided by that one).

        A passage's words weigh differently inside its article than across the corpus, so its length
        normalisation does too: without this, a paragraph rich in words the corpus finds rare but the article
        repeats is scaled down as over the corpus, and the order inside the article is not the one it has
        when indexed alone. The ranker computes it once when the build is loaded, from the stored postings,
        in chunks of grams (the whole archive's 450k postings: tens of milliseconds).
        """
        n, groups = len(self.doc_of), len(self.doc_ids)
        squares = np.zeros(n, dtype=np.float64)
        lengths = np.diff(ngrams.indptr)
        chunk = 1 << 22  # postings per step: bounded memory however large the corpus
        row = 0
        while row < len(lengths):
            end = int(np.searchsorted(ngrams.indptr, ngrams.indptr[row] + chunk, side="right")) - 1
            end = max(end, row + 1)
            lo, hi = int(ngrams.indptr[row]), int(ngrams.indptr[end])
            ids = ngrams.ids[lo:hi].astype(np.int64)
            grams = np.repeat(np.arange(row, end, dtype=np.int64), lengths[row:end])
            doc = self.doc_of[ids]
            key = grams * groups + doc
            if len(key) < 2 or (np.diff(key) >= 0).all():  # postings by gram, then passage: runs, no sort
                starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
                counts = np.diff(np.r_[starts, len(key)])
                df = np.repeat(counts, counts)
            else:
                _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
                df = counts[inverse]
            local_idf = np.log((self.count[doc] + 1) / (df + 0.5))
            unit = ngrams.weights[lo:hi].astype(np.float64) / ngrams.idf[grams]
            squares += np.bincount(ids, weights=(unit * local_idf) ** 2, minlength=n)
            row = end
        norms = np.sqrt(squares)
        return np.where(norms > 0, norms, 1.0)

    def local_keyword(self, ngrams: "CharNgramIndex", question: str, cand: np.ndarray,
                      norms: np.ndarray | None = None) -> np.ndarray:
        """The n-gram tf-idf cosine of each candidate with idf counted inside its own document.

        Over a corpus, "Altman" is rare and outweighs every other word of a question about an article in
        which every paragraph names him; inside that article it is common, and the words that tell its
        paragraphs apart count, as they do when the article is indexed alone. With `norms`
        (`local_norms`) each passage is normalised as it is when its article is indexed alone, and the
        question by its n-grams the document holds: the score is then the one the article alone gives, so
        two of them (a question and its glosses) add up as they do there.
        """
        out = np.zeros(len(cand), dtype=np.float64)
        if ngrams is None or not len(cand):
            return out
        rows = [(ngrams.grams[g], tf) for g, tf in Counter(char_ngrams(question, ngrams.sizes)).items()
                if g in ngrams.grams]
        rows = [(r, tf) for r, tf in rows if ngrams.idf[r] > 0 and ngrams.indptr[r + 1] > ngrams.indptr[r]]
        if not rows:
            return out
        lengths = np.array([ngrams.indptr[r + 1] - ngrams.indptr[r] for r, _ in rows])
        ids = np.concatenate([ngrams.ids[ngrams.indptr[r]:ngrams.indptr[r + 1]] for r, _ in rows]).astype(np.int64)
        # the stored weight is (1 + log tf) * idf / norm: take the corpus idf out, put the document's in
        weights = np.concatenate([ngrams.weights[ngrams.indptr[r]:ngrams.indptr[r + 1]] / ngrams.idf[r]
                                  for r, _ in rows]).astype(np.float64)
        query_tf = np.repeat([1 + math.log(tf) for _, tf in rows], lengths)
        gram = np.repeat(np.arange(len(rows)), lengths)
        doc = self.doc_of[ids]
        _, first, inverse, df = np.unique(gram * len(self.doc_ids) + doc, return_index=True,
                                              return_inverse=True, return_counts=True)
        local_idf = np.log((self.count[doc] + 1) / (df[inverse] + 0.5))
        scaled = query_tf * local_idf * weights * local_idf
        position = np.full(len(self.doc_of), -1, dtype=np.int64)
        position[cand] = np.arange(len(cand))
        at = position[ids]
        keep = at >= 0
        if norms is not None:
            scaled = scaled / norms[ids]
        np.add.at(out, at[keep], scaled[keep])
        if norms is not None:  # the question's norm over the n-grams each document holds
            query = np.zeros(len(self.doc_ids))
            np.add.at(query, doc[first], (query_tf[first] * local_idf[first]) ** 2)
            query = np.sqrt(query)[self.doc_of[cand]]
            out = np.where(query > 0, out / np.where(query > 0, query, 1.0), 0.0)
        return out

    def ranking(self, cand: np.ndarray, fused: np.ndarray) -> tuple[str, ...]:
        """Document ids best first, each placed by its best passage (-inf scores, out of scope, left out)."""
        live = np.isfinite(fused)
        if not live.any():
            return ()
        docs, row = np.unique(self.doc_of[cand[live]], return_inverse=True)
        best = np.full(len(docs), -np.inf)
        np.maximum.at(best, row, fused[live])
        return tuple(self.doc_ids[d] for d in docs[np.argsort(-best, kind="stable")])

    def top(self, cand: np.ndarray, fused: np.ndarray, k: int, inner: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """Positions into `cand` of the k passages to show, and the score each is shown with.

        Which document fills each place is decided on `fused` (the document's n-th best passage for its n-th
        place, `diversity` lower for each place it already has: a second article that matches nearly as
        well gets one); which of its passages goes there, on `inner` when given (its order within the
        document), else on `fused`.
        """
        n = min(k, int(np.isfinite(fused).sum()))
        if (not self.weights.diversity and inner is None) or len(self.doc_ids) < 2:
            order = np.argsort(-fused, kind="stable")[:n]
            return order, fused[order]
        return self._interleave(cand, fused, fused if inner is None else inner, n)

    def _interleave(self, cand: np.ndarray, fused: np.ndarray, inner: np.ndarray, n: int
                    ) -> tuple[np.ndarray, np.ndarray]:
        live = np.flatnonzero(np.isfinite(fused))
        # only the n documents with the best passages can take a place: any other is beaten, place after
        # place, by the first passage of each of those n
        docs, row = np.unique(self.doc_of[cand[live]], return_inverse=True)
        best = np.full(len(docs), -np.inf)
        np.maximum.at(best, row, fused[live])
        live = live[np.isin(row, np.argsort(-best, kind="stable")[:n])]
        doc = self.doc_of[cand[live]]
        by_fused: dict[int, list[float]] = {}
        by_inner: dict[int, list[int]] = {}
        for i in live[np.argsort(-fused[live], kind="stable")]:
            by_fused.setdefault(int(self.doc_of[cand[i]]), []).append(float(fused[i]))
        for i in live[np.lexsort((-inner[live], doc))]:
            by_inner.setdefault(int(self.doc_of[cand[i]]), []).append(int(i))
        taken: dict[int, int] = {}
        chosen, shown = [], []
        for _ in range(n):
            best_doc, best_value = -1, -np.inf
            for d, values in by_fused.items():
                t = taken.get(d, 0)
                if t < len(values) and values[t] - self.weights.diversity * t > best_value:
                    best_doc, best_value = d, values[t] - self.weights.diversity * t
            chosen.append(by_inner[best_doc][taken.get(best_doc, 0)])
            shown.append(best_value)
            taken[best_doc] = taken.get(best_doc, 0) + 1
        return np.array(chosen, dtype=np.int64), np.array(shown)

def choose_article(ranked) -> str | None:
    """The article a ranking chose: its best document, or None when nothing was ranked.

    For `Answer.article_id` when the answer has no quote to take it from (and the same otherwise).
    """
    documents = getattr(ranked, "documents", ())
    return documents[0] if documents else None


def _grouped_z(values: np.ndarray, group: np.ndarray, groups: int, mask: np.ndarray) -> np.ndarray:
    """(x - mean) / std within each group, over the masked members; 0 where a group does not vary."""
    w = mask.astype(np.float64)
    count = np.bincount(group, weights=w, minlength=groups)
    safe = np.maximum(count, 1.0)
    mean = np.bincount(group, weights=values * w, minlength=groups) / safe
    var = np.bincount(group, weights=(values - mean[group]) ** 2 * w, minlength=groups) / safe
    std = np.sqrt(var)
    return np.where(std[group] > 1e-9, (values - mean[group]) / np.where(std[group] > 1e-9, std[group], 1.0), 0.0)


def _z(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    std = values.std() if values.size else 0.0
    if values.size == 0 or std < 1e-9:
        return np.zeros_like(values)
    return (values - values.mean()) / std
