"""What index code creates under the data directory is private: directories 0700, files 0600, or
stricter when the operator's umask is (files get 0600 & ~umask; directories keep the owner's rwx,
which the build needs to write into them)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from index import store
from index.build import build_index
from index.settings import Settings

from .conftest import CORPUS_DIR


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_to(mask: int) -> None:
        os.umask(mask)

    yield set_to
    os.umask(old)


@pytest.mark.parametrize("mask, file_mode", [(0o022, 0o600), (0o002, 0o600), (0o077, 0o600), (0o277, 0o400)])
def test_a_build_creates_private_directories_and_files(tmp_path, e5_embedder, umask, mask, file_mode):
    umask(mask)
    data = tmp_path / "data"
    for _ in range(2):  # the second build records the first as rollback's target (data/previous)
        build_index(Settings.from_env(env={}, data_dir=str(data), corpus_dir=str(CORPUS_DIR)), e5_embedder)
    folder = data / "builds" / store.current_build_id(data)
    for directory in (data, data / "builds", folder):
        assert mode(directory) == 0o700, (directory, oct(mode(directory)))
    files = [data / "build.lock", data / store.PREVIOUS, *folder.iterdir()]
    assert {p.name for p in folder.iterdir()} == {store.MANIFEST, store.EMBEDDING_KEYS, *store.DATA_FILES}
    for path in files:
        assert mode(path) == file_mode, (path, oct(mode(path)))
    assert (data / "current").is_symlink()  # a link has no mode of its own on Linux: its target's counts


def test_an_old_lock_file_is_made_private(tmp_path, e5_embedder, umask):
    umask(0o022)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "build.lock").write_text("")
    os.chmod(data / "build.lock", 0o644)
    build_index(Settings.from_env(env={}, data_dir=str(data), corpus_dir=str(CORPUS_DIR)), e5_embedder)
    assert mode(data / "build.lock") == 0o600


def test_an_existing_data_directory_keeps_its_mode(tmp_path, e5_embedder, umask):
    """The operator's own directory (maybe shared on purpose) is not changed; what is created in it is private."""
    umask(0o022)
    data = tmp_path / "shared"
    data.mkdir()
    os.chmod(data, 0o750)
    build_index(Settings.from_env(env={}, data_dir=str(data), corpus_dir=str(CORPUS_DIR)), e5_embedder)
    assert mode(data) == 0o750 and mode(data / "builds") == 0o700
