"""Answers as terminal text and as the JSON lines of `verbatim ask --json`."""
from __future__ import annotations

from index.model import Answer, Hit

from .absent_fact import absent_fact, absent_fact_sentence
from .citation import article_json, article_name, cite
from .quote import excerpt
from .text_fragment import passage_link

WORDS = {
    "fr": {"intro": "D’après l’article :", "none": "Ce n’est pas dans l’article.",
           "closest": "Passage le plus proche, qui ne répond pas vraiment :", "score": "score"},
    "en": {"intro": "From the article (quoted in French):", "none": "That is not in the article.",
           "closest": "Closest passage, which does not really answer it:", "score": "score"},
}


def answer_text(answer: Answer, bold: tuple[str, str] = ("", ""), max_chars: int = 600,
                name_articles: bool = False) -> str:
    """The answer for a person: quotes with citations, or an honest 'not in the article'.

    `name_articles` (the corpus has several): each citation also names its article, title and date.
    A quote whose article URL is known ends with a link to the passage itself.
    """
    words = WORDS[answer.language]
    if answer.answered:
        lines = [words["intro"]]
        for hit in answer.quoted:
            lines.append(_quote_line(hit, answer, bold, max_chars, name_articles))
        return "\n".join(lines)
    lines = [absent_fact_sentence(answer) or words["none"]]  # "The article mentions X but does not give an age."
    if answer.hits:
        lines += [words["closest"], _quote_line(answer.hits[0], answer, bold, max_chars, name_articles)]
    return "\n".join(lines)


def _quote_line(hit: Hit, answer: Answer, bold: tuple[str, str], max_chars: int, name_articles: bool) -> str:
    quote = excerpt(hit, max_chars).marked(*bold)
    loc = hit.passage.location
    line = f"« {quote} » — {cite(loc, answer.language)}"
    if name_articles:
        line += f" · {article_name(loc, answer.language)}"
    link = passage_link(loc.doc_url, hit.passage.text)
    return line + f" <{link}>" if link else line


def chosen_article(answer: Answer) -> dict | None:
    """The article the answer chose, as the JSON contract names it (None when it has none)."""
    if answer.article_id is None:
        return None
    for hit in answer.quoted + answer.hits:
        if hit.passage.location.doc_id == answer.article_id:
            return article_json(hit.passage.location)
    return {"id": answer.article_id, "title": "", "date": "", "url": ""}


def answer_json(answer: Answer, name_articles: bool = False) -> dict:
    """The stable JSON contract of `verbatim ask --json` (one object per question)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer_text(answer, name_articles=name_articles),
        "language": answer.language,
        "article": chosen_article(answer),
        "absent_fact": absent_fact(answer),  # {"kind", "mentions"} when abstained for want of the fact asked for
        "passages": [
            {"rank": h.rank, "score": h.score, "text": h.passage.text,
             "citation": cite(h.passage.location, answer.language),
             "highlight": list(h.highlight), "location": h.passage.location.to_dict(),
             "article": article_json(h.passage.location),
             "link": passage_link(h.passage.location.doc_url, h.passage.text)}
            for h in answer.hits
        ],
        "build_id": answer.build_id,
        "took_ms": round(answer.took_ms, 2),
    }


def error_json(question: str, message: str) -> dict:
    return {"question": question, "answered": False, "answer": "", "article": None, "passages": [], "error": message,
            "took_ms": 0.0}
