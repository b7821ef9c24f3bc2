"""The values that cross the boundary between `index/` and its callers (CLI, bot, renderers).

Plain frozen dataclasses so they can be stored, compared and rendered by pure functions.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

Kind = Literal["article", "comment"]
Scope = Literal["all", "article", "comments"]
Lang = Literal["fr", "en"]


@dataclass(frozen=True)
class Location:
    """Where a passage sits, precise enough to cite it and to find it again in the document."""

    doc_id: str
    kind: Kind
    section: str | None  # article section heading ("Guerre des TPU"); None for comments
    paragraph: int | None  # 1-based paragraph number within the section (article)
    comment: int | None  # 1-based comment number (comments)
    start: int  # character offsets into Document.text: text == document.text[start:end]
    end: int
    reply_to: int | None = None  # comment number this comment quotes, if recognised
    doc_title: str = ""
    role: str = "paragraph"  # "title" | "kicker" | "paragraph" | "comment": how to cite it
    doc_date: str = ""  # the document's ISO published date, so a quote can say which article and when
    doc_url: str = ""  # its canonical URL ("" when unknown), so a quote can link to the passage
    doc_source: str = ""  # its publication's name ("" when unknown)

    def to_dict(self) -> dict:
        """`asdict(self)`, without its recursive deep copy: a build writes one a passage (all fields are scalars)."""
        return {name: getattr(self, name) for name in _LOCATION_FIELDS}


_LOCATION_FIELDS = tuple(f.name for f in fields(Location))


@dataclass(frozen=True)
class ArticleInfo:
    """One article of a build, as callers list and choose it (`Retriever.articles()`)."""

    id: str
    title: str
    date: str  # ISO published date, "" when unknown
    url: str  # canonical URL, "" when unknown
    source: str  # publication name, "" when unknown
    passages: int  # passages of the article itself (title, kicker, paragraphs)
    comments: int  # passages from its reader comments

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A verbatim span of a document: the unit that is embedded, retrieved and quoted."""

    id: int  # row in the vector index
    text: str
    location: Location


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its score and the span of its best-matching sentence."""

    rank: int  # 1-based
    score: float
    passage: Passage
    highlight: tuple[int, int]  # [start, end) within passage.text of the sentence that matches best


@dataclass(frozen=True)
class Answer:
    """What a question gets: the top hits, which of them are quoted, and whether it answered at all."""

    question: str
    language: Lang
    answered: bool
    hits: tuple[Hit, ...]  # top-k whether answered or not (best first)
    quoted: tuple[Hit, ...]  # the hits worth quoting; empty when it abstains
    build_id: str
    took_ms: float = 0.0
    scope: Scope = "all"
    # The article the answer chose: the one asked for, else the article of its first quoted hit, else of
    # its first hit (when it abstains); None only when it has no hit at all.
    article_id: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def with_timing(self, took_ms: float) -> "Answer":
        return replace(self, took_ms=took_ms)
