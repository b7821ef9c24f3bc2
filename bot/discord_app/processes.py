"""Whether the process that wrote a file is still running: its pid alone cannot say, since pids are
reused (a container's bot is pid 1 at every start), so the process's start time, read from /proc,
must match too. Used by the health check (status files) and the unsaved answers (files to claim)."""
from __future__ import annotations

import os
from functools import lru_cache

START_TOLERANCE_S = 1.0  # /proc's boot time is whole seconds; start times count clock ticks


@lru_cache(maxsize=1)
def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def started_at(pid: int) -> float | None:
    """The Unix time process `pid` started, or None when there is no such process (or no /proc)."""
    boot = _boot_time()
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="utf-8", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # the command name in (…) may hold spaces
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK") if boot is not None else None
    except (OSError, ValueError, IndexError):
        return None


def is_running(pid: int, started: float | None) -> bool:
    """Whether process `pid` is the one that started at `started` (None: any process with that pid)."""
    if pid <= 0:
        return False
    now = started_at(pid)
    if now is None:
        return _boot_time() is None and _exists(pid)  # no /proc: the pid is all there is
    return started is None or abs(now - started) <= START_TOLERANCE_S


def could_have_written(pid: int, at: float) -> bool:
    """Whether a running process `pid` started before `at` (a file's mtime): if it started later, it
    reuses the pid of the writer, which is gone."""
    if pid <= 0:
        return False
    now = started_at(pid)
    if now is None:
        return _boot_time() is None and _exists(pid)
    return now <= at + START_TOLERANCE_S


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    except OSError:
        return False
    return True
