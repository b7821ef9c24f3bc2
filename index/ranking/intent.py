"""Whether a question asks about the readers' comments rather than the article ("Un lecteur…", "Which reader…").

Within one article a cue, not a filter: the ranker moves comments ahead on such questions and behind on the
others (`comment_intent` in the [ranking] settings); a passage that matches much better still wins. Across
documents it does filter: only documents with comments can say what readers said (`Documents.with_comments`). In French "comment"
is "how", so the bare word counts only in an English question.

The reader words are one side of the cue; the other is the question's own vocabulary. "Le message accusant
Ilya a-t-il été conservé… ?" names no reader, but "Ilya" is a word only the comments use: such a question is
not held to be about the article, and comments are not put behind (`CommentWords`).
"""
from __future__ import annotations

import re

from ..language import detect_language
from ..text_norm import term, words

_CUES = re.compile(r"\b(?:lect(?:eur|rice)s?|commentaires?|commentat(?:eur|rice)s?|internautes?|abonnés?"
                   r"|readers?|commenters?|commentators?|comments)\b", re.IGNORECASE)
_COMMENT = re.compile(r"\bcomment\b", re.IGNORECASE)
_SOMEONE = re.compile(r"\b(?:quelqu[’']une?|anyone|anybody|someone|somebody)\b", re.IGNORECASE)


def asks_about_comments(question: str) -> bool:
    if _CUES.search(question):
        return True
    return bool(_COMMENT.search(question)) and detect_language(question) == "en"


def asks_about_someone(question: str) -> bool:
    """Whether the question asks about an unnamed someone ("Quelqu'un a-t-il conservé… ?", "Did anyone share…?").

    An article names the people it speaks of; "someone" who kept, shared or thought something is as often one of
    its readers. Not a cue for the comments: moving them ahead puts a reader's aside before the paragraph that
    answers "Quelqu'un a-t-il remplacé Altman ?" (docs/retrieval.md, session 12). Only a reason not to put them
    behind; abstention and the across-documents filter are unchanged (such a question may be about nothing here).
    """
    return bool(_SOMEONE.search(question))


class CommentWords:
    """The stems that occur in an article's comments and nowhere in that article, and how rare each is (Zipf).

    Per document: in an archive of commented articles, a word only the readers of one article use is still
    theirs when another article's text happens to use it (and a help entry's text has no say in it).
    """

    MAX_ZIPF = 3.5  # names and rare words ("Ilya", "biopic", "flowchart"); "lucratif" or "embauche" (3.6-4) are no cue:
                    # the article says the same in other words ("à profit limité", "recrute")

    def __init__(self, texts: list[str], is_comment: list[bool], zipf: dict[str, float], language: str = "fr",
                 documents: "list[int] | None" = None):
        in_comments: dict[int, set[str]] = {}
        in_article: dict[int, set[str]] = {}
        for text, comment, doc in zip(texts, is_comment, documents if documents is not None else [0] * len(texts)):
            (in_comments if comment else in_article).setdefault(int(doc), set()).update(
                term(w, language) for w in words(text))
        self.by_document = {doc: {s for s in stems - in_article.get(doc, set()) if zipf.get(s, 0.0) < self.MAX_ZIPF}
                            for doc, stems in in_comments.items()}
        self.stems = set().union(*self.by_document.values()) if self.by_document else set()
        self.language = language

    def used_by(self, question: str) -> bool:
        """Whether the question uses a word that only the comments (of some article) use."""
        return bool(self.used_in(question))

    def used_in(self, question: str) -> set[int]:
        """The documents (numbers as given) one of whose comment-only words the question uses."""
        stems = {term(w, self.language) for w in words(question)} & self.stems
        return {doc for doc, own in self.by_document.items() if stems & own} if stems else set()
