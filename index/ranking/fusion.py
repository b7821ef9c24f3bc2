"""Scores every candidate passage for a question: dense passage and sentence similarity fused with keywords.

Each signal is standardised over the candidate passages of the question (z-score: how many standard
deviations a passage stands above the others) before the weighted mean, so signals on different
scales (cosines bunched in 0.75-0.90, keyword cosines in 0-0.6) count as the weights say, with no
per-signal scale to tune. `fusion = "linear"` keeps the raw weighted sum for comparison.
Pure numpy over a loaded build, so it can be measured and tested without an embedder.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .documents import DocumentWeights, Documents
from .answer_types import asked_kind, holds_for_order, order_kind
from .intent import CommentWords, asks_about_comments, asks_about_someone
from .lexicon import gloss
from ..language import detect_language
from .keyword import BM25
from ..model import Scope

if TYPE_CHECKING:  # the store loads keyword indexes from this package: no import cycle at run time
    from ..store import StoredIndex

SCOPE_KINDS = {"all": ("article", "comment"), "article": ("article",), "comments": ("comment",)}
FUSIONS = ("zscore", "linear")
KEYWORD_INDEXES = ("chargram", "bm25")


@dataclass(frozen=True)
class Weights:
    """How the signals add up (the [ranking] section of defaults.toml); docs/retrieval.md names each one."""

    passage: float = 1.0
    sentence: float = 1.0
    keyword: float = 1.0
    fusion: str = "zscore"
    keyword_index: str = "chargram"
    candidates: int = 200  # passages the vector index shortlists before fusion (all of a smaller corpus)
    comment_intent: float = 0.0  # fused units comments move ahead (question asks about readers) or behind (it does not)
    question_sentence_penalty: float = 0.0  # cosine taken off a sentence that is itself a question
    lexicon: float = 0.0  # weight of the keyword cosine of an English question's French glosses (index.ranking.lexicon)
    answer_kind: float = 0.0  # fused units a passage holding the kind of fact asked for moves ahead, among the best few
    answer_kind_among: int = 0  # how many: the passages the answer-type abstention reads (answer_kind_passages)
    documents: DocumentWeights = DocumentWeights()  # document-level evidence over many articles (documents.py)

    @classmethod
    def from_settings(cls, settings) -> "Weights":
        return cls(settings.weight_passage, settings.weight_sentence, settings.weight_keyword, settings.fusion,
                   settings.keyword_index, settings.candidates, settings.comment_intent,
                   settings.question_sentence_penalty, settings.lexicon_weight,
                   answer_kind=settings.answer_kind_order, answer_kind_among=settings.answer_kind_passages,
                   documents=DocumentWeights.from_settings(settings))


@dataclass(frozen=True)
class Ranked:
    ids: np.ndarray  # passage ids, best first
    scores: np.ndarray  # fused score of each
    dense: np.ndarray  # the best dense similarity (passage or sentence) of each: the abstention signal
    best_sentence: np.ndarray  # row into the passage's sentence spans of its best sentence
    matched_terms: int = 0  # distinct content words of the question found in the corpus
    keyword_evidence: float = 0.0  # how much those words tie the question to the corpus (Vocabulary.evidence)
    about_comments: bool = False  # the question asks what readers said, and the corpus has comments
    second_look: bool = False  # its words were embedded to look for translations (index.ranking.alignment)
    documents: tuple[str, ...] = ()  # document ids best first (documents.choose_article)
    lead_dense: float | None = None  # the dense similarity abstention judges: that of the passage first before the
                                     # answer-type order (Ranker._kind_first) changed the order of the best few
    asked_kind: str | None = None  # the kind of fact the question asks for (answer_types.asked_kind), found once
    translations: dict[str, str] | None = None  # question word → the corpus word it translates (the second look)

    @property
    def judged_dense(self) -> float:
        return float(self.dense[0]) if self.lead_dense is None else self.lead_dense


class Ranker:
    RESTRICT_BELOW = 0.25  # share of the corpus below which per-document keyword idf reads only its documents' postings

    def __init__(self, stored: "StoredIndex", weights: Weights = Weights(), language: str = "fr"):
        if weights.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {weights.fusion!r}: use one of {', '.join(FUSIONS)}")
        if weights.keyword_index not in KEYWORD_INDEXES:
            raise ValueError(f"unknown keyword index {weights.keyword_index!r}: use one of {', '.join(KEYWORD_INDEXES)}")
        self.stored = stored
        self.weights = weights
        self.vocabulary = stored.keywords.vocabulary
        self.ngrams = stored.keywords.ngrams if weights.keyword_index == "chargram" else None
        self.documents = Documents(stored.passages, weights.documents, stored.sentence_vectors, stored.sentence_owner)
        self.bm25 = BM25.fit([p.text for p in stored.passages], language) if self.ngrams is None else None
        # per-document passage norms, at load rather than on the first question (~35 ms per 450k postings)
        self._local_norms = self.documents.local_norms(self.ngrams) \
            if self.ngrams is not None and weights.documents.within and len(self.documents.doc_ids) > 1 else None
        kinds = np.array([p.location.kind for p in stored.passages])
        self._is_comment = self.documents.is_comment
        self._has_comments = bool(self._is_comment.any())
        self._scope_mask = {scope: np.isin(kinds, list(k)) for scope, k in SCOPE_KINDS.items()}
        self._passages_of = _group_by_document(stored.passages)
        self._sentence_count = np.array([len(spans) for spans in stored.sentences], dtype=np.int64)
        self._first_sentence = _starts(self._sentence_count)
        self._asks = np.array([_is_question(p.text[a:b]) for p, spans in zip(stored.passages, stored.sentences)
                               for a, b in spans], dtype=bool)  # per sentence row: does it ask rather than tell?

    def has_document(self, doc_id: str) -> bool:
        return doc_id in self._passages_of

    def keyword_scores(self, question: str, among: np.ndarray | None = None) -> np.ndarray:
        """The keyword cosine of every passage, or of the `among` passages only (ascending ids, in that order)."""
        if self.ngrams is not None:
            return self.ngrams.scores(question, among)
        scores = self.bm25.scores(question)
        top = self.bm25.max_possible(question)
        scores = scores / top if top > 0 else scores
        return scores if among is None else scores[among]

    def _keyword_read(self, cand: np.ndarray) -> np.ndarray:
        """Ascending ids of the passages whose keyword score a ranking reads: the candidates, and every passage
        of their documents when a document signal sums keyword scores over documents (`documents.adjust`).
        Scoring only these makes a question cost what its shortlist holds, not what the corpus holds."""
        dw, docs = self.weights.documents, self.documents
        if dw.weight and (dw.keyword or dw.title_keyword) and len(docs.doc_ids) > 1:
            numbers = _unique(docs.doc_of[cand])
            return _unique(np.concatenate([cand] + [docs.by_doc[docs.doc_start[d]:docs.doc_start[d + 1]]
                                                      for d in numbers]))
        return _unique(cand)

    @cached_property
    def _comment_words(self) -> CommentWords:
        """Computed on the first question that needs it (a corpus without comments never does)."""
        stored = self.stored
        return CommentWords([p.text for p in stored.passages], self._is_comment.tolist(), self.vocabulary.stems,
                            documents=self.documents.doc_of.tolist())

    def glosses(self, question: str) -> list[str]:
        """The French senses of an English question's words that the corpus may hold (none for a French one)."""
        table = self.stored.keywords.glosses
        if not table or not self.weights.lexicon or detect_language(question) != "en":
            return []
        return gloss(question, table)

    def rank(self, query_vector: np.ndarray, question: str, scope: Scope = "all", k: int = 5,
             translations: dict[str, str] | None = None, doc_ids: frozenset[str] | None = None) -> Ranked:
        """Shortlists passages with the vector index, then fuses the three signals over the shortlist.

        On a corpus no larger than `candidates` the shortlist is every passage, so the ranking is exact;
        on a large one the cost of a question follows the shortlist, not the corpus, and the index type
        (flat, hnsw, ivf) decides how fast the shortlist comes.
        `doc_ids` restricts the candidates to those documents' passages, all of them, scored exactly
        (a global shortlist could hold none of one article's passages in a large archive).
        """
        stored, w = self.stored, self.weights
        n = len(stored.passages)
        centroid_sim = self.documents.centroid_similarity(query_vector)
        about_comments = self._has_comments and asks_about_comments(question)
        allowed = self.documents.with_comments(about_comments) if doc_ids is None and scope != "article" else None
        if doc_ids is None:
            sims, ids = stored.passage_index.search(query_vector.reshape(1, -1), min(n, max(w.candidates, k)))
            found = ids[0] >= 0
            cand, passage_sim = ids[0][found], sims[0][found]
            cand, passage_sim = self.documents.expand(cand, passage_sim, query_vector, stored.passage_index,
                                                      centroid_sim, allowed)
        else:  # every passage of the articles asked for, scored exactly: a shortlist may hold none of them
            cand = np.sort(np.concatenate([self._passages_of.get(d, np.zeros(0, np.int64)) for d in doc_ids]
                                          or [np.zeros(0, np.int64)]))
            passage_sim = stored.passage_index.vectors(cand) @ query_vector
        sentence_rows, starts = self._sentence_rows(cand)
        sentence_sims = stored.sentence_vectors[sentence_rows] @ query_vector
        if w.question_sentence_penalty:
            # A question matches a question ("Que reproche exactement le Conseil… ?") better than the sentence
            # that answers it; an article's rhetorical questions are not answers.
            sentence_sims = sentence_sims - w.question_sentence_penalty * self._asks[sentence_rows]
        sentence_sim = np.maximum.reduceat(sentence_sims, starts) if len(cand) else sentence_sims
        read = self._keyword_read(cand)
        keyword_read = self.keyword_scores(_with_translations(question, translations), read)
        glosses = self.glosses(question)
        if glosses:  # an English question: the French senses of its words (index.ranking.lexicon), ranking only
            keyword_read = keyword_read + w.lexicon * self.keyword_scores(" ".join(glosses), read)
        keyword_all = np.zeros(n, dtype=keyword_read.dtype)  # exact on `read`, 0 elsewhere (never read there)
        keyword_all[read] = keyword_read
        keyword = keyword_all[cand]
        mask = self._scope_mask[scope][cand]
        if allowed is not None:  # a question about what readers said: commented documents, if any is a candidate
            commented = mask & allowed[self.documents.doc_of[cand]]
            mask = commented if commented.any() else mask
        signals = ((w.passage, passage_sim), (w.sentence, sentence_sim), (w.keyword, keyword))
        if w.fusion == "zscore":
            total = sum(weight for weight, _ in signals) or 1.0
            fused = sum(weight * _standardised(values, mask) for weight, values in signals) / total
        else:
            fused = sum(weight * values for weight, values in signals)
        inner = self.documents.within(cand, signals, mask, self._local_keyword(question, translations, cand, glosses)) \
            if w.fusion == "zscore" else None
        if w.comment_intent and self._has_comments:
            # Comments start ahead when the question asks what readers said, behind when it is about the article
            # (it does not, and uses no word that only the comments use).
            if about_comments:
                shift = w.comment_intent * self._is_comment[cand]
            elif asks_about_someone(question):  # "Did anyone…?": neither ahead nor behind
                shift = np.zeros(len(cand))
            else:  # behind, except the comments of an article whose readers alone use one of the question's words
                used = self._comment_words.used_in(question)
                own = np.isin(self.documents.doc_of[cand], list(used)) if used else np.zeros(len(cand), dtype=bool)
                shift = np.where(own, 0.0, -w.comment_intent) * self._is_comment[cand]
            fused = fused + shift
            inner = None if inner is None else inner + shift
        fused = np.where(mask, self.documents.adjust(cand, fused, passage_sim, keyword_all, mask, centroid_sim), -np.inf)
        order, shown = self.documents.top(cand, fused, k, None if inner is None else np.where(mask, inner, -np.inf))
        dense = np.maximum(passage_sim, sentence_sim)
        lead_dense = float(dense[order[0]]) if len(order) else None
        kind = asked_kind(question)
        if w.answer_kind and w.answer_kind_among > 1:
            order, shown = self._kind_first(question, cand, order, shown, inner, order_kind(question, kind))
        best_sentence = np.array([int(np.argmax(sentence_sims[starts[i]:starts[i] + self._sentence_count[cand[i]]]))
                                  for i in order], dtype=np.int64)
        matched, evidence = self.vocabulary.assess(question, translations)
        return Ranked(cand[order], shown, dense[order], best_sentence, matched, evidence, about_comments,
                      documents=self.documents.ranking(cand, fused), lead_dense=lead_dense, asked_kind=kind,
                      translations=translations or None)

    def _kind_first(self, question: str, cand: np.ndarray, order: np.ndarray, shown: np.ndarray,
                    inner: np.ndarray | None = None, kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Among the best `answer_kind_among` passages, those holding the kind of fact the question asks for (a
        number for "Combien de personnes siègent au directoire ?", a date for "Quand…", a name not in the
        question for "Qui…") move `answer_kind` fused units ahead. Only the order of those few changes, never
        which they are: the answer-type abstention (index.answer.lacks_asked_kind) reads the same passages, and
        an absent fact is still not answered by a passage that holds some other number further down.

        Over many documents a place's score is its document's (`Documents.top`), so a document's passages among
        the best few trade places by their order within it (`inner`, in the article-alone units), and the places
        keep their scores. `kind` is the question's `answer_types.asked_order_kind`."""
        n = min(self.weights.answer_kind_among, len(order))
        if kind is None or n < 2:
            return order, shown
        head = order[:n]
        has = np.array([holds_for_order(self.stored.passages[int(cand[i])].text, kind, question) for i in head])
        if has.all() or not has.any():
            return order, shown
        lift = self.weights.answer_kind * has
        if inner is None:  # one ranking: each passage is shown with its own score
            lifted = shown[:n] + lift  # still above every later passage: the lift is >= 0
            first = np.argsort(-lifted, kind="stable")
            return np.concatenate([head[first], order[n:]]), np.concatenate([lifted[first], shown[n:]])
        docs = self.documents.doc_of[cand[head]]
        head = head.copy()
        for d in set(docs.tolist()):
            places = np.flatnonzero(docs == d)
            if len(places) > 1:
                head[places] = head[places][np.argsort(-(inner[head[places]] + lift[places]), kind="stable")]
        return np.concatenate([head, order[n:]]), shown

    def _local_keyword(self, question: str, translations: dict[str, str] | None, cand: np.ndarray,
                       glosses: list[str] = ()):
        """The keyword signal with idf counted inside each candidate's document (`Documents.local_keyword`),
        the French glosses of an English question added as on the corpus-wide side: the order inside an
        article is then the one it has when indexed alone."""
        if not self.documents.weights.within or self.ngrams is None or len(self.documents.doc_ids) < 2:
            return None
        question = _with_translations(question, translations)
        docs = self.documents
        numbers = _unique(docs.doc_of[cand])
        read = np.sort(np.concatenate([docs.by_doc[docs.doc_start[d]:docs.doc_start[d + 1]] for d in numbers]))
        whole = len(read) >= self.RESTRICT_BELOW * len(docs.doc_of)  # most of the corpus: read it as it is

        def local(text: str) -> np.ndarray:
            # reading only the candidates' documents, their postings alone give the same floats
            return docs.local_keyword(self.ngrams if whole else self.ngrams.restricted(text, read), text, cand,
                                      self._local_norms)

        scores = local(question)
        if glosses:
            scores = scores + self.weights.lexicon * local(" ".join(glosses))
        return scores

    def _sentence_rows(self, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the sentence vectors of these passages, passage after passage, and where each passage starts."""
        counts = self._sentence_count[passages]
        starts = _starts(counts)
        rows = np.arange(int(counts.sum())) + np.repeat(self._first_sentence[passages] - starts, counts)
        return rows, starts


def _group_by_document(passages) -> dict[str, np.ndarray]:
    """doc id -> ids of its passages (ascending), in one pass however many documents."""
    groups: dict[str, list[int]] = {}
    for p in passages:
        groups.setdefault(p.location.doc_id, []).append(p.id)
    return {doc: np.array(ids, dtype=np.int64) for doc, ids in groups.items()}


def _unique(ids: np.ndarray) -> np.ndarray:
    """np.unique of an integer array, without its check for masked arrays: that check imports numpy.ma, 13 ms
    of a cold `verbatim ask` (docs/benchmarks.md, session 12)."""
    ordered = np.sort(ids)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _with_translations(question: str, translations: dict[str, str] | None) -> str:
    """The question as the keyword index reads it: followed by the article words its words translate
    (folded forms; the n-grams are folded anyway)."""
    if not translations:
        return question
    return question + " " + " ".join(translations.values())


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" »”\"')\u00a0").endswith("?")


def _starts(counts: np.ndarray) -> np.ndarray:
    """Offset of each group in a concatenation of groups of these sizes."""
    return (np.cumsum(counts) - counts).astype(np.int64)


def _standardised(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(x - mean) / std over the candidates; all zeros when the signal does not tell them apart."""
    scoped = values[mask].astype(np.float64)
    if scoped.size == 0:
        return np.zeros_like(values, dtype=np.float64)
    std = scoped.std()
    if std < 1e-9:
        return np.zeros_like(values, dtype=np.float64)
    return (values - scoped.mean()) / std
