"""Health check for containers: exit 0 if the bot wrote a recent status saying it is connected.

The bot rewrites `<data dir>/discord/status.json` every few seconds from its event loop, so a
stale file means a stuck loop or a dead process, and `ready: false` means no gateway session.
A sharded process has its own status file, named after its shards, and is healthy only while every
one of its shards holds a session: give the health check the same shard settings as `verbatim run`
(VERBATIM_DISCORD_SHARDS / _SHARD_IDS, or `--shards N --shard-ids …`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

MAX_AGE_SECONDS = 60


def status_path(options: argparse.Namespace, env: dict[str, str] | None = None) -> Path:
    """This process's status file: the shard settings (options, environment, `.env`) name it as the bot does."""
    from index.settings import Settings

    from .config import read_dotenv
    from .shards import shards_from, status_file_name

    merged = read_dotenv(Path(".env"))
    merged.update(os.environ if env is None else env)
    shards = shards_from(merged, options.shards, options.shard_ids)
    return Settings.from_env().data_dir / "discord" / status_file_name(shards)


def main(argv: list[str] | None = None) -> int:
    from index.errors import ConfigError

    parser = argparse.ArgumentParser(prog="python -m bot.discord_app.health", description=__doc__)
    parser.add_argument("--shards", metavar="N", help="as given to verbatim run (env VERBATIM_DISCORD_SHARDS)")
    parser.add_argument("--shard-ids", metavar="IDS", help="as given to verbatim run (env VERBATIM_DISCORD_SHARD_IDS)")
    try:
        path = status_path(parser.parse_args(argv))
    except ConfigError as e:
        print(f"unhealthy: {e}")
        return 1
    try:
        status = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        print(f"unhealthy: no readable status at {path} ({e}){_other_status_files(path)}")
        return 1
    age = time.time() - float(status.get("at", 0))
    if age > MAX_AGE_SECONDS:
        print(f"unhealthy: status is {age:.0f} s old (event loop stuck or bot stopped)")
        return 1
    running = _shards(status)
    if not status.get("ready"):
        print(f"unhealthy: not connected to Discord{' (' + running + ')' if running else ''}")
        return 1
    print(f"healthy: {running + ', ' if running else ''}build {status.get('build_id')}, {status.get('answered')} answered, "
          f"max loop stall {status.get('max_loop_stall_ms')} ms")
    return 0


def _other_status_files(path: Path) -> str:
    """A hint when the status sought is missing but sharded processes write theirs here."""
    others = sorted(p.name for p in path.parent.glob("status*.json") if p != path)
    if not others:
        return ""
    return (f"; this data directory has {', '.join(others)}: give the health check the shard settings of "
            "verbatim run (--shards/--shard-ids or VERBATIM_DISCORD_SHARDS/_SHARD_IDS)")


def _shards(status: dict) -> str:
    """ "shards 0,1 of 4" from a sharded process's status, "" for an unsharded one."""
    from .shards import Shards

    ids, count = status.get("shards"), status.get("shard_count")
    return Shards(count, tuple(ids)).describe() if ids and count else ""


if __name__ == "__main__":
    sys.exit(main())
