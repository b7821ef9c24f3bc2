"""Reads every document of a corpus directory."""
from __future__ import annotations

from pathlib import Path

from ..errors import CorpusError
from . import markdown_format
from .document import Document
from .fingerprint import corpus_files, read_text


def load_corpus(corpus_dir: Path) -> list[Document]:
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"no article (*.md) in {corpus_dir}: import one with `verbatim corpus import PAGE.txt`")
    docs, seen = [], {}
    for path in files:
        doc = markdown_format.loads(read_text(path), origin=str(path))
        if doc.id in seen:
            raise CorpusError(f"{path}: document id {doc.id!r} is already used by {seen[doc.id]}")
        seen[doc.id] = path
        docs.append(doc)
    return docs

