"""Before a build loads any model: can the data directory take the build at all?

A read-only directory or a full disk otherwise ends after the whole embedding run, as an "unexpected
error" with a half-written build left behind. Checked with a real write (permissions alone say
nothing about a read-only mount, an immutable directory or root), and against the free space a build
of this corpus needs.

The estimate, measured on the seed corpus (11,661 bytes of Markdown → 39 passages, 92 sentences,
567 words; a 1.32 MB build with 384-dimensional vectors): the build holds ~370 KB of everyday-word
tables whatever the corpus, and ~24 KB per passage (its vector, its sentences' vectors, its words'
vectors, n-gram postings and its JSON row), a passage being ~300 bytes of Markdown. A margin of 2
covers models with larger vectors and the vocabulary growing faster than the passages.
"""
from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

from .corpus.fingerprint import corpus_files
from .errors import VerbatimError
from .private_files import make_private_dir, private_opener

FIXED_BYTES = 1 << 20  # word-frequency tables, manifest, file headers (measured 0.37 MB), rounded up
MARKDOWN_BYTES_PER_PASSAGE = 300
BYTES_PER_PASSAGE = 24 << 10
MARGIN = 2
FIX = "point VERBATIM_DATA_DIR or --data-dir at a writable directory"


class DataDirUnusable(VerbatimError):
    """The data directory cannot hold a new build (read-only, not permitted, full)."""


def estimate_build_bytes(corpus_dir: Path) -> int:
    corpus_bytes = sum(path.stat().st_size for path in corpus_files(corpus_dir))
    passages = corpus_bytes / MARKDOWN_BYTES_PER_PASSAGE + 1
    return int(FIXED_BYTES + MARGIN * passages * BYTES_PER_PASSAGE)


def check_build_possible(data_dir: Path, corpus_dir: Path) -> None:
    check_writable(data_dir, estimate_build_bytes(corpus_dir))


def check_writable(data_dir: Path, needed_bytes: int) -> None:
    """Raises DataDirUnusable, naming the directory and the fix, unless a file can be written in
    `data_dir` (and its builds/) and the disk has `needed_bytes` free."""
    try:
        make_private_dir(data_dir)
        for folder in (data_dir, data_dir / "builds"):
            if folder.is_dir():
                _probe(folder)
        free = os.statvfs(data_dir).f_bavail * os.statvfs(data_dir).f_frsize
    except OSError as e:
        raise unusable(data_dir, e) from None
    if free < needed_bytes:
        raise DataDirUnusable(f"the data directory {data_dir} has {_mb(free)} free but a build of this corpus needs "
                              f"about {_mb(needed_bytes)}: free some space there or {FIX}")


def unusable(data_dir: Path, error: OSError) -> DataDirUnusable:
    """The one-line message for a write that failed in the data directory."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return DataDirUnusable(f"the disk of the data directory {data_dir} is full ({error.strerror}): "
                               f"free some space there or {FIX}")
    if error.errno in (errno.EEXIST, errno.ENOTDIR):  # mkdir met a file where a directory belongs
        where = "is a file" if data_dir.exists() else "lies under a file"
        return DataDirUnusable(f"the data directory {data_dir} {where}, not a directory: {FIX}")
    return DataDirUnusable(f"cannot write in the data directory {data_dir} ({error.strerror or error}): "
                           f"make it writable or {FIX}")


def _probe(folder: Path) -> None:
    probe = folder / f".write-probe-{uuid.uuid4().hex[:8]}"
    with open(probe, "wb", opener=private_opener) as f:
        try:
            f.write(b"verbatim")
            f.flush()
            os.fsync(f.fileno())
        finally:
            probe.unlink()


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
