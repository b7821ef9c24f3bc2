"""Cuts a passage down to an excerpt around its best sentence without changing a word.

The excerpt is returned in three verbatim parts so each renderer marks the sentence its own way
(bold in Discord, ANSI in a terminal, nothing in JSON).
"""
from __future__ import annotations

from dataclasses import dataclass

from index.model import Hit

ELLIPSIS = "…"


@dataclass(frozen=True)
class Excerpt:
    before: str  # may start with an ellipsis
    sentence: str  # the best-matching sentence (may end with an ellipsis if it alone is too long)
    after: str  # may end with an ellipsis

    def plain(self) -> str:
        return self.before + self.sentence + self.after

    def marked(self, left: str, right: str) -> str:
        return f"{self.before}{left}{self.sentence}{right}{self.after}"


def excerpt(hit: Hit, max_chars: int = 600) -> Excerpt:
    """The best sentence with as much verbatim context on each side as fits in `max_chars`."""
    text = hit.passage.text
    start, end = hit.highlight
    if end - start >= max_chars:
        return Excerpt(_ellipsis_if(start > 0), cut_at_word(text[start:end], max_chars - 2), "")
    room = max_chars - (end - start)
    after_room = room // 2 if start > 0 else room
    after = _cut_right(text[end:], max(after_room, room - start))
    before = _cut_left(text[:start], room - len(after))
    return Excerpt(before, text[start:end], after)


def cut_at_word(text: str, max_chars: int) -> str:
    """At most `max_chars` characters, cut at a space and closed with an ellipsis if shortened."""
    if len(text) <= max_chars:
        return text
    cut = text[: max(max_chars - 1, 0)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    cut = cut[:space] if space > 0 else ""
    return cut.rstrip() + ELLIPSIS


def _cut_right(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    return cut_at_word(text, room) if room > 1 else ""


def _cut_left(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    if room < 2:  # no room even for "… ": the sentence opens the excerpt (found by hypothesis)
        return ""
    if room == 2:
        return ELLIPSIS + " "
    tail = text[-(room - 1):]
    space = min((i for i in (tail.find(" "), tail.find("\n")) if i >= 0), default=-1)
    return ELLIPSIS + (tail[space:] if space >= 0 else " ")


def _ellipsis_if(cut: bool) -> str:
    return ELLIPSIS + " " if cut else ""
