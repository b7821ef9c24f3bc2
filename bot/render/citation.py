"""Citations a reader understands ("Article · Guerre des TPU ¶2", "Commentaire 15"), in the reader's language."""
from __future__ import annotations

from index.model import Lang, Location

_WORDS = {
    "fr": {"article": "Article", "title": "Titre", "kicker": "Surtitre", "intro": "Introduction",
           "comment": "Commentaire", "reply": "réponse au {n}"},
    "en": {"article": "Article", "title": "Title", "kicker": "Kicker", "intro": "Introduction",
           "comment": "Comment", "reply": "reply to {n}"},
}


def cite(location: Location, lang: Lang = "fr") -> str:
    words = _WORDS.get(lang, _WORDS["fr"])
    if location.kind == "comment":
        text = f"{words['comment']} {location.comment}"
        if location.reply_to:
            text += f" ({words['reply'].format(n=location.reply_to)})"
        return text
    if location.role in ("title", "kicker"):
        return f"{words['article']} · {words[location.role]}"
    section = location.section or words["intro"]
    return f"{words['article']} · {section} ¶{location.paragraph}"
