"""Which build a rollback returns to, and which one the next rollback would: one rule for files and PostgreSQL.

Not simply the newest older build: after `rollback` from B to A and a new build C, rolling back returns to
A, which was serving, not to B, which the user rejected. A `previous` that is no longer a complete build
(pruned, deleted by hand, damaged half-way) is passed over for the newest complete build older than the
current one.
"""
from __future__ import annotations


def rollback_plan(current: str | None, previous: str | None, complete: list[str]) -> tuple[str | None, str | None]:
    """(the build to make current, or None when there is none; the build to remember as the previous one
    after it). `complete` is every complete build id, oldest first (ids sort by creation time)."""
    older = [b for b in complete if current is None or b < current]
    target = previous if previous in complete and previous != current else (older[-1] if older else None)
    if target is None:
        return None, None
    further = next((b for b in reversed(complete) if b < target and b != current), None)
    return target, further
