"""Files under the data directory hold personal data (the bot's store keeps user ids, names and
questions beside the index builds), so what index code creates there is private to its owner:
directories 0700, files 0600, or stricter when the operator's umask says so.

Directories always keep the owner's rwx (0700): a umask such as 0277 would otherwise leave a build
unable to write into its own directory. Files get 0600 & ~umask (0400 under umask 0277).

Two kinds of directory: the data directory itself may be the operator's and keeps its mode
(`make_private_dir`); the ones only Verbatim writes (`discord/`, `embeddings/`) are created or
narrowed to owner-only (`private_dir`), as are files left wider by an older version (`private_file`).
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def current_umask() -> int:
    """The process umask, read without changing it where Linux says it (/proc), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return FILE_MODE & ~current_umask()


def make_private_dir(path: Path) -> None:
    """Creates `path` (and missing parents, which get the usual mode) as a 0700 directory. An existing
    directory keeps its mode: it may be the operator's, shared on purpose."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise
        return
    os.chmod(path, DIR_MODE)  # mkdir's mode went through the umask; the owner keeps rwx whatever it is


def private_opener(path: str, flags: int) -> int:
    """For `open(..., opener=private_opener)`: a new file is created 0600 (minus the umask's bits)."""
    return os.open(path, flags, FILE_MODE)


def make_private(path: Path) -> None:
    """Gives a file some other writer created (FAISS, numpy) the private mode."""
    os.chmod(path, file_mode())


def _narrow(path: Path, wanted: int) -> None:
    """Drops permission bits beyond `wanted` & ~umask (never adds any)."""
    mode = path.stat().st_mode & 0o777
    allowed = wanted & ~current_umask()
    if mode & ~allowed:
        os.chmod(path, mode & allowed)


def private_dir(path: Path) -> Path:
    """Creates `path` (and missing parents) owner-only, or narrows it if it already exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Makes sure `path` exists and is owner-only (before a library such as SQLite opens it: its
    journals copy the database file's mode)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    _narrow(path, FILE_MODE)
    return path


def narrow_if_exists(path: Path) -> None:
    try:
        _narrow(path, FILE_MODE)
    except FileNotFoundError:
        pass


def write_private(path: Path, text: str) -> None:
    """Atomically replaces `path` with `text`, owner-only from the first byte."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, file_mode())  # a leftover .tmp may be older and wider
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
    finally:
        if fd != -1:
            os.close(fd)
    os.replace(tmp, path)
