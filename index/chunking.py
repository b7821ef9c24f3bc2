"""Cuts documents into passages (the quoted unit) and sentences (the highlighted unit).

A passage never crosses a block, so a comment is never merged with the article, and a long
block is split on sentence boundaries only: a quote never starts or ends mid-word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from .corpus.document import Document
from .model import Location, Passage

# A sentence ends at . ! ? … (optionally followed by a closing quote or bracket) before a space
# and a capital, a digit or an opening quote; or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[»”\")]?(?:\s+)(?=[«“\"(A-ZÀ-ÖØ-Þ0-9])|\n+")


@dataclass(frozen=True)
class ChunkerParams:
    max_tokens: int

    def to_dict(self) -> dict:
        return {"max_tokens": self.max_tokens, "unit": "block, split on sentences when longer"}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, whitespace between them excluded."""
    return list(_sentence_spans(text))


@lru_cache(maxsize=1 << 16)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Memoised: a rebuild in the same process (the bot's, a benchmark's) splits the same passages again, and
    chunking splits a long block before its passages are split once more."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0)) - len(match.group(0).lstrip("»”\")"))
        _add_span(text, start, end if end > start else match.start(), spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return tuple(spans)


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def chunk_document(doc: Document, params: ChunkerParams, count_tokens: Callable[[str], int],
                   first_id: int = 0) -> list[Passage]:
    passages: list[Passage] = []
    for block, offset in zip(doc.blocks, doc.block_offsets):
        for start, end in _pieces(block.text, params.max_tokens, count_tokens):
            location = Location(doc_id=doc.id, kind=block.kind, section=block.section if block.kind == "article" else None,
                                paragraph=block.number if block.role == "paragraph" else None,
                                comment=block.number if block.role == "comment" else None,
                                start=offset + start, end=offset + end, reply_to=block.reply_to,
                                doc_title=doc.title, role=block.role, doc_date=doc.date,
                                doc_url=doc.url, doc_source=doc.source)
            passages.append(Passage(id=first_id + len(passages), text=block.text[start:end], location=location))
    return passages


def _pieces(text: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[tuple[int, int]]:
    if count_tokens(text) <= max_tokens:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    start = end = None
    for s, e in sentence_spans(text):
        if start is not None and count_tokens(text[start:e]) > max_tokens:
            pieces.append((start, end))
            start = None
        if start is None:
            start = s
        end = e
    if start is not None:
        pieces.append((start, end))
    return pieces
