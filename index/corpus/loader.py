"""Reads every document of a corpus directory and fingerprints the corpus for the index manifest."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import CorpusError
from . import markdown_format
from .document import Document


def corpus_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist (set VERBATIM_CORPUS_DIR or --corpus)")
    return sorted(corpus_dir.glob("*.md"))


def load_corpus(corpus_dir: Path) -> list[Document]:
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"no article (*.md) in {corpus_dir}: import one with `verbatim corpus import PAGE.txt`")
    docs, seen = [], {}
    for path in files:
        doc = markdown_format.loads(_read(path), origin=str(path))
        if doc.id in seen:
            raise CorpusError(f"{path}: document id {doc.id!r} is already used by {seen[doc.id]}")
        seen[doc.id] = path
        docs.append(doc)
    return docs


def corpus_hash(corpus_dir: Path) -> str:
    """Changes whenever a document is added, removed or edited; the index records it."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + _read(path).encode() + b"\0")
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise CorpusError(f"cannot read {path}: {e.strerror or e}") from None
