"""What counts as a question we can search: checked before any model work, with a reason a user can act on."""
from __future__ import annotations

import re
import unicodedata

from .errors import BadQuestion

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_question(question: str, max_chars: int) -> str:
    """Returns the question with whitespace tidied, or raises BadQuestion."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    if _CONTROL.search(question):
        raise BadQuestion("the question contains control characters; please type plain text")
    question = unicodedata.normalize("NFC", " ".join(question.split()))
    if not question:
        raise BadQuestion("the question is empty; please ask something about the article")
    if len(question) > max_chars:
        raise BadQuestion(f"the question is {len(question)} characters long; the limit is {max_chars}")
    if not any(c.isalnum() for c in question):
        raise BadQuestion("the question has no words in it; please ask something about the article")
    return question
