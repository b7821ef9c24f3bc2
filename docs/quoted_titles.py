"""How often an answer's first quote is a title that is itself a question or a "see also" line, and how often
it comes from the entry that answers (`gold_doc`):
`.venv/bin/python docs/quoted_titles.py DATA_DIR CORPUS_DIR QUESTIONS.jsonl` (docs/retrieval.md, session 19)."""
from __future__ import annotations

import json
import sys

from index.answer import asks_back, points_elsewhere
from index.service import Retriever
from index.settings import Settings


def main(data_dir: str, corpus_dir: str, questions: str) -> None:
    retriever = Retriever.open(Settings.from_env(env={}, data_dir=data_dir, corpus_dir=corpus_dir),
                               build_if_missing=False)
    answered = titles = elsewhere = gold = 0
    for line in open(questions, encoding="utf-8"):
        q = json.loads(line)
        answer = retriever.ask(q["question"])
        if not answer.answered:
            continue
        answered += 1
        titles += asks_back(answer.quoted[0])
        elsewhere += points_elsewhere(answer.quoted[0])
        gold += answer.quoted[0].passage.location.doc_id == q.get("gold_doc")
    print(f"answered {answered}; first quote a question-title {titles}, a 'see also' line {elsewhere}; "
          f"first quote from the gold entry {gold}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
