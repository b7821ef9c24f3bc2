"""What a build read from disk must look like before anything searches it.

The sha256 of each file proves only that the files are the ones the manifest names. A hand-edited
manifest, or a file damaged and its hash recomputed, would otherwise load and fail later, at a
question, as an "unexpected error" or a wrong answer; a name like `../../dev/zero` would be hashed
forever. Every check raises `BuildDamaged` with a short reason; `index.store` turns it into the
user's "the index build … is damaged" message.
"""
from __future__ import annotations

import os
import re
import stat
import types
import typing
from pathlib import Path

import numpy as np

from .model import Location

MAX_MANIFEST_BYTES = 16 << 20  # a manifest lists documents and hashes: far below this
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BuildDamaged(ValueError):
    """A build's files do not make sense together; the message says which and why."""


def regular_file_inside(folder: Path, name: object) -> Path:
    """`folder / name`, refused unless `name` is a plain file name and the file (after symlinks) is a
    regular file inside `folder`: never a device, a pipe or a file elsewhere."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise BuildDamaged(f"the manifest names {name!r}, outside the build directory")
    path = folder / name
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise BuildDamaged(f"its file {name} is missing") from None
    except (OSError, RuntimeError) as e:  # a symlink loop, an unreadable directory
        raise BuildDamaged(f"its file {name} cannot be opened ({e})") from None
    if not real.is_relative_to(folder.resolve()):
        raise BuildDamaged(f"its file {name} is a link to {real}, outside the build directory")
    if not stat.S_ISREG(real.stat().st_mode):
        raise BuildDamaged(f"its file {name} is not a regular file")
    return real


def check_manifest(manifest: object, required_files: tuple[str, ...]) -> dict:
    """The manifest's shape and types: an object, a sha256 for every required file, a positive `dim`.

    Fields only some callers need (embedder, model_id, corpus_hash) are checked for their type when
    present; whether they fit the configuration is `service.check_compatible`'s question.
    """
    if not isinstance(manifest, dict):
        raise BuildDamaged(f"its manifest is a JSON {type(manifest).__name__}, not an object")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BuildDamaged("its manifest has no table of files and their sha256")
    for name, digest in files.items():
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BuildDamaged(f"its manifest gives {name!r} no valid sha256")
    missing = [name for name in required_files if name not in files]
    if missing:
        raise BuildDamaged(f"its manifest does not list {', '.join(missing)}")
    dim = manifest.get("dim")
    if not _is_int(dim) or dim <= 0:
        raise BuildDamaged(f"its manifest gives no vector dimension (dim = {dim!r})")
    from .ann import ANN_KINDS

    if "ann" in manifest and manifest["ann"] not in ANN_KINDS:
        raise BuildDamaged(f"its manifest names an unknown index type ann = {manifest['ann']!r}")
    for key, kind in (("embedder", str), ("model_id", str), ("corpus_hash", str), ("build_id", str),
                      ("created_at", str), ("ann_params", dict), ("counts", dict), ("chunker", dict),
                      ("packages", dict), ("documents", list)):
        if key in manifest and not isinstance(manifest[key], kind):
            raise BuildDamaged(f"its manifest's {key} is a {type(manifest[key]).__name__}, not a {kind.__name__}")
    return manifest


def _allowed_types(hint) -> tuple[type, ...]:
    """The Python types a JSON value may have for a field annotated `hint` (str, int | None, Literal[...])."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return tuple({type(v) for v in typing.get_args(hint)})
    if origin in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _allowed_types(arg))
    if hint is float:
        return (float, int)  # JSON writes 1.0 as 1
    return (hint,) if isinstance(hint, type) else (object,)


# Taken from the dataclass, so a field added to Location is checked without touching this module.
_LOCATION_TYPES = {name: _allowed_types(hint) for name, hint in typing.get_type_hints(Location).items()}


def check_passage_row(row: object, expected_id: int) -> None:
    """One line of passages.jsonl: {id, text, location, sentences}, the spans inside the text."""
    if not isinstance(row, dict):
        raise BuildDamaged(f"passage {expected_id} is a JSON {type(row).__name__}, not an object")
    if row.get("id") != expected_id or not _is_int(row.get("id")):
        raise BuildDamaged(f"passage {expected_id} has id {row.get('id')!r}")
    text = row.get("text")
    if not isinstance(text, str):
        raise BuildDamaged(f"passage {expected_id} has no text")
    location = row.get("location")
    if not isinstance(location, dict):
        raise BuildDamaged(f"passage {expected_id} has no location")
    for key, value in location.items():
        allowed = _LOCATION_TYPES.get(key, ())
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise BuildDamaged(f"passage {expected_id} has a bad location field {key} = {value!r}")
    spans = row.get("sentences")
    if not isinstance(spans, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(_is_int(x) for x in s) and 0 <= s[0] <= s[1] <= len(text)
            for s in spans):
        raise BuildDamaged(f"passage {expected_id} has sentence spans outside its text")


def check_vectors(vectors: object, rows: int, dim: int, what: str) -> None:
    """A float matrix of `rows` x `dim`, every value finite."""
    if not isinstance(vectors, np.ndarray) or vectors.dtype.kind != "f":
        raise BuildDamaged(f"its {what} are not an array of floats")
    if vectors.shape != (rows, dim):
        raise BuildDamaged(f"its {what} have shape {vectors.shape}, expected ({rows}, {dim})")
    if not np.isfinite(vectors).all():
        raise BuildDamaged(f"its {what} hold values that are not numbers")


def check_keyword_arrays(a, passages: int, dim: int, current_format: str) -> None:
    """The arrays of keywords.npz (as `KeywordIndex.to_arrays` writes them) fit together and the
    passages, so a question can never index outside them. A file of another format is not checked:
    it is refitted from the passages, not read."""
    if str(a["format"]) != current_format:
        return
    grams, idf, indptr, ids, weights = (a[k] for k in ("grams", "idf", "indptr", "ids", "weights"))
    _kind(grams, "U", 1, "keyword n-grams")
    _kind(idf, "f", 1, "keyword idf")
    _kind(indptr, "iu", 1, "keyword postings")
    _kind(ids, "iu", 1, "keyword postings")
    _kind(weights, "f", 1, "keyword weights")
    size = a["size"]
    if size.shape != () or size.dtype.kind not in "iu" or int(size) != passages:
        raise BuildDamaged(f"its keyword index covers {size!r} passages, not {passages}")
    _kind(a["sizes"], "iu", 1, "keyword n-gram sizes")
    if len(idf) != len(grams) or len(indptr) != len(grams) + 1:
        raise BuildDamaged("its keyword index has n-grams, idf and postings of different lengths")
    if len(indptr) and (indptr[0] != 0 or (np.diff(indptr) < 0).any() or indptr[-1] != len(ids)):
        raise BuildDamaged("its keyword postings do not add up")
    if len(weights) != len(ids) or (len(ids) and (ids.min() < 0 or ids.max() >= passages)):
        raise BuildDamaged("its keyword postings point outside the passages")
    if not (np.isfinite(idf).all() and np.isfinite(weights).all()):
        raise BuildDamaged("its keyword weights hold values that are not numbers")
    for name in ("forms", "stems", "common"):
        _kind(a[name], "U", 1, f"keyword {name}")
        _kind(a[name + "_zipf"], "f", 1, f"keyword {name} frequencies")
        if len(a[name]) != len(a[name + "_zipf"]):
            raise BuildDamaged(f"its keyword {name} and their frequencies differ in length")
    if "form_vectors" in a:
        check_vectors(a["form_vectors"], len(a["forms"]), dim, "word vectors")
    if "gloss_forms" in a:
        _check_glosses(a)
    if "align_forms" in a:
        _check_alignments(a, len(a["forms"]))


def _check_alignments(a, forms: int) -> None:
    """The English forms aligned to corpus words (`ranking.alignment.align`): newline-joined UTF-8 forms, and for
    each a row of the vocabulary and a cosine."""
    _kind(a["align_forms"], "u", 1, "keyword align_forms")
    try:
        text = a["align_forms"].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        raise BuildDamaged("its keyword align_forms are not UTF-8 text") from None
    count = text.count("\n") + 1 if text else 0
    targets, cosines = a["align_targets"], a["align_cosines"]
    _kind(targets, "iu", 1, "keyword alignment targets")
    _kind(cosines, "f", 1, "keyword alignment cosines")
    if len(targets) != count or len(cosines) != count:
        raise BuildDamaged("its keyword alignments do not add up")
    if len(targets) and (targets.min() < 0 or targets.max() >= forms):
        raise BuildDamaged("its keyword alignments point outside the corpus words")
    if not np.isfinite(cosines).all():
        raise BuildDamaged("its keyword alignment cosines hold values that are not numbers")


def _check_glosses(a) -> None:
    """The packed English-French glosses (`ranking.keyword._gloss_arrays`): newline-joined UTF-8 forms and
    words, and CSR rows from each form to its words. Unpacked only at the first English question, so
    checked here without building their tables."""
    packed = {}
    for name in ("gloss_forms", "gloss_words"):
        _kind(a[name], "u", 1, f"keyword {name}")
        try:
            a[name].tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise BuildDamaged(f"its keyword {name} are not UTF-8 text") from None
        packed[name] = int(np.count_nonzero(a[name] == 0x0A)) + 1 if len(a[name]) else 0
    indptr, ids = a["gloss_indptr"], a["gloss_ids"]
    _kind(indptr, "iu", 1, "keyword gloss rows")
    _kind(ids, "iu", 1, "keyword gloss rows")
    if len(indptr) != packed["gloss_forms"] + 1 or indptr[0] != 0 or (np.diff(indptr) < 0).any() \
            or indptr[-1] != len(ids):
        raise BuildDamaged("its keyword glosses do not add up")
    if len(ids) and (ids.min() < 0 or ids.max() >= packed["gloss_words"]):
        raise BuildDamaged("its keyword glosses point outside their words")


def _kind(array: np.ndarray, kinds: str, ndim: int, what: str) -> None:
    if array.dtype.kind not in kinds or array.ndim != ndim:
        raise BuildDamaged(f"its {what} are not a {ndim}-dimensional array of the right type")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
