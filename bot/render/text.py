"""Answers as terminal text and as the JSON lines of `verbatim ask --json`."""
from __future__ import annotations

from index.model import Answer, Hit

from .citation import cite
from .quote import excerpt

WORDS = {
    "fr": {"intro": "D’après l’article :", "none": "Ce n’est pas dans l’article.",
           "closest": "Passage le plus proche, qui ne répond pas vraiment :", "score": "score"},
    "en": {"intro": "From the article (quoted in French):", "none": "That is not in the article.",
           "closest": "Closest passage, which does not really answer it:", "score": "score"},
}


def answer_text(answer: Answer, bold: tuple[str, str] = ("", ""), max_chars: int = 600) -> str:
    """The answer for a person: quotes with citations, or an honest 'not in the article'."""
    words = WORDS[answer.language]
    if answer.answered:
        lines = [words["intro"]]
        for hit in answer.quoted:
            lines.append(_quote_line(hit, answer, bold, max_chars))
        return "\n".join(lines)
    lines = [words["none"]]
    if answer.hits:
        lines += [words["closest"], _quote_line(answer.hits[0], answer, bold, max_chars)]
    return "\n".join(lines)


def _quote_line(hit: Hit, answer: Answer, bold: tuple[str, str], max_chars: int) -> str:
    quote = excerpt(hit, max_chars).marked(*bold)
    return f"« {quote} » — {cite(hit.passage.location, answer.language)}"


def answer_json(answer: Answer) -> dict:
    """The stable JSON contract of `verbatim ask --json` (one object per question)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer_text(answer),
        "language": answer.language,
        "passages": [
            {"rank": h.rank, "score": h.score, "text": h.passage.text,
             "citation": cite(h.passage.location, answer.language),
             "highlight": list(h.highlight), "location": h.passage.location.to_dict()}
            for h in answer.hits
        ],
        "build_id": answer.build_id,
        "took_ms": round(answer.took_ms, 2),
    }


def error_json(question: str, message: str) -> dict:
    return {"question": question, "answered": False, "answer": "", "passages": [], "error": message, "took_ms": 0.0}
