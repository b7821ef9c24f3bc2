"""Writes the answers store never took, kept on disk for the next start: one file per process
(`unsaved-answers-<pid>.jsonl`), appended under `fcntl.flock`, so processes sharing a data directory
(shards, several containers on one volume) never overwrite each other's.

At start a process claims the files of processes that are gone (its own pid's too: a container's bot
has the same pid at every start) and the single file of older versions (`unsaved-answers.jsonl`), each
by an atomic rename to a name of its own: of two processes starting at once, one gets a file and the
other finds it gone, so nothing is replayed twice. A claimed file is read under the lock (a writer
still appending finishes first) and removed once its records are queued; a process killed meanwhile
leaves it under its own pid, for the next start to claim.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import uuid
from pathlib import Path

from index.private_files import FILE_MODE, file_mode, private_dir

from .processes import could_have_written

log = logging.getLogger(__name__)

LEGACY_NAME = "unsaved-answers.jsonl"
_NAME = re.compile(r"unsaved-answers-(\d+)(?:-claimed-[0-9a-f]+)?\.jsonl")


def own_path(directory: Path, pid: int | None = None) -> Path:
    return directory / f"unsaved-answers-{os.getpid() if pid is None else pid}.jsonl"


def keep(path: Path, records: list[dict]) -> None:
    """Appends `records` (one JSON line each) to `path`, owner-only, under an exclusive lock, synced."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        os.fchmod(f.fileno(), file_mode())
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write("".join(json.dumps(r) + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())


def claim(directory: Path) -> tuple[list[dict], list[Path]]:
    """Every record of the files this process may replay (see the module doc), each file taken once, and
    the files as claimed (to `forget` once the records are queued)."""
    records: list[dict] = []
    claimed: list[Path] = []
    for path in sorted(directory.glob("unsaved-answers*.jsonl")):
        if not _claimable(path):
            continue
        taken = directory / f"unsaved-answers-{os.getpid()}-claimed-{uuid.uuid4().hex[:8]}.jsonl"
        try:
            os.rename(path, taken)  # atomic: another process claiming it at the same time gets ENOENT
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("cannot claim %s (%s)", path, e)
            continue
        records += _read(taken, path)
        claimed.append(taken)
    return records, claimed


def forget(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _claimable(path: Path) -> bool:
    if path.name == LEGACY_NAME:
        return True
    match = _NAME.fullmatch(path.name)
    if not match:
        return False
    pid = int(match[1])
    if pid == os.getpid():
        return True  # written by an earlier process with this pid, or by this one's closed keeper
    try:
        written = path.stat().st_mtime
    except OSError:
        return False
    return not could_have_written(pid, written)


def _read(taken: Path, origin: Path) -> list[dict]:
    try:
        with open(taken, encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_SH)  # a writer that opened it before the rename finishes first
            lines = f.read().splitlines()
    except OSError as e:
        log.warning("cannot read %s (%s)", taken, e)
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            log.warning("skipped a damaged line in %s", origin)
    return records
