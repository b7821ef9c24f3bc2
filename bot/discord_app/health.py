"""Health check for containers: exit 0 if the bot wrote a recent status saying it is connected.

The bot rewrites `<data dir>/discord/status.json` every few seconds from its event loop, so a
stale file means a stuck loop or a dead process, and `ready: false` means no gateway session.
"""
from __future__ import annotations

import json
import sys
import time

MAX_AGE_SECONDS = 60


def main() -> int:
    from index.settings import Settings

    path = Settings.from_env().data_dir / "discord" / "status.json"
    try:
        status = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        print(f"unhealthy: no readable status at {path} ({e})")
        return 1
    age = time.time() - float(status.get("at", 0))
    if age > MAX_AGE_SECONDS:
        print(f"unhealthy: status is {age:.0f} s old (event loop stuck or bot stopped)")
        return 1
    if not status.get("ready"):
        print("unhealthy: not connected to Discord")
        return 1
    print(f"healthy: build {status.get('build_id')}, {status.get('answered')} answered, "
          f"max loop stall {status.get('max_loop_stall_ms')} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
