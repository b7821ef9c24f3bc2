"""simplemma's English forms of the dictionary's headwords, kept on disk beside the builds.

Finding them walks simplemma's whole English table (181,000 forms: about a second), and they depend only on
the dictionary's files and simplemma's version, never on the corpus. Each build in a fresh process (a cron
job's `verbatim corpus sync`, `verbatim index build`) paid that second again. Now the first build writes them
to `<data dir>/lexicon/` and later ones read them back (tens of milliseconds). A memo that is missing,
unreadable or from another dictionary or simplemma is computed again; a directory that cannot be written
only costs that second.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from ..private_files import private_dir, private_opener
from .lexicon import Dictionary, dictionary

log = logging.getLogger(__name__)

DIRNAME = "lexicon"
FORMAT = 1  # bump when the pairs' definition changes (lexicon._english_lemmas)
PREFIX = "english-pairs-"


def memo_path(data_dir: Path, prepared: Dictionary) -> Path:
    from importlib.metadata import version

    try:
        simplemma = version("simplemma")
    except Exception:  # not installed as a distribution: no memo can be trusted to match
        simplemma = "unknown"
    key = hashlib.sha256(repr((FORMAT, simplemma, prepared.identity)).encode()).hexdigest()[:16]
    return Path(data_dir) / DIRNAME / f"{PREFIX}{key}.tsv"


def _read(path: Path) -> tuple[tuple[str, str], ...] | None:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or lines[-1] != "" or lines[0] != f"# verbatim english pairs {FORMAT}":
        return None  # unfinished or foreign: computed again
    pairs = []
    for line in lines[1:-1]:
        form, tab, lemma = line.partition("\t")
        if not tab or not form or not lemma or "\t" in lemma:
            return None
        pairs.append((form, lemma))
    return tuple(pairs)


def _write(path: Path, pairs: tuple[tuple[str, str], ...]) -> None:
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", opener=private_opener) as f:
        f.write(f"# verbatim english pairs {FORMAT}\n")
        f.writelines(f"{form}\t{lemma}\n" for form, lemma in pairs)
    os.replace(tmp, path)  # whole or not at all
    for other in path.parent.glob(f"{PREFIX}*.tsv"):  # an older dictionary's or simplemma's
        if other != path:
            other.unlink(missing_ok=True)


def prepare_english_pairs(data_dir: Path, lexicon: str) -> bool:
    """Gives the dictionary at `lexicon` (as `lexicon.dictionary` returns it, once per process) its English
    pairs from the memo in `data_dir`, or computes them and writes the memo. True when read from the memo.
    Nothing happens without a dictionary."""
    if not lexicon:
        return False
    try:
        prepared = dictionary(lexicon)
    except (OSError, ValueError, UnicodeDecodeError):
        return False  # the build logs the missing dictionary where it reads the glosses
    if prepared.has_english_pairs:
        return False  # already prepared in this process
    path = memo_path(data_dir, prepared)
    pairs = _read(path)
    if pairs is not None:
        prepared.use_english_pairs(pairs)
        return True
    try:
        _write(path, prepared.english_pairs)
    except OSError as e:
        log.info("could not keep the English forms in %s: %s", path.parent, e)
    return False
