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


_MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def format_date(iso: str, lang: Lang = "fr") -> str:
    """"2023-11-20T09:57" -> "20 novembre 2023" / "20 November 2023"; anything else as it is."""
    try:
        year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
    except (ValueError, IndexError):
        return iso.strip()
    if len(iso) < 10 or iso[4] != "-" or iso[7] != "-" or not (1 <= month <= 12 and 1 <= day <= 31):
        return iso.strip()
    return f"{day} {_MONTHS.get(lang, _MONTHS['fr'])[month - 1]} {year}"


def article_name(location: Location, lang: Lang = "fr") -> str:
    """Which article a passage is from: its title and, when known, its date ("Titre (20 novembre 2023)")."""
    title = " ".join(location.doc_title.split()) or location.doc_id
    date = format_date(location.doc_date, lang)
    return f"{title} ({date})" if date else title


def article_json(location: Location) -> dict:
    """The article of a passage in the JSON contract of `verbatim ask --json`."""
    return {"id": location.doc_id, "title": location.doc_title, "date": location.doc_date, "url": location.doc_url}
