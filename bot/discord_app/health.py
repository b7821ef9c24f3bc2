"""Health check for containers and supervisors: exit 0 if every running bot wrote a recent status saying
it is connected.

Each bot process rewrites its own `<data dir>/discord/status*.json` every few seconds from its event
loop (`status.json`, or `status-shards-0-1.json` for a sharded one), so a stale file means a stuck loop,
and `ready: false` means no gateway session. With no options, every status file of a running process is
checked and reported, one line each: processes sharing a data directory (shards) are all checked at
once, and the files left by stopped ones are passed over. A process is running when its pid exists and
started when the one that wrote the file did (its start in clock ticks since this boot, from /proc): a
reused pid is not the bot. With the
shard options of one `verbatim run` (`--shards N --shard-ids …`), only that process's file is checked.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

MAX_AGE_SECONDS = 60


def discord_dir() -> Path:
    from index.settings import Settings

    return Settings.from_env().data_dir / "discord"


def status_path(options: argparse.Namespace, env: dict[str, str] | None = None) -> Path:
    """One process's status file: the shard settings (options, environment, `.env`) name it as the bot does."""
    from .config import read_dotenv
    from .shards import shards_from, status_file_name

    merged = read_dotenv(Path(".env"))
    merged.update(os.environ if env is None else env)
    shards = shards_from(merged, options.shards, options.shard_ids)
    return discord_dir() / status_file_name(shards)


def main(argv: list[str] | None = None) -> int:
    from index.errors import ConfigError

    parser = argparse.ArgumentParser(prog="python -m bot.discord_app.health", description=__doc__)
    parser.add_argument("--shards", metavar="N", help="check only the process run with these shard options "
                        "(as given to verbatim run; the shard count may come from VERBATIM_DISCORD_SHARDS)")
    parser.add_argument("--shard-ids", metavar="IDS", help="as given to verbatim run (env VERBATIM_DISCORD_SHARD_IDS)")
    options = parser.parse_args(argv)
    try:
        if options.shards is None and options.shard_ids is None:
            return _check_running(discord_dir())
        path = status_path(options)
    except ConfigError as e:
        print(f"unhealthy: {e}")
        return 1
    try:
        status = read_status(path)
    except OSError as e:
        print(f"unhealthy: no readable status at {path} ({e.strerror or e}){_other_status_files(path)}")
        return 1
    except ValueError as e:
        print(f"unhealthy: the status at {path} is damaged ({e})")
        return 1
    healthy, line = verdict(status)
    print(line)
    return 0 if healthy else 1


FUTURE_SKEW_SECONDS = 60  # a status written "later" than now by more than this was not written by a live clock


def read_status(path: Path) -> dict:
    """The status a bot process wrote, or ValueError saying in words what is wrong with it."""
    try:
        status = json.loads(path.read_text("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(status, dict):
        raise ValueError("not a JSON object")
    status_time(status)
    return status


def status_time(status: dict) -> float:
    """When the status was written (Unix time), or ValueError when that is missing or not a real time."""
    at = status.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
        raise ValueError(f"its time 'at' is {json.dumps(at)[:40]}, not a number of seconds")
    return float(at)


def verdict(status: dict, now: float | None = None) -> tuple[bool, str]:
    """(healthy, the line that says so) for one process's status."""
    now = time.time() if now is None else now
    try:
        age = now - status_time(status)
    except ValueError as e:
        return False, f"unhealthy: the status is damaged ({e})"
    running = _shards(status)
    if age < -FUTURE_SKEW_SECONDS:
        return False, (f"unhealthy: {running + ': ' if running else ''}status is dated {-age:.0f} s in the future "
                       "(a clock set back, or a status not written by the bot)")
    if age > MAX_AGE_SECONDS:
        return False, f"unhealthy: {running + ': ' if running else ''}status is {age:.0f} s old (event loop stuck " \
                      "or bot stopped)"
    if not status.get("ready"):
        return False, f"unhealthy: not connected to Discord{' (' + running + ')' if running else ''}"
    return True, (f"healthy: {running + ', ' if running else ''}build {status.get('build_id')}, "
                  f"{status.get('answered')} answered, max loop stall {status.get('max_loop_stall_ms')} ms")


def _check_running(directory: Path) -> int:
    """Every status file of a running process, one line each; 1 if any is unhealthy or none runs."""
    from .processes import could_have_written, is_running

    live, stopped, unreadable = [], 0, []
    for path in sorted(directory.glob("status*.json")):
        try:
            status = read_status(path)
            if isinstance(status.get("pid"), bool) or not isinstance(status.get("pid"), int):
                raise ValueError(f"its pid is {json.dumps(status.get('pid'))[:40]}, not a process number")
            pid = status["pid"]
            process, started = status.get("process"), status.get("started")
            if process is not None:
                alive = is_running(pid, process=str(process))
            elif started is not None:  # written before statuses named their process
                alive = is_running(pid, started=float(started))
            else:
                alive = could_have_written(pid, status_time(status))
        except OSError as e:
            unreadable.append(f"{path.name} ({e.strerror or e})")
            continue
        except (ValueError, TypeError) as e:
            unreadable.append(f"{path.name}: damaged ({e})")
            continue
        if alive:
            live.append((path, status))
        else:
            stopped += 1
    passed_over = f" ({stopped} status file(s) of stopped processes passed over)" if stopped else ""
    for bad in unreadable:
        print(f"unhealthy: unreadable status {bad}")
    if not live:
        if not unreadable:
            print(f"unhealthy: no running bot has a status in {directory}{passed_over}")
        return 1
    healthy = not unreadable
    for path, status in live:
        ok, line = verdict(status)
        healthy = healthy and ok
        print(f"{line} (pid {status['pid']}, {path.name})")
    if passed_over and healthy:
        print(passed_over.strip(" ()"))
    return 0 if healthy else 1


def _other_status_files(path: Path) -> str:
    """A hint when the status sought is missing but other processes write theirs here."""
    others = sorted(p.name for p in path.parent.glob("status*.json") if p != path)
    if not others:
        return ""
    return (f"; this data directory has {', '.join(others)}: give the health check the shard settings of "
            "verbatim run (--shards/--shard-ids), or none to check every running process")


def _shards(status: dict) -> str:
    """ "shards 0,1 of 4" from a sharded process's status, "" for an unsharded one."""
    from .shards import Shards

    ids, count = status.get("shards"), status.get("shard_count")
    return Shards(count, tuple(ids)).describe() if ids and count else ""


if __name__ == "__main__":
    sys.exit(main())
