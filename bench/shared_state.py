#!/usr/bin/env python
"""What the shared bot state on PostgreSQL costs a question, against the SQLite file and in-memory limits
(a script, not a test).

Per operation, one at a time from one thread, p50/p95 in ms: the limits check (cooldown and server
cap both on, a new user each time, so every check writes), numbering an answer, storing it (5
hits, 2 quoted, real passages of the seed article), reading it back, a vote. Then the checks per
second of 8 threads over two SharedStates (two processes' worth of connections), and how long a
caller waits to learn the database is down, and for the first call after it is back.

The server is a throw-away one from tests/pg_server.py on 127.0.0.1 (TCP, fsync=off): a managed
database adds its network round trip to every PostgreSQL figure here.

    nice python bench/shared_state.py            # ~20 s
    nice python bench/shared_state.py --n 2000
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.discord_app.answers_store import AnswersStore  # noqa: E402
from bot.discord_app.limits import Limits  # noqa: E402
from index.errors import DatabaseUnavailable  # noqa: E402
from index.model import Answer, Hit, Location, Passage  # noqa: E402
from index.settings import PROJECT_ROOT, Settings  # noqa: E402
from stores import open_shared_state  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

SEED = PROJECT_ROOT / "corpus" / "pages" / "000_bbcd7444fd85d6d4.txt"


def sample_answer() -> Answer:
    text = SEED.read_text("utf-8")
    hits = []
    for rank in range(1, 6):
        start = 400 * rank
        loc = Location(doc_id="seed", kind="article", section="Section", paragraph=rank, comment=None,
                       start=start, end=start + 380, doc_title="Seed")
        hits.append(Hit(rank, 0.9 - rank / 100, Passage(rank, text[start:start + 380], loc), (0, 120)))
    return Answer(question="Qui est Emmett Shear ?", language="fr", answered=True, hits=tuple(hits),
                  quoted=tuple(hits[:2]), build_id="bench", took_ms=20.0, article_id="seed")


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def row(what: str, pg: tuple[float, float], local: tuple[float, float] | None) -> None:
    local_text = f"{local[0]:8.3f} {local[1]:8.3f}" if local else f"{'-':>8} {'-':>8}"
    print(f"{what:<22} {pg[0]:8.3f} {pg[1]:8.3f}   {local_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="operations of each kind")
    args = parser.parse_args()
    n = args.n
    answer = sample_answer()
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, n={n}")
    with PostgresServer() as server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(env={}, database_url=server.url)
        a = open_shared_state(settings, user_cooldown=30, guild_limit=10**9, guild_window=60)
        b = open_shared_state(settings, user_cooldown=30, guild_limit=10**9, guild_window=60)
        sqlite = AnswersStore(Path(tmp) / "answers.sqlite3")
        memory = Limits(30, 10**9, 60)
        print(f"{'ms per operation':<22} {'pg p50':>8} {'pg p95':>8}   {'file p50':>8} {'file p95':>8}")
        row("limits check", timed(lambda i: a.limits.check(10_000 + i, 1), n),
            timed(lambda i: memory.check(10_000 + i, 1), n))
        ids: list[int] = []
        row("number an answer", timed(lambda i: ids.append(a.answers.reserve_id()), n),
            timed(lambda i: sqlite.reserve_id(), n))
        local_ids: list[int] = []
        row("store an answer", timed(lambda i: a.answers.add(answer, guild_id=1, channel_id=2, asker_id=3,
                                                             asker_name="a", answer_id=ids[i]), n),
            timed(lambda i: local_ids.append(sqlite.add(answer, guild_id=1, channel_id=2, asker_id=3,
                                                        asker_name="a")), n))
        row("read it (/source)", timed(lambda i: b.answers.get(ids[i]), n),
            timed(lambda i: sqlite.get(local_ids[i]), n))
        row("vote", timed(lambda i: a.answers.set_feedback(ids[i], 9, 1), n),
            timed(lambda i: sqlite.set_feedback(local_ids[i], 9, 1), n))

        states, per_thread, threads = (a, b), max(50, n // 8), 8
        start = threading.Barrier(threads + 1)

        def checker(k: int) -> None:
            start.wait()
            for i in range(per_thread):
                states[k % 2].limits.check(1_000_000 + k * per_thread + i, 2)

        workers = [threading.Thread(target=checker, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        start.wait()
        t = time.perf_counter()
        for w in workers:
            w.join()
        took = time.perf_counter() - t
        print(f"limits checks/s, {threads} threads over 2 SharedStates: {threads * per_thread / took:.0f}")

        a.limits.check(1, 1)
        server.pause()
        try:
            t = time.perf_counter()
            try:
                a.limits.check(2, 1)
            except DatabaseUnavailable:
                pass
            down_ms = (time.perf_counter() - t) * 1000
        finally:
            server.resume()
        t = time.perf_counter()
        a.limits.check(3, 1)
        print(f"database down: learnt in {down_ms:.1f} ms; first check after it is back: "
              f"{(time.perf_counter() - t) * 1000:.1f} ms (a new connection)")
        a.close()
        b.close()
        sqlite.close()


if __name__ == "__main__":
    main()
