"""The document-level ranking experiments of docs/retrieval.md ("Across documents").

    VERBATIM_CORPUS_DIR=../shared/eval/cnil/corpus VERBATIM_DATA_DIR=data-cnil \\
        .venv/bin/python docs/documents_sweep.py ../shared/eval/cnil/dev.jsonl [more.jsonl]

Embeds each question once with the build's model, then ranks it with the real Ranker under each
document-weight variant (index/ranking/documents.py), so every row is measured on the same vectors.
A question with `gold_doc` is found at rank r when the r-th passage comes from that document (as
../shared/eval/score_docs.py counts); one with `gold` substrings, when the r-th passage holds one (as
score.py). Questions are split in two halves by their gold document (documents alternate in the order
of a hash of their id; A: tuning, B: held out), so no document is in both halves. The second look of English questions (index.ranking.alignment) is
not applied here: `verbatim eval` gives the figures of the full pipeline.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store  # noqa: E402
from index.embedders import make_embedder  # noqa: E402
from index.evaluation import gold_rank  # noqa: E402
from index.ranking import Ranker, Weights  # noqa: E402
from index.ranking.documents import DocumentWeights  # noqa: E402
from index.settings import Settings  # noqa: E402

settings = Settings.from_env()
stored = store.load_build(settings.data_dir)
base = Weights.from_settings(settings)
ranker = Ranker(stored, replace(base, documents=DocumentWeights()))


def key(q: dict) -> str:
    return q.get("gold_doc") or q["id"]


def half(q: dict) -> str:
    return halves[(q["set"], key(q))]


questions = []
for f in sys.argv[1:]:
    for line in open(f, encoding="utf-8"):
        if line.strip():
            q = json.loads(line)
            if q.get("gold_doc") or q.get("gold"):
                q["set"] = f"{Path(f).parent.name}/{Path(f).stem}"
                questions.append(q)
halves = {}  # per set, documents alternate between A and B in the order of a hash of their id: balanced halves
for name in dict.fromkeys(q["set"] for q in questions):
    order = sorted({key(q) for q in questions if q["set"] == name}, key=lambda k: hashlib.sha1(k.encode()).hexdigest())
    halves |= {(name, k): "AB"[i % 2] for i, k in enumerate(order)}
cache = Path(f"/tmp/verbatim-sweep-{stored.build_id}-{hashlib.sha1(repr([q['question'] for q in questions]).encode()).hexdigest()[:8]}.npy")
if cache.exists():
    vectors = np.load(cache)
else:
    vectors = make_embedder(settings.embedder, settings.model).embed_queries([q["question"] for q in questions])
    np.save(cache, vectors)


def rank_of(q: dict, ranked) -> int | None:
    passages = [stored.passages[int(i)] for i in ranked.ids]
    if q.get("gold_doc"):
        return next((r for r, p in enumerate(passages, 1) if p.location.doc_id == q["gold_doc"]), None)
    return gold_rank(q["gold"], [p.text for p in passages])


def evaluate(dw: DocumentWeights) -> tuple[dict, float]:
    ranker.documents.weights = dw
    groups: dict[str, list[int | None]] = {}
    started = time.perf_counter()
    for q, v in zip(questions, vectors):
        r = rank_of(q, ranker.rank(v, q["question"], "all", settings.top_k))
        groups_of = [f"{q['set']}:{q.get('kind', '?')}", f"{q['set']}:{q.get('kind', '?')}:{half(q)}"]
        if not q.get("gold_doc"):  # passage-level sets: one figure for all kinds
            groups_of = [f"{q['set']}:all"]
        for g in groups_of:
            groups.setdefault(g, []).append(r)
    ms = (time.perf_counter() - started) * 1000 / len(questions)
    return {g: (np.mean([r == 1 for r in rs]), np.mean([bool(r and r <= 3) for r in rs]),
                np.mean([1 / r if r else 0 for r in rs]), len(rs)) for g, rs in sorted(groups.items())}, ms


def show(name: str, dw: DocumentWeights) -> None:
    figures, ms = evaluate(dw)
    cells = " | ".join(f"{g} {r1:.3f}/{r3:.3f}/{mrr:.3f} (n={n})" for g, (r1, r3, mrr, n) in figures.items())
    print(f"{name:48} {cells} | {ms:.2f} ms", flush=True)


GRID = {
    "passages only (before)": DocumentWeights(),
}


if __name__ == "__main__":
    variants = dict(GRID)
    for spec in sys.stdin.read().split("\n") if not sys.stdin.isatty() else []:
        spec = spec.strip()
        if spec and not spec.startswith("#"):
            variants[spec] = DocumentWeights(**{k: float(v) for k, v in (kv.split("=") for kv in spec.split())})
    for name, dw in variants.items():
        show(name, dw)
