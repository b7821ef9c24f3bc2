"""What counts as a question we can search: checked before any model work, with a reason a user can act on."""
from __future__ import annotations

import re
import unicodedata

from .errors import BadQuestion

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A surrogate code point alone is never text: it comes from broken UTF-16 (a client's, or a JSON `\ud800`
# escape) or from bytes Python could not decode (argv). It cannot be encoded as UTF-8, so it would crash
# the embedder or the output instead of getting an answer.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_question(question: str, max_chars: int) -> str:
    """Returns the question with whitespace tidied, or raises BadQuestion."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    if _SURROGATE.search(question):
        raise BadQuestion("the question contains characters that are not valid text (a broken encoding?); "
                          "please type it again")
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
