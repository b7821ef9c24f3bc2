"""Files under the data directory hold personal data (the bot's store keeps user ids, names and
questions beside the index builds), so what index code creates there is private to its owner:
directories 0700, files 0600, or stricter when the operator's umask says so.

Directories always keep the owner's rwx (0700): a umask such as 0277 would otherwise leave a build
unable to write into its own directory. Files get 0600 & ~umask (0400 under umask 0277).
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
