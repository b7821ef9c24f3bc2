"""The bot's files hold personal data (user ids, display names, questions): owner-only, always.

Directories are made 0700 and files 0600, masked by the process umask so an operator's stricter
umask still wins; files and directories left wider by an older version are narrowed on open.
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def current_umask() -> int:
    """The umask, read without changing it (os.umask would briefly open a window for other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _narrow(path: Path, wanted: int) -> None:
    """Drop permission bits beyond `wanted` (never adds any)."""
    mode = path.stat().st_mode & 0o777
    allowed = wanted & ~current_umask()
    if mode & ~allowed:
        os.chmod(path, mode & allowed)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only, or narrow it if it already exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure `path` exists and is owner-only (before a library such as SQLite opens it)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    _narrow(path, FILE_MODE)
    return path


def narrow_if_exists(path: Path) -> None:
    try:
        _narrow(path, FILE_MODE)
    except FileNotFoundError:
        pass


def write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, owner-only from the first byte."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE & ~current_umask())  # a leftover .tmp may be older and wider
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
    finally:
        if fd != -1:
            os.close(fd)
    os.replace(tmp, path)
