"""Whether the process that wrote a file is still running: its pid alone cannot say, since pids are
reused (a container's bot is pid 1 at every start), so the process's start must match too. Used by the
health check (status files) and the unsaved answers (files to claim).

A process is named by its start in clock ticks since boot, with the boot's id (`identity`): neither
moves when the wall clock is stepped (NTP at boot, a resumed VM), whereas a Unix start time computed
from /proc/stat's btime does, so two processes reading it a step apart disagree by the step.

/proc may belong to another pid namespace than ours (a sandbox or CI runner that unshares pids but keeps
the host's /proc): /proc/<pid> is then some other process, or none. Each process's NSpid line says
what its pid is in every namespace it is in, so our pids are found by that, not by the directory name."""
from __future__ import annotations

import os
import time
from functools import lru_cache

START_TOLERANCE_S = 1.0  # for statuses written before identities: a Unix start time from whole-second btime


def identity(pid: int) -> str | None:
    """ "<boot id>:<start ticks>" for process `pid`, or None when there is no such process (or no /proc)."""
    ticks = _start_ticks(pid)
    return None if ticks is None else f"{_boot_id()}:{ticks}"


def started_at(pid: int) -> float | None:
    """The Unix time process `pid` started, by the wall clock as it reads now (for people, and to compare
    with a file's mtime), or None when there is no such process (or no /proc)."""
    ticks, uptime = _start_ticks(pid), _uptime()
    if ticks is None or uptime is None:
        return None
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def is_running(pid: int, process: str | None = None, started: float | None = None) -> bool:
    """Whether process `pid` is the one named `process` (an `identity`) or, for older statuses, the one
    that started at Unix time `started`; with neither, any process with that pid."""
    if pid <= 0:
        return False
    if _proc_unusable():
        return _exists(pid)  # no /proc to read: the pid is all there is
    if process is not None:
        return identity(pid) == process
    now = started_at(pid)
    if now is None:
        return False
    return started is None or abs(now - started) <= START_TOLERANCE_S


def could_have_written(pid: int, at: float) -> bool:
    """Whether a running process `pid` started before `at` (a file's mtime): if it started later, it
    reuses the pid of the writer, which is gone."""
    if pid <= 0:
        return False
    if _proc_unusable():
        return _exists(pid)
    now = started_at(pid)
    return now is not None and now <= at + START_TOLERANCE_S


def _start_ticks(pid: int) -> int | None:
    directory = _proc_dir(int(pid))
    if directory is None:
        return None
    try:
        with open(f"{directory}/stat", encoding="utf-8", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # the command name in (…) may hold spaces
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _uptime() -> float | None:
    try:
        with open("/proc/uptime", encoding="ascii") as uptime:
            return float(uptime.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@lru_cache(maxsize=1)
def _boot_id() -> str:
    """This boot's random id: start ticks restart from zero at each boot. Empty where the kernel hides it."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot_id:
            return boot_id.read().strip()
    except OSError:
        return ""


def _nspid(proc_dir: str) -> list[int]:
    """The process's pid in each pid namespace it belongs to, outermost (/proc's own) first."""
    try:
        with open(f"{proc_dir}/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return [int(field) for field in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


@lru_cache(maxsize=1)
def _our_level() -> int | None:
    """Where our pid namespace sits in /proc's NSpid lists: 0 when /proc is ours, None when unknown."""
    try:
        if os.readlink("/proc/self") == str(os.getpid()):
            return 0
    except OSError:
        return None
    ours = _nspid("/proc/self")
    return len(ours) - 1 if ours and ours[-1] == os.getpid() else None


def _proc_dir(pid: int) -> str | None:
    """The /proc directory of the process that is `pid` in our namespace, if any."""
    level = _our_level()
    if level == 0:
        return f"/proc/{pid}"
    if level is None:
        return None
    try:
        names = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for name in names:
        nspid = _nspid(f"/proc/{name}")
        if len(nspid) > level and nspid[level] == pid:
            return f"/proc/{name}"
    return None


def _proc_unusable() -> bool:
    """No /proc, or one whose processes we cannot match to our pids."""
    return _uptime() is None or _our_level() is None


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
