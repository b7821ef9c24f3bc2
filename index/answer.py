"""From ranked passages to an answer: which to quote, which sentence to highlight, or to abstain."""
from __future__ import annotations

import math
import re

from .evidence import CollectionSpread, absent_names, collection_evidence, mentioned_names, shares_a_word
from .model import Answer, Hit, Lang, Scope
from .ranking import Ranked
from .ranking.answer_types import holds
from .settings import Settings
from .store import StoredIndex


def alone_bar(settings: Settings, passages: int) -> float:
    """How similar the top passage must be to answer on meaning alone, in a collection of this many passages.

    `answer_min_score_alone` was set on one article of `answer_alone_passages` passages. The best of N cosines
    of passages unrelated to a question stands about sqrt(2 ln N) of their standard deviations above their
    mean, so in a larger collection an off-topic question finds a closer passage by chance ("Comment apprendre
    à jouer de la guitare ?" 0.866 from a speech therapists' entry of the 4,040-passage archive; off-topic
    questions' best cosine +0.02 on average from the article alone to the archive). The bar rises with it,
    by `answer_alone_spread` (a typical standard deviation of a question's cosines) per unit; never falls."""
    reference = max(int(settings.answer_alone_passages), 1)
    extreme = lambda n: math.sqrt(2 * math.log(n)) if n > 1 else 0.0  # noqa: E731
    lift = settings.answer_alone_spread * max(0.0, extreme(passages) - extreme(reference))
    return settings.answer_min_score_alone + lift


def _bar(settings: Settings, alone: float | None) -> float:
    """The meaning-alone bar given (`alone_bar`), or the one-article `answer_min_score_alone`."""
    return settings.answer_min_score_alone if alone is None else alone


def should_abstain(ranked: Ranked, settings: Settings, evidence: float | None = None, absent: float = 0.0,
                   alone: float | None = None) -> bool:
    """Says "not in the article" unless the question is tied to it by its words or, failing that, by meaning:

    - dense backstop: the top-ranked passage (or its best sentence) is less similar than `abstain_min_score`;
    - keyword: the question shares no word with the article, or only everyday ones ("temps", "dernière"):
      its keyword evidence is below `abstain_min_keyword_evidence` (names and cognates count in both
      languages; English words may count through their translation, index.ranking.alignment) — unless the top
      passage is at least `answer_min_score_alone` similar, as French questions in everyday words about
      the article are ("Que s'est-il passé ce week-end ?") and off-topic ones are not (docs/retrieval.md),
      or it asks what the readers said ("Quel lecteur se moque de toute cette histoire ?"): a question
      about the comments is about this page, whatever its words;
    - over many documents (index.evidence): `evidence` is the keyword evidence with each word weighted by how
      few documents hold it (ranked.keyword_evidence when None), and a question whose names the collection
      never mentions (`absent`, their rarity) at least as much as its evidence ties it to the collection is
      abstained, however close in meaning ("Comment installer Python sur Windows ?" beside a Windows entry).

    `alone` is the meaning-alone bar for the collection (`alone_bar`), `answer_min_score_alone` when None.
    """
    if not len(ranked.ids):
        return True
    dense = ranked.judged_dense  # the order of the best few (answer types) does not decide whether to answer
    if dense < settings.abstain_min_score:
        return True
    if ranked.about_comments:
        return False
    evidence = ranked.keyword_evidence if evidence is None else evidence
    if absent > 0 and absent >= evidence:
        return True
    if dense >= _bar(settings, alone):
        return False
    return evidence < settings.abstain_min_keyword_evidence


def judged_evidence(question: str, ranked: Ranked, stored: StoredIndex, settings: Settings) -> tuple[float, float]:
    """The keyword evidence weighted by document spread, and the weight of the names the collection lacks."""
    vocabulary = stored.keywords.vocabulary
    spread = CollectionSpread.of(stored, settings.abstain_spread)
    evidence = collection_evidence(question, vocabulary, spread, ranked.translations) \
        if spread.documents > 1 and settings.abstain_spread else ranked.keyword_evidence
    absent = settings.abstain_absent_names * absent_names(question, vocabulary) if settings.abstain_absent_names else 0.0
    return evidence, absent


def beside_its_document(question: str, language: Lang, ranked: Ranked, stored: StoredIndex, settings: Settings,
                        doc_id: str, alone: float | None = None) -> bool:
    """Over many documents: the question is in the collection's language, yet the top passage's document holds
    none of its words that count as evidence. They were found elsewhere in the collection ("Combien de calories
    contient une banane ?" answered from an entry on sanctions, "calories" and "banane" being in other entries):
    such a question is not answered from that document unless it is close in meaning
    (`answer_min_score_alone`) or asks what readers said (their words are not the article's). Never with one
    document, nor for a question in another language, whose words the document cannot be expected to hold."""
    if not settings.abstain_document_words or language != stored.keywords.vocabulary.language or ranked.about_comments:
        return False
    if not len(ranked.dense) or ranked.judged_dense >= _bar(settings, alone):
        return False
    spread = CollectionSpread.of(stored, settings.abstain_spread)
    return not shares_a_word(question, stored.keywords.vocabulary, spread, doc_id)


def lacks_asked_kind(question: str, kind: str | None, hits: tuple[Hit, ...], settings: Settings) -> str | None:
    """The kind of fact the question asks for (an age, an amount, a date, a number, a place: `kind`, as the
    ranking found it) when none of its best `answer_kind_passages` passages holds one: they do not answer it
    ("How old is Satya Nadella?"), whatever their words and meaning share with it (index.ranking.answer_types).
    None otherwise."""
    kind = kind if settings.answer_kind_passages > 0 else None
    if kind is None or any(holds(h.passage.text, kind, question) for h in hits[: settings.answer_kind_passages]):
        return None
    return kind


def asks_back(hit: Hit) -> bool:
    """A title that is itself a question ("Un cookie : qu'est-ce que c'est ?", the way help entries are
    titled) restates the question it matches so well; it answers nothing."""
    return hit.passage.location.role == "title" and hit.passage.text.rstrip().endswith("?")


# "En savoir plus : …", "Lire aussi : …", "Read more: …": a line that sends the reader elsewhere.
_ELSEWHERE = re.compile(r"(?:en savoir plus|(?:à |a )?lire aussi|voir aussi|pour aller plus loin|read more|see also)"
                        r"\s*(?:[:\-–—]|sur\b|about\b|on\b)", re.IGNORECASE)  # "Pour aller plus loin, vous…" answers
_ELSEWHERE_CHARS = 200


def points_elsewhere(hit: Hit) -> bool:
    """A short cross-reference line: it names where the answer is, it does not give it."""
    text = hit.passage.text.strip()
    return len(text) <= _ELSEWHERE_CHARS and _ELSEWHERE.match(text) is not None


def answers_nothing(hit: Hit) -> bool:
    """Not quoted as an answer, though it still ranks (and so still chooses its document); /source shows it."""
    return asks_back(hit) or points_elsewhere(hit)


def choose_quotes(hits: tuple[Hit, ...], settings: Settings) -> tuple[Hit, ...]:
    """The passages an answer quotes: the best of the top hit's article that answers something (a title passed
    over still chose the article; else the title itself, not another article's passage), then every other hit
    that answers something within `quote_margin` of it."""
    chosen = hits[0].passage.location.doc_id
    lead = next((h for h in hits if not answers_nothing(h) and h.passage.location.doc_id == chosen), hits[0])
    quoted = (lead, *(h for h in hits if h is not lead and not answers_nothing(h)
                      and h.score >= lead.score - settings.quote_margin))
    return quoted[: settings.max_quoted]


def compose_answer(question: str, language: Lang, ranked: Ranked, stored: StoredIndex, settings: Settings,
                   scope: Scope = "all") -> Answer:
    hits = tuple(
        Hit(rank=rank, score=round(float(score), 4), passage=stored.passages[pid],
            highlight=stored.sentences[pid][sentence])
        for rank, (pid, score, sentence) in enumerate(zip(ranked.ids, ranked.scores, ranked.best_sentence), start=1)
    )
    missing_kind = lacks_asked_kind(question, ranked.asked_kind, hits, settings) if hits else None
    evidence, absent = judged_evidence(question, ranked, stored, settings) if hits else (0.0, 0.0)
    alone = alone_bar(settings, len(stored.passages))
    answered = not should_abstain(ranked, settings, evidence, absent, alone) and missing_kind is None and \
        not beside_its_document(question, language, ranked, stored, settings, hits[0].passage.location.doc_id, alone)
    quoted: tuple[Hit, ...] = ()
    if answered:
        quoted = choose_quotes(hits, settings)
    return Answer(question=question, language=language, answered=answered, hits=hits, quoted=quoted,
                  build_id=stored.build_id, scope=scope,
                  extra={"dense": [round(float(d), 4) for d in ranked.dense],
                         "matched_terms": ranked.matched_terms,
                         "keyword_evidence": round(ranked.keyword_evidence, 2),
                         "collection_evidence": round(evidence, 2),
                         "absent_names": round(absent, 2),
                         "second_look": ranked.second_look,
                         "missing_kind": missing_kind,
                         # what the article does speak of, for "the article mentions X but does not say…"
                         "mentions": list(mentioned_names(question, stored.keywords.vocabulary))
                         if missing_kind and not answered else []})
