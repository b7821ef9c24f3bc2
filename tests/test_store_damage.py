"""Damaged builds the sha256 check cannot catch: a manifest of the wrong shape, files named outside the
build, and data files damaged with their hash recomputed. Each must be "the index build … is damaged:
run `verbatim index build`" (IndexCorrupt), never an unexpected error, a hang or a wrong answer later;
and a running bot keeps serving its old build when the new one is damaged like this.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.errors import IndexCorrupt
from index.ranking.keyword import KeywordIndex
from index.service import Retriever

from .conftest import run_cli

DAMAGED = r"the index build \S+ is damaged.*run `verbatim index build`"


@pytest.fixture
def private(tmp_path, built_settings):
    """A private copy of the session's build that a test may damage."""
    shutil.copytree(built_settings.data_dir, tmp_path / "data", symlinks=True)
    return built_settings.with_(data_dir=tmp_path / "data")


def build_dir(settings) -> Path:
    return settings.data_dir / "builds" / store.current_build_id(settings.data_dir)


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / store.MANIFEST).read_text("utf-8"))


def write_manifest(folder: Path, manifest) -> None:
    (folder / store.MANIFEST).write_text(json.dumps(manifest), "utf-8")


def rehash(folder: Path, name: str) -> None:
    """Makes the manifest agree with a damaged file, so only a check of its content can notice."""
    manifest = manifest_of(folder)
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    write_manifest(folder, manifest)


def npy_bytes(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def npz_bytes(arrays: dict) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def keyword_arrays(folder: Path) -> dict:
    with np.load(folder / store.KEYWORDS) as a:
        return {k: a[k] for k in a.files}


# -- the manifest: valid JSON of the wrong shape ---------------------------------------------------

def _manifest_damages():
    def replace(**fields):
        return lambda m: dict(m, **fields)

    return {
        "a-list": lambda m: [m],
        "a-string": lambda m: "manifest",
        "a-number": lambda m: 42,
        "null": lambda m: None,
        "files-a-list": replace(files=list(store.DATA_FILES)),
        "files-a-string": replace(files="passages.jsonl"),
        "files-digest-a-number": lambda m: dict(m, files=dict(m["files"], **{store.PASSAGES: 5})),
        "files-without-passages": lambda m: dict(m, files={k: v for k, v in m["files"].items() if k != store.PASSAGES}),
        "dim-a-string": replace(dim="384"),
        "dim-missing": lambda m: {k: v for k, v in m.items() if k != "dim"},
        "ann-a-number": replace(ann=3),
        "ann-unknown": replace(ann="annoy"),
        "ann-params-a-list": replace(ann_params=[1, 2]),
        "embedder-a-list": replace(embedder=["e5"]),
        "counts-a-string": replace(counts="many"),
    }


@pytest.mark.parametrize("damage", list(_manifest_damages()))
def test_a_manifest_of_the_wrong_shape_is_damaged(private, damage):
    folder = build_dir(private)
    write_manifest(folder, _manifest_damages()[damage](manifest_of(folder)))
    with pytest.raises(IndexCorrupt, match=DAMAGED):
        store.load_build(private.data_dir)


def test_a_manifest_of_the_wrong_shape_is_one_clear_line_on_the_command_line(private):
    write_manifest(build_dir(private), ["not", "an", "object"])
    for command in (("ask", "Qui est Emmett Shear ?"), ("index", "info")):
        result = run_cli(*command, data_dir=private.data_dir)
        assert result.returncode == 1, result.stdout
        assert result.stderr.count("\n") == 1 and "is damaged" in result.stderr, result.stderr
        assert "verbatim index build" in result.stderr and "unexpected" not in result.stderr


# -- files named outside the build directory --------------------------------------------------------

def test_a_file_named_outside_the_build_is_refused_not_hashed_forever(private):
    folder = build_dir(private)
    manifest = manifest_of(folder)
    manifest["files"][os.path.relpath("/dev/zero", folder)] = "0" * 64
    write_manifest(folder, manifest)
    result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=private.data_dir, timeout=60)
    assert result.returncode == 1 and "is damaged" in result.stderr and "outside" in result.stderr, result.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["/dev/zero", "../manifest.json", "sub/../../x", ".", ""])
def test_a_file_name_that_is_not_a_plain_name_in_the_build_is_refused(private, name):
    folder = build_dir(private)
    manifest = manifest_of(folder)
    manifest["files"][name] = "0" * 64
    write_manifest(folder, manifest)
    with pytest.raises(IndexCorrupt, match=DAMAGED):
        store.load_build(private.data_dir)


@pytest.mark.timeout(60)
def test_a_symlink_escaping_the_build_is_refused_even_with_the_right_hash(private, tmp_path):
    folder = build_dir(private)
    outside = tmp_path / "elsewhere.jsonl"
    shutil.copyfile(folder / store.PASSAGES, outside)  # same bytes, so the sha256 would match
    (folder / store.PASSAGES).unlink()
    (folder / store.PASSAGES).symlink_to(outside)
    with pytest.raises(IndexCorrupt, match=DAMAGED + "|outside"):
        store.load_build(private.data_dir)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_data_file_that_is_a_device_or_a_pipe_is_refused_not_read_forever(private, target):
    folder = build_dir(private)
    (folder / store.SENTENCE_VECTORS).unlink()
    if target == "fifo":
        os.mkfifo(folder / store.SENTENCE_VECTORS)
    else:
        (folder / store.SENTENCE_VECTORS).symlink_to(target)
    with pytest.raises(IndexCorrupt, match=DAMAGED):
        store.load_build(private.data_dir)


@pytest.mark.timeout(60)
def test_a_manifest_that_is_a_pipe_or_a_link_to_a_device_is_refused(private):
    folder = build_dir(private)
    (folder / store.MANIFEST).unlink()
    (folder / store.MANIFEST).symlink_to("/dev/zero")
    with pytest.raises(IndexCorrupt, match=DAMAGED):
        store.load_build(private.data_dir)


# -- data files damaged, their hash recomputed ------------------------------------------------------

def _data_damages():
    """name -> (file, function of the build folder giving the damaged bytes)."""
    def shape(change):
        def damaged(folder):
            arrays = keyword_arrays(folder)
            change(arrays)
            return npz_bytes(arrays)
        return store.KEYWORDS, damaged

    def sentences(make):
        return store.SENTENCE_VECTORS, lambda folder: npy_bytes(make(np.load(folder / store.SENTENCE_VECTORS)))

    def passages(edit):
        def damaged(folder):
            rows = [json.loads(line) for line in (folder / store.PASSAGES).read_text("utf-8").splitlines()]
            edit(rows)
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        return store.PASSAGES, damaged

    def row(i, **fields):
        return lambda rows: rows[i].update(fields)

    return {
        "keywords-garbage": (store.KEYWORDS, lambda folder: b"PK\x03\x04 not really a zip file"),
        "keywords-truncated": (store.KEYWORDS, lambda folder: (folder / store.KEYWORDS).read_bytes()[:2000]),
        "keywords-empty": (store.KEYWORDS, lambda folder: b""),
        "keywords-arrays-missing": (store.KEYWORDS, lambda folder: npz_bytes({"format": keyword_arrays(folder)["format"]})),
        "keywords-a-zip-of-text": (store.KEYWORDS, lambda folder: _zip_of_text()),
        "keywords-indptr-short": shape(lambda a: a.update(indptr=a["indptr"][:-10])),
        "keywords-ids-out-of-range": shape(lambda a: a.update(ids=a["ids"] + 10_000)),
        "keywords-weights-short": shape(lambda a: a.update(weights=a["weights"][:5])),
        "keywords-idf-short": shape(lambda a: a.update(idf=a["idf"][:5])),
        "keywords-form-vectors-wrong-dim": shape(lambda a: a.update(form_vectors=a["form_vectors"][:, :10])),
        "keywords-zipf-short": shape(lambda a: a.update(forms_zipf=a["forms_zipf"][:3])),
        "keywords-size-a-string": shape(lambda a: a.update(size=np.array("many"))),
        "keywords-grams-numbers": shape(lambda a: a.update(grams=np.arange(len(a["grams"])))),
        "keywords-gloss-rows-short": shape(lambda a: _needs_glosses(a).update(gloss_indptr=a["gloss_indptr"][:-3])),
        "keywords-gloss-ids-out-of-range": shape(lambda a: _needs_glosses(a).update(gloss_ids=a["gloss_ids"] + 10**6)),
        "keywords-gloss-words-not-utf8": shape(lambda a: _needs_glosses(a).update(
            gloss_words=np.concatenate([a["gloss_words"], np.array([0xFF, 0xFE], dtype=np.uint8)]))),
        "keywords-alignments-short": shape(lambda a: _needs_alignments(a).update(align_targets=a["align_targets"][:-3])),
        "keywords-alignments-out-of-range": shape(lambda a: _needs_alignments(a).update(
            align_targets=a["align_targets"] + 10**6)),
        "keywords-alignment-cosines-not-finite": shape(lambda a: _needs_alignments(a).update(
            align_cosines=np.full(len(a["align_cosines"]), np.nan, dtype=np.float32))),
        "sentences-empty": (store.SENTENCE_VECTORS, lambda folder: b""),
        "sentences-garbage": (store.SENTENCE_VECTORS, lambda folder: b"\x93NUMPY garbage"),
        "sentences-truncated": (store.SENTENCE_VECTORS,
                                lambda folder: (folder / store.SENTENCE_VECTORS).read_bytes()[:5000]),
        "sentences-one-dimensional": sentences(lambda v: v[:, 0].copy()),
        "sentences-wrong-dim": sentences(lambda v: v[:, :100].copy()),
        "sentences-integers": sentences(lambda v: (v * 100).astype(np.int64)),
        "sentences-not-finite": sentences(lambda v: np.where(np.arange(v.shape[1]) == 3, np.nan, v).astype(np.float32)),
        "sentences-pickled-objects": sentences(lambda v: np.array([object()] * len(v), dtype=object)),
        "passages-not-utf8": (store.PASSAGES, lambda folder: b"\xff\xfe" + (folder / store.PASSAGES).read_bytes()),
        "passages-row-a-list": passages(lambda rows: rows.__setitem__(0, [1, 2, 3])),
        "passages-text-a-number": passages(row(1, text=12)),
        "passages-id-out-of-order": passages(row(2, id=7)),
        "passages-span-outside-text": passages(lambda rows: rows[0].update(sentences=[[0, 10_000]])),
        "passages-span-not-numbers": passages(lambda rows: rows[0].update(sentences=[["a", "b"]])),
        "passages-location-unknown-field": passages(lambda rows: rows[0]["location"].update(colour="red")),
        "passages-location-start-a-string": passages(lambda rows: rows[0]["location"].update(start="0")),
        "passages-a-blank-line": (store.PASSAGES, lambda folder: b"\n" + (folder / store.PASSAGES).read_bytes()),
        "faiss-garbage": (store.PASSAGE_VECTORS, lambda folder: b"garbage"),
    }


def _needs_glosses(arrays: dict) -> dict:
    if "gloss_forms" not in arrays:
        pytest.skip("this build has no English-French glosses (no dictionary installed)")
    return arrays


def _needs_alignments(arrays: dict) -> dict:
    if "align_forms" not in arrays:
        pytest.skip("this build has no English alignments (no dictionary installed)")
    return arrays


def _zip_of_text() -> bytes:
    """A zip whose members are not arrays at all, the format marker included."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("format.npy", npy_bytes(np.array(KeywordIndex.FORMAT))[:20])
        z.writestr("grams.npy", "hello")
    return out.getvalue()


@pytest.mark.parametrize("damage", list(_data_damages()))
def test_a_damaged_data_file_with_its_hash_recomputed_is_damaged(private, damage):
    name, damaged = _data_damages()[damage]
    folder = build_dir(private)
    content = damaged(folder)
    (folder / name).write_bytes(content)
    rehash(folder, name)
    with pytest.raises(IndexCorrupt, match=DAMAGED):
        store.load_build(private.data_dir)


@pytest.mark.parametrize("damage", ["keywords-garbage", "sentences-empty", "passages-row-a-list"])
def test_a_damaged_data_file_is_one_clear_line_on_the_command_line(private, damage):
    name, damaged = _data_damages()[damage]
    folder = build_dir(private)
    (folder / name).write_bytes(damaged(folder))
    rehash(folder, name)
    result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=private.data_dir)
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("\n") == 1 and "is damaged" in result.stderr, result.stderr
    assert "unexpected" not in result.stderr


# -- a running bot keeps its build --------------------------------------------------------------

def _new_build_damaged(settings, how) -> str:
    """Copies the current build to a newer id, damages it with `how(folder)` and makes it current."""
    old = store.current_build_id(settings.data_dir)
    new = "99999999T999999Z-damaged"
    shutil.copytree(settings.data_dir / "builds" / old, settings.data_dir / "builds" / new)
    folder = settings.data_dir / "builds" / new
    manifest = manifest_of(folder)
    write_manifest(folder, dict(manifest, build_id=new))
    how(folder)
    store.switch_current(settings.data_dir, new)
    return new


def _data(damage):
    def how(folder):
        name, damaged = _data_damages()[damage]
        (folder / name).write_bytes(damaged(folder))
        rehash(folder, name)
    return how


REFRESH_DAMAGES = {
    "manifest-a-list": lambda folder: write_manifest(folder, [manifest_of(folder)]),
    "files-a-string": lambda folder: write_manifest(folder, dict(manifest_of(folder), files="x")),
    "file-outside": lambda folder: write_manifest(
        folder, dict(manifest_of(folder), files=dict(manifest_of(folder)["files"], **{"../../x": "0" * 64}))),
    "keywords-garbage": _data("keywords-garbage"),
    "keywords-indptr-short": _data("keywords-indptr-short"),
    "sentences-one-dimensional": _data("sentences-one-dimensional"),
    "passages-text-a-number": _data("passages-text-a-number"),
}


@pytest.mark.parametrize("damage", list(REFRESH_DAMAGES))
def test_refresh_keeps_serving_the_old_build_when_the_new_one_is_damaged(private, damage):
    retriever = Retriever.open(private, build_if_missing=False)
    old = retriever.build_id
    _new_build_damaged(private, REFRESH_DAMAGES[damage])
    assert retriever.refresh() is False
    assert retriever.build_id == old
    assert "Twitch" in retriever.ask("Qui est Emmett Shear ?").hits[0].passage.text


def test_the_location_check_follows_the_location_dataclass():
    """A field added to Location is checked by its annotation, never refused as unknown."""
    from dataclasses import fields

    from index.build_checks import _LOCATION_TYPES
    from index.model import Location

    assert set(_LOCATION_TYPES) == {f.name for f in fields(Location)}
    assert _LOCATION_TYPES["section"] == (str, type(None)) and _LOCATION_TYPES["start"] == (int,)
