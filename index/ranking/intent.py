"""Whether a question asks about the readers' comments rather than the article ("Un lecteur…", "Which reader…").

A cue, not a filter: the ranker moves comments ahead on such questions and behind on the others
(`comment_intent` in the [ranking] settings); a passage that matches much better still wins. In French "comment"
is "how", so the bare word counts only in an English question.
"""
from __future__ import annotations

import re

from ..language import detect_language

_CUES = re.compile(r"\b(?:lect(?:eur|rice)s?|commentaires?|commentat(?:eur|rice)s?|internautes?|abonnés?"
                   r"|readers?|commenters?|commentators?|comments)\b", re.IGNORECASE)
_COMMENT = re.compile(r"\bcomment\b", re.IGNORECASE)


def asks_about_comments(question: str) -> bool:
    if _CUES.search(question):
        return True
    return bool(_COMMENT.search(question)) and detect_language(question) == "en"
