"""The articles of a build, as callers list and choose them: read back from the passages themselves.

Every passage carries its article's id, title, date, URL and source (index.model.Location), so the
list always matches what can be quoted and needs nothing beyond the build's passages.
"""
from __future__ import annotations

from .model import ArticleInfo, Passage


def catalogue(passages: tuple[Passage, ...] | list[Passage]) -> tuple[ArticleInfo, ...]:
    """Every article with passages in the build, newest first (undated ones last, then by title)."""
    seen: dict[str, list] = {}
    for p in passages:
        loc = p.location
        entry = seen.get(loc.doc_id)
        if entry is None:
            entry = seen[loc.doc_id] = [loc.doc_title, loc.doc_date, loc.doc_url, loc.doc_source, 0, 0]
        entry[5 if loc.kind == "comment" else 4] += 1
    infos = [ArticleInfo(doc_id, *values) for doc_id, values in seen.items()]
    infos.sort(key=lambda a: a.title.casefold())
    infos.sort(key=lambda a: a.date, reverse=True)  # stable: one date keeps title order; "" sorts last
    return tuple(infos)
