"""From ranked passages to an answer: which to quote, which sentence to highlight, or to abstain."""
from __future__ import annotations

from .model import Answer, Hit, Lang, Scope
from .ranking import Ranked
from .settings import Settings
from .store import StoredIndex


def should_abstain(ranked: Ranked, settings: Settings) -> bool:
    """Two independent pieces of evidence, either of which says the article does not cover the question:

    - keyword: the question shares no word with the article, or only everyday ones ("temps", "dernière"):
      its keyword evidence is below `abstain_min_keyword_evidence`. Names and cognates count in both
      languages, so an English question about the article's people or things passes;
    - dense: the top-ranked passage (or its best sentence) is less similar than `abstain_min_score`.
    """
    if not len(ranked.ids):
        return True
    return (ranked.keyword_evidence < settings.abstain_min_keyword_evidence
            or float(ranked.dense[0]) < settings.abstain_min_score)


def compose_answer(question: str, language: Lang, ranked: Ranked, stored: StoredIndex, settings: Settings,
                   scope: Scope = "all") -> Answer:
    hits = tuple(
        Hit(rank=rank, score=round(float(score), 4), passage=stored.passages[pid],
            highlight=stored.sentences[pid][sentence])
        for rank, (pid, score, sentence) in enumerate(zip(ranked.ids, ranked.scores, ranked.best_sentence), start=1)
    )
    answered = not should_abstain(ranked, settings)
    quoted: tuple[Hit, ...] = ()
    if answered:
        best = hits[0].score
        quoted = tuple(h for h in hits if h.score >= best - settings.quote_margin)[: settings.max_quoted]
    return Answer(question=question, language=language, answered=answered, hits=hits, quoted=quoted,
                  build_id=stored.build_id, scope=scope,
                  extra={"dense": [round(float(d), 4) for d in ranked.dense],
                         "matched_terms": ranked.matched_terms,
                         "keyword_evidence": round(ranked.keyword_evidence, 2)})
