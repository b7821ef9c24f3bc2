"""Bylines at the top of an article body ("By Jane Doe and John Smith, Staff Reporters", "Par Jeanne
Dupont", "— Updated 3 March 2024 at 10:02"): they only repeat the page's author and date metadata, which
the document already keeps, and as passages they would be quoted for "who wrote it?" or "when?" instead
of the article's own words.

Conservative on purpose: a paragraph is a byline only when it is short and every word in it is one of
the author's names, a byline word ("by", "par", "staff"…), a date word (months, "updated", "mis à
jour"…) or a number of the published/updated timestamp, and it names an author or a date at all. Anything
else ("By the end of March…", a date the metadata does not give) stays a paragraph.
"""
from __future__ import annotations

import re

MAX_WORDS = 20
MAX_CHARS = 160
MAX_LEADING = 2  # an author line, then a date line: no more is dropped

_BYLINE_WORDS = frozenset("""
    by and with staff reporter reporters correspondent correspondents writer writers editor editors journalist
    journalists contributor contributors senior chief special
    par et avec journaliste journalistes envoyé envoyée envoyés envoyées spécial spéciale spéciaux spéciales
    correspondant correspondante correspondants correspondantes rédaction rédacteur rédactrice
""".split())
_DATE_WORDS = frozenset("""
    published updated posted last modified on at am pm gmt utc bst cet cest est edt pst pdt
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thurs fri sat sun
    publié publiée mis mise à jour le la modifié modifiée actualisé actualisée h heure heures er
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre
    janv févr avr juil sept déc
    lundi mardi mercredi jeudi vendredi samedi dimanche
""".split())
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")


def is_byline(text: str, authors: str, dates: tuple[str, ...]) -> bool:
    """Whether `text` says nothing but who wrote the article (`authors`: trafilatura's "A; B") and when
    (`dates`: ISO timestamps of the metadata)."""
    words = _WORD.findall(text.lower())
    if not words or len(words) > MAX_WORDS or len(text) > MAX_CHARS or "\n" in text.strip():
        return False
    names = {w for w in _WORD.findall(authors.lower()) if not w.isdigit()}
    numbers = _date_numbers(dates)
    said = False
    for word in words:
        if word.isdigit():
            if int(word) not in numbers:
                return False
            said = True
        elif word in names:
            said = True
        elif word not in _BYLINE_WORDS and word not in _DATE_WORDS:
            return False
    return said


def _date_numbers(dates: tuple[str, ...]) -> set[int]:
    """Year, month, day, hour (24 h and 12 h) and minute of each timestamp."""
    numbers: set[int] = set()
    for date in dates:
        match = _ISO.match(date or "")
        if not match:
            continue
        year, month, day, hour, minute = match.groups()
        numbers |= {int(year), int(year) % 100, int(month), int(day)}
        if hour is not None:
            numbers |= {int(hour), int(hour) % 12 or 12, int(minute)}
    return numbers


def leading_bylines(texts: list[str], authors: str, dates: tuple[str, ...]) -> int:
    """How many of the first paragraphs (at most MAX_LEADING) are bylines, to be left out."""
    count = 0
    while count < min(MAX_LEADING, len(texts)) and is_byline(texts[count], authors, dates):
        count += 1
    return count
