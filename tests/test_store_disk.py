"""A read-only data directory and a full disk, for real: small tmpfs mounts (the tests run as root,
where permissions stop no write). Checked before any model work, named with the fix, and a build
that fails half-way leaves no `.partial` behind and the current build answering.

Where mounting is impossible (no root), the read-only tests fall back to `chattr +i`; the
half-way failure is then caused by an injected ENOSPC at the file-write layer instead.
"""
from __future__ import annotations

import errno
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.build import build_index
from index.errors import VerbatimError
from index.service import Retriever

from .conftest import CORPUS_DIR, run_cli

# A model that cannot load: if the command gets as far as loading it, it fails with another message.
NO_MODEL = {"VERBATIM_EMBEDDER": "sentence-transformers", "VERBATIM_MODEL": "/nonexistent/model"}


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A mount point of a given size; skipped when this machine cannot mount."""
    mounted: list[Path] = []

    def make(size: str) -> Path:
        where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        if not _mount_tmpfs(where, size):
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        _umount(where)


@pytest.fixture
def read_only(tmp_path):
    """Makes a directory read-only for real: a read-only remount of a tmpfs, else `chattr +i`."""
    undo: list = []

    def make(folder: Path, content_from: Path | None = None) -> Path:
        where = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
        if _mount_tmpfs(where, "64m"):
            target = where / folder.name
            shutil.copytree(content_from, target, symlinks=True) if content_from else target.mkdir()
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
            undo.append(lambda: _umount(where))
            return target
        target = tmp_path / folder.name
        shutil.copytree(content_from, target, symlinks=True) if content_from else target.mkdir()
        if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode != 0:
            pytest.skip("neither a read-only mount nor chattr +i works here")
        undo.append(lambda: subprocess.run(["chattr", "-i", str(target)], capture_output=True))
        return target

    yield make
    for step in undo:
        step()


def _assert_names_the_directory_and_the_fix(result, folder: Path, what: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(folder) in result.stderr and what in result.stderr, result.stderr
    assert "VERBATIM_DATA_DIR" in result.stderr and "unexpected" not in result.stderr


def test_index_build_in_a_read_only_data_dir_is_refused_before_the_model_loads(read_only, tmp_path):
    data = read_only(tmp_path / "data")
    result = run_cli("index", "build", data_dir=data, extra_env=NO_MODEL)
    _assert_names_the_directory_and_the_fix(result, data, "cannot write")


def test_the_first_ask_in_a_read_only_data_dir_is_refused_before_the_model_loads(read_only, tmp_path):
    data = read_only(tmp_path / "data")
    result = run_cli("ask", "Qui est Emmett Shear ?", data_dir=data, extra_env=NO_MODEL)
    _assert_names_the_directory_and_the_fix(result, data, "cannot write")


def test_a_read_only_data_dir_with_a_build_still_answers(read_only, built_settings):
    data = read_only(built_settings.data_dir, content_from=built_settings.data_dir)
    result = run_cli("ask", "--json", "Qui est Emmett Shear ?", data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "Twitch" in result.stdout


def test_a_data_dir_that_cannot_be_created_is_refused(read_only, tmp_path):
    parent = read_only(tmp_path / "parent")
    result = run_cli("index", "build", data_dir=parent / "data", extra_env=NO_MODEL)
    _assert_names_the_directory_and_the_fix(result, parent / "data", "cannot write")


def test_a_full_disk_is_refused_before_the_model_loads_with_the_space_needed(small_disk):
    disk = small_disk("256k")
    result = run_cli("index", "build", data_dir=disk / "data", extra_env=NO_MODEL)
    _assert_names_the_directory_and_the_fix(result, disk / "data", "free")
    assert "needs about" in result.stderr
    assert not list((disk / "data").glob("builds/*"))


def test_the_estimate_covers_a_real_build(built_settings):
    """The documented estimate (index/preflight.py) is not below what a build of the corpus takes."""
    from index.preflight import estimate_build_bytes

    folder = built_settings.data_dir / "builds" / store.current_build_id(built_settings.data_dir)
    size = sum(p.stat().st_size for p in folder.iterdir())
    estimate = estimate_build_bytes(CORPUS_DIR)
    assert size < estimate < 10 * size, (size, estimate)


def _fill(disk: Path) -> None:
    """Fills the disk to the last block."""
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC


def _a_build_that_fills_the_disk_while_embedding(settings, e5_embedder, disk: Path):
    filled = []

    def progress(done: int, total: int) -> None:  # runs during embedding: after the preflight
        if not filled:
            _fill(disk)
            filled.append(True)

    with pytest.raises(VerbatimError) as failed:
        build_index(settings, e5_embedder, progress=progress, use_cache=False)  # the cache would embed nothing
    assert filled, "the build never reached embedding"
    return str(failed.value)


def _copy_build(built_settings, data: Path):
    shutil.copytree(built_settings.data_dir, data, symlinks=True)
    return built_settings.with_(data_dir=data)


def test_a_disk_that_fills_during_the_build_leaves_no_partial_and_the_old_build_answering(
        small_disk, built_settings, e5_embedder):
    disk = small_disk("16m")
    settings = _copy_build(built_settings, disk / "data")
    before = store.current_build_id(settings.data_dir)
    message = _a_build_that_fills_the_disk_while_embedding(settings, e5_embedder, disk)
    assert str(settings.data_dir) in message and "full" in message and "VERBATIM_DATA_DIR" in message, message
    assert not list((settings.data_dir / "builds").glob("*.partial"))
    assert store.current_build_id(settings.data_dir) == before
    (disk / "filler").unlink()
    assert "Twitch" in Retriever.open(settings, build_if_missing=False).ask("Qui est Emmett Shear ?").hits[0].passage.text


@pytest.mark.parametrize("writer", ["np.save", "np.savez", "open"])
def test_a_write_failing_with_enospc_cleans_up_the_partial_build(tmp_path, built_settings, e5_embedder,
                                                                 monkeypatch, writer):
    """The same, with ENOSPC injected at each file-write layer (no mount needed)."""
    settings = _copy_build(built_settings, tmp_path / "data")
    before = store.current_build_id(settings.data_dir)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    if writer == "open":
        real_opener = store.private_opener
        monkeypatch.setattr(store, "private_opener", lambda path, flags: (
            no_space(path) if path.endswith(store.MANIFEST) else real_opener(path, flags)))
    else:
        monkeypatch.setattr(np, writer.split(".")[1], no_space)
    with pytest.raises(VerbatimError, match="full.*VERBATIM_DATA_DIR"):
        build_index(settings, e5_embedder, use_cache=False)
    assert not list((settings.data_dir / "builds").glob("*.partial"))
    assert store.current_build_id(settings.data_dir) == before
