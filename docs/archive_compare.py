"""The article alone against the same article inside an archive, question by question (docs/retrieval.md,
"Session 11").

    .venv/bin/python docs/archive_compare.py --alone seed-corpus data-seed --archive archive-corpus data-archive \\
        ../shared/eval/dev.jsonl tests/data/heldout.jsonl ...

Asks every question of each set of both indexes (the real Retriever, second look included), prints each
answerable question whose gold passage is not at the same rank in both, with the documents of the
archive's top 5, and each unanswerable one abstained on one side only, with the document it was answered
from; then R@1 / R@3 and the abstention of each set on both.
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
        questions = [q for q in (json.loads(line) for line in open(path, encoding="utf-8") if line.strip())]
        answers = [r.ask_many([q["question"] for q in questions]) for r in opened]
        hits = {"alone": [0, 0, 0], "archive": [0, 0, 0]}  # R@1, R@3, abstained (of the unanswerable)
        answerable = sum(1 for q in questions if q.get("gold"))
        for q, alone, archive in zip(questions, *answers):
            if not q.get("gold"):
                for name, a in zip(hits, (alone, archive)):
                    hits[name][2] += not a.answered
                if alone.answered != archive.answered:
                    where = archive.hits[0].passage.location.doc_id if archive.answered else "-"
                    print(f"{Path(path).stem} {q['id']} unanswerable: alone {_said(alone)}, archive "
                          f"{_said(archive)} ({where[:24]}) | {q['question'][:80]}")
                continue
            ranks = [gold_rank(q["gold"], [h.passage.text for h in a.hits]) for a in (alone, archive)]
            for name, rank in zip(hits, ranks):
                hits[name][0] += rank == 1
                hits[name][1] += rank is not None and rank <= 3
            if ranks[0] != ranks[1]:
                docs = ["ARTICLE" if h.passage.location.doc_id == article else h.passage.location.doc_id[:24]
                        for h in archive.hits]
                print(f"{Path(path).stem} {q['id']} alone={ranks[0]} archive={ranks[1]} {docs} | {q['question'][:80]}")
        print(f"{Path(path).stem}: " + "  ".join(f"{name} {_figures(v, answerable, len(questions) - answerable)}"
                                                   for name, v in hits.items()))


def _said(answer) -> str:
    return "answered" if answer.answered else "abstained"


def _figures(counts: list[int], answerable: int, unanswerable: int) -> str:
    share = lambda k, n: f"{k / n:.3f}" if n else "-"  # noqa: E731
    return f"R@1 {share(counts[0], answerable)} R@3 {share(counts[1], answerable)} " \
           f"abstain {share(counts[2], unanswerable)}"

if __name__ == "__main__":
    main()
