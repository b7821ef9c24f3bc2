""""The article mentions X but does not give an age": the reply to an on-topic question whose fact is absent.

"How old is Satya Nadella?" is about the article (it names him) but the article gives no age
(index.ranking.answer_types). "That is not in the article" would read as if Satya Nadella were not in it
either; this says what the article does speak of and what it does not say, in the question's language.
"""
from __future__ import annotations

from typing import Callable

from index.model import Answer

DOES_NOT_SAY = {  # the kinds of index.ranking.answer_types
    "fr": {"age": "ne donne pas d’âge", "amount": "ne donne pas de montant", "year": "ne donne pas d’année",
           "date": "ne donne pas de date", "number": "ne donne pas de chiffre", "place": "ne donne pas de lieu",
           "school": "ne cite ni université ni école"},
    "en": {"age": "does not give an age", "amount": "does not give an amount", "year": "does not give a year",
           "date": "does not give a date", "number": "does not give a number", "place": "does not name a place",
           "school": "does not name a university or school"},
}
AND = {"fr": "et", "en": "and"}


def absent_fact(answer: Answer) -> dict | None:
    """The fact the question asked for that the article does not give, for the JSON contract: the kind and
    the names the article does mention; None when the answer is not abstained for that reason."""
    kind = answer.extra.get("missing_kind")
    if answer.answered or kind not in DOES_NOT_SAY["en"]:
        return None
    return {"kind": kind, "mentions": list(answer.extra.get("mentions") or [])}


def absent_fact_sentence(answer: Answer, escape: Callable[[str], str] = str) -> str | None:
    """"L’article mentionne Satya Nadella, mais ne donne pas d’âge." / "The article mentions Satya Nadella but
    does not give an age." (without a name: "The article does not give an age."), or None. `escape` is applied
    to the names, which come from the question as the user typed them."""
    fact = absent_fact(answer)
    if fact is None:
        return None
    lang = answer.language if answer.language in DOES_NOT_SAY else "en"
    says_not = DOES_NOT_SAY[lang][fact["kind"]]
    names = [escape(name) for name in fact["mentions"]]
    if not names:
        return f"L’article {says_not}." if lang == "fr" else f"The article {says_not}."
    named = f" {AND[lang]} ".join(names)
    return f"L’article mentionne {named}, mais {says_not}." if lang == "fr" else \
        f"The article mentions {named} but {says_not}."
