"""A document is an ordered list of verbatim blocks; its canonical text is their concatenation.

Passages point into `Document.text` with character offsets, so a quote can always be traced back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

BLOCK_SEPARATOR = "\n\n"


def split_paragraphs(lines: list[str]) -> list[str]:
    """Groups lines into paragraphs at blank lines; lines are trimmed, line breaks inside a paragraph kept."""
    paras, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paras.append("\n".join(current))
            current = []
    if current:
        paras.append("\n".join(current))
    return paras


@dataclass(frozen=True)
class Block:
    role: str  # "title" | "kicker" | "paragraph" | "comment"
    text: str  # verbatim; paragraphs inside a comment are separated by BLOCK_SEPARATOR
    section: str | None = None  # article section heading, None before the first heading
    number: int | None = None  # paragraph number within its section, or comment number
    reply_to: int | None = None  # for a comment quoting an earlier one
    quote: str | None = None  # the quoted part of a reply, verbatim (a substring of text)
    quote_author: str | None = None
    author: str | None = None  # a comment's author, when the page shows it

    @property
    def kind(self) -> str:
        return "comment" if self.role == "comment" else "article"


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    blocks: tuple[Block, ...]
    kicker: str = ""
    date: str = ""
    date_text: str = ""
    source: str = ""
    language: str = "fr"
    url: str = ""
    provenance: str = ""
    meta: dict = field(default_factory=dict, compare=False)
    author: str = ""
    updated: str = ""  # ISO date/time of the last revision the page declares
    content_hash: str = ""  # sha256 of `text`: tells an edited article from an unchanged one
    guid: str = ""  # the feed entry's id, when the article came from a feed

    @cached_property
    def block_offsets(self) -> tuple[int, ...]:
        offsets, pos = [], 0
        for block in self.blocks:
            offsets.append(pos)
            pos += len(block.text) + len(BLOCK_SEPARATOR)
        return tuple(offsets)

    @cached_property
    def text(self) -> str:
        return BLOCK_SEPARATOR.join(b.text for b in self.blocks)

    @property
    def comments(self) -> list[Block]:
        return [b for b in self.blocks if b.role == "comment"]


def text_hash(doc: Document) -> str:
    """The content hash stored with a document: its canonical text, and so every quote it can give."""
    return hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
