"""Where builds live: files in the data directory (index.store) or PostgreSQL (index.pg), chosen by one
setting, `database_url`. Callers (index.build, index.service, the CLI) ask here and never pick a backend
themselves; `index.pg` (and psycopg) is imported only when a database URL is set.

A build target takes the build lock, stores what index.build decided a build contains, prunes old
builds and says which embedding-cache entries they still use. An index source says which build is
current and loads it into the in-memory `StoredIndex` both backends serve from.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

import numpy as np

from . import store
from .errors import VerbatimError
from .model import Passage
from .ranking.keyword import KeywordIndex
from .settings import Settings

if TYPE_CHECKING:
    from .ranking.keyword_refit import Refit


class BuildTarget(Protocol):
    def begin(self, build_id: str, dim: int) -> None: ...

    def write(self, build_id: str, manifest: dict, documents: list, passages: list[Passage],
              sentences: list[list[tuple[int, int]]], passage_vectors: np.ndarray, sentence_vectors: np.ndarray,
              keywords: KeywordIndex, embedding_keys: bytes) -> None: ...

    def prune(self, keep: int) -> list[str]: ...

    def used_embedding_keys(self) -> set[bytes]: ...

    def reusable_keywords(self, fitted_from: str) -> KeywordIndex | None:
        """The current build's keyword index when it was fitted from the same input (nothing to refit)."""

    def refit_source(self) -> Refit | None:
        """What the current build stored to refit its keyword index from (only new passages are read)."""


class FileBuildTarget:
    """The data directory's builds (index.store): the file writer."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def begin(self, build_id: str, dim: int) -> None:
        """Nothing to prepare: a file build appears whole (its `.partial` directory is renamed)."""

    def write(self, build_id, manifest, documents, passages, sentences, passage_vectors, sentence_vectors, keywords,
              embedding_keys) -> None:
        store.write_build(self.data_dir, build_id, manifest, passages, sentences, passage_vectors, sentence_vectors,
                          keywords, embedding_keys)

    def prune(self, keep: int) -> list[str]:
        return store.prune(self.data_dir, keep)

    def used_embedding_keys(self) -> set[bytes]:
        return store.used_embedding_keys(self.data_dir)

    def reusable_keywords(self, fitted_from: str) -> KeywordIndex | None:
        return store.keywords_fitted_from(self.data_dir, fitted_from)

    def refit_source(self) -> Refit | None:
        return store.previous_refit(self.data_dir)


class PgBuildTarget:
    """A PostgreSQL database's builds (index.pg.builds); the embedding cache stays in the data directory,
    so the keys its file builds use are kept too."""

    def __init__(self, session, data_dir: Path):
        self.session = session
        self.data_dir = data_dir

    def begin(self, build_id: str, dim: int) -> None:
        self.session.begin(build_id, dim)

    def write(self, build_id, manifest, documents, passages, sentences, passage_vectors, sentence_vectors, keywords,
              embedding_keys) -> None:
        rows = [(d.id, d.title, d.language, d.text) for d in documents]
        self.session.write(build_id, manifest, rows, passages, sentences, passage_vectors, sentence_vectors,
                           keywords.to_arrays(), embedding_keys, ann_blob(manifest.get("ann"), passage_vectors))

    def prune(self, keep: int) -> list[str]:
        return self.session.prune(keep)

    def used_embedding_keys(self) -> set[bytes]:
        return self.session.used_embedding_keys() | store.used_embedding_keys(self.data_dir)

    def reusable_keywords(self, fitted_from: str) -> KeywordIndex | None:
        """Never: reading the whole keyword index back from the database costs more than refitting it from
        its refit arrays, which reads no passage the current build had (bench/pg_rebuild.py: 2.5 s against
        0.9 s at 7,488 passages; a full fit 2.1 s)."""
        return None

    def refit_source(self) -> Refit | None:
        return self.session.refit_source()


@contextmanager
def build_target(settings: Settings) -> Iterator[BuildTarget]:
    """The target of `verbatim index build`, its lock held (and dead builds' leftovers removed) while open."""
    with store.build_lock(settings.data_dir):  # the embedding cache in the data dir is shared either way
        if not settings.database_url:
            store.clean_partials(settings.data_dir)
            yield FileBuildTarget(settings.data_dir)
            return
        from .pg.builds import BuildSession

        with BuildSession(settings.database_url) as session:
            yield PgBuildTarget(session, settings.data_dir)


def ann_blob(kind: str | None, vectors: np.ndarray, index=None) -> bytes | None:
    """The FAISS index file of a build whose index is not flat (a graph or lists a reload could not
    reproduce exactly); None for flat, which is rebuilt from the vectors."""
    from .ann import DEFAULT_KIND, make_ann

    kind = kind or DEFAULT_KIND
    if kind == DEFAULT_KIND:
        return None
    import tempfile

    if index is None:
        index = make_ann(kind, vectors.shape[1])
        index.add(vectors)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passages.faiss"
        index.save(path)
        return path.read_bytes()


class FileIndexSource:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.where = str(data_dir)

    def current_build_id(self) -> str | None:
        return store.current_build_id(self.data_dir)

    def load(self, build_id: str | None) -> store.StoredIndex:
        return store.load_build(self.data_dir, build_id)

    def listen(self, on_change) -> None:
        """Files announce nothing: `refresh()`'s poll (a readlink) is all there is."""

    def close(self) -> None:
        pass


def index_source(settings: Settings):
    """What `Retriever` reads builds from: `current_build_id()` (cheap, polled by refresh) and `load(id)`."""
    if not settings.database_url:
        return FileIndexSource(settings.data_dir)
    from .pg.watch import PgIndexSource

    return PgIndexSource(settings.database_url)


def current_manifest(settings: Settings) -> dict:
    """`verbatim index info`."""
    if not settings.database_url:
        return store.read_manifest(settings.data_dir)
    from .pg.builds import read_manifest

    return read_manifest(settings.database_url)


def indexed_counts(settings: Settings) -> dict[str, tuple[int, int]] | None:
    """`verbatim corpus list`: per document of the current build (files or PostgreSQL), its passages and
    the comments that have a passage; None when there is no build yet."""
    if not settings.database_url:
        return store.indexed_counts(settings.data_dir)
    from .pg.builds import indexed_counts as pg_counts

    return pg_counts(settings.database_url)


def rollback(settings: Settings) -> tuple[str, str | None]:
    """`verbatim index rollback`: the build before the current one becomes current; returns (new, old)."""
    if settings.database_url:
        from .pg.builds import rollback as pg_rollback

        return pg_rollback(settings.database_url)
    return store.roll_back(settings.data_dir)


def push(settings: Settings) -> tuple[str, int]:
    """`verbatim index push`: the current FILE build of the data dir, copied into PostgreSQL as it is (same
    build id, vectors and keyword arrays; nothing embedded), made current there. Returns (build id, passages)."""
    if not settings.database_url:
        raise VerbatimError("`verbatim index push` copies the file build into PostgreSQL: set VERBATIM_DATABASE_URL "
                            "or --database-url")
    from .corpus.fingerprint import corpus_hash
    from .corpus.loader import load_corpus
    from .pg.builds import BuildSession

    stored = store.load_build(settings.data_dir)  # every file hashed and checked, as serving would
    manifest = {k: v for k, v in stored.manifest.items() if k not in ("build_id", "schema_version", "files")}
    corpus_dir = Path(stored.manifest.get("corpus_dir") or settings.corpus_dir)
    if not corpus_dir.is_dir() or corpus_hash(corpus_dir) != stored.manifest.get("corpus_hash"):
        raise VerbatimError(f"the file build {stored.build_id} was made from {corpus_dir}, which is missing or "
                            "changed since: its passages cannot be checked against their documents; run "
                            "`verbatim index build` with the database URL instead")
    documents = [(d.id, d.title, d.language, d.text) for d in load_corpus(corpus_dir)]
    keys = _embedding_keys(settings.data_dir, stored.build_id)
    n = len(stored.passages)
    vectors = stored.passage_index.vectors(np.arange(n))
    kind = stored.manifest.get("ann")
    with BuildSession(settings.database_url) as session:  # the file build is only read: no file lock
        if stored.build_id in _complete(session):
            raise VerbatimError(f"build {stored.build_id} is already in the database: nothing to push "
                                "(`verbatim index info` shows the current one)")
        session.begin(stored.build_id, stored.manifest["dim"])
        session.write(stored.build_id, dict(manifest, pushed_from=str(store.builds_dir(settings.data_dir)
                                                                       / stored.build_id)),
                      documents, list(stored.passages), [list(s) for s in stored.sentences], vectors,
                      stored.sentence_vectors, stored.keywords.to_arrays(), keys,
                      ann_blob(kind, vectors, stored.passage_index))
        session.prune(settings.keep_builds)
    return stored.build_id, n


def _complete(session) -> list[str]:
    from .pg.builds import complete_builds

    return complete_builds(session.conn)


def _embedding_keys(data_dir: Path, build_id: str) -> bytes:
    try:
        return (store.builds_dir(data_dir) / build_id / store.EMBEDDING_KEYS).read_bytes()
    except OSError:
        return b""

