"""The article alone against the same article inside an archive, question by question (docs/retrieval.md,
"Session 11").

    .venv/bin/python docs/archive_compare.py --alone seed-corpus data-seed --archive archive-corpus data-archive \\
        ../shared/eval/dev.jsonl tests/data/heldout.jsonl ...

Asks every answerable question of each set of both indexes (the real Retriever, second look included),
prints each question whose gold passage is not at the same rank in both, with the documents of the
archive's top 5, then R@1 / R@3 of each set on both.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.evaluation import gold_rank  # noqa: E402
from index.service import Retriever  # noqa: E402
from index.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alone", nargs=2, metavar=("CORPUS", "DATA"), required=True)
    parser.add_argument("--archive", nargs=2, metavar=("CORPUS", "DATA"), required=True)
    parser.add_argument("sets", nargs="+")
    args = parser.parse_args()
    opened = [Retriever.open(Settings.from_env(corpus_dir=Path(c), data_dir=Path(d)), build_if_missing=False)
              for c, d in (args.alone, args.archive)]
    article = opened[0]._loaded.stored.passages[0].location.doc_id
    for path in args.sets:
        questions = [q for q in (json.loads(line) for line in open(path, encoding="utf-8") if line.strip())
                     if q.get("gold")]
        answers = [r.ask_many([q["question"] for q in questions]) for r in opened]
        hits = {"alone": [0, 0], "archive": [0, 0]}
        for q, alone, archive in zip(questions, *answers):
            ranks = [gold_rank(q["gold"], [h.passage.text for h in a.hits]) for a in (alone, archive)]
            for name, rank in zip(hits, ranks):
                hits[name][0] += rank == 1
                hits[name][1] += rank is not None and rank <= 3
            if ranks[0] != ranks[1]:
                docs = ["ARTICLE" if h.passage.location.doc_id == article else h.passage.location.doc_id[:24]
                        for h in archive.hits]
                print(f"{Path(path).stem} {q['id']} alone={ranks[0]} archive={ranks[1]} {docs} | {q['question'][:80]}")
        n = len(questions) or 1
        print(f"{Path(path).stem}: " + "  ".join(f"{name} R@1 {v[0] / n:.3f} R@3 {v[1] / n:.3f}" for name, v in hits.items()))


if __name__ == "__main__":
    main()
