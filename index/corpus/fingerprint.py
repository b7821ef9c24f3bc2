"""Which files make up a corpus, and its fingerprint: the sha256 the index manifest records.

Apart from the loader so that checking an index against its corpus (every process start) does not
pay for importing the Markdown parser.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import CorpusError


def corpus_files(corpus_dir: Path) -> list[Path]:
    check_corpus_dir(corpus_dir)
    return sorted(corpus_dir.glob("*.md"))


def check_corpus_dir(corpus_dir: Path) -> None:
    """Raises CorpusError unless `corpus_dir` is a directory: a missing one and a file get their own words."""
    if corpus_dir.is_dir():
        return
    what = "is a file, not a directory" if corpus_dir.exists() else "does not exist"
    raise CorpusError(f"corpus directory {corpus_dir} {what} (set VERBATIM_CORPUS_DIR or --corpus)")


def corpus_hash(corpus_dir: Path) -> str:
    """Changes whenever a document is added, removed or edited; the index records it."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + read_text(path).encode() + b"\0")
    return digest.hexdigest()


def read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8").removeprefix("\ufeff")  # a byte-order mark, as Windows editors write
    except UnicodeDecodeError:
        raise CorpusError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise CorpusError(f"cannot read {path}: {e.strerror or e}") from None
