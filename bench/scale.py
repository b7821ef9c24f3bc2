#!/usr/bin/env python
"""Serving at scale: answer latency, load time, RSS and index size with many articles (prints figures).

For each --articles size it writes a real build (index/store.py, the files `verbatim index build` writes)
of generated articles: passage texts recombined from real prose (bench/corpus_gen.py; ~20 paragraphs and
~15 comments an article, the title too), sentence spans by the real splitter, the real keyword index
fitted over every passage. Embedding hundreds of thousands of passages is hours on this machine, so the
vectors are synthetic but clustered like real ones, never uniform: each article has a topic direction,
each passage is its article's topic plus a shared "subject" direction plus noise, each sentence is its
passage plus noise (cosines sit in e5's 0.7-0.9 range). Then a fresh process opens the build with the
real `Retriever` (manifest and sha256 checks, FAISS, keyword index) and the real e5 model, and answers
the dev questions one by one: load time, p50/p95 of `ask`, peak RSS. Flat and HNSW.

    nice python bench/scale.py --articles 1000,10000
    nice python bench/scale.py --articles 100000 --paragraphs 3 --comments 1   # 100k short entries: fits 24 GB

Beside each question's ranking it times the same ranking with keyword scores over the whole corpus (the
code before shortlist-only keyword scoring), interleaved, so the two are compared under the same load.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEV = ROOT.parent.parent / "shared" / "eval" / "dev.jsonl"
if not DEV.is_file():
    DEV = Path("/work/shared/eval/dev.jsonl")
DIM = 384


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def passages_of(articles: int, seed: int, paragraphs: int = 20, comments: int = 15):
    """Passages (index.model.Passage) of generated articles, as the chunker would cut them: a title, about
    `paragraphs` paragraphs (2-4 sentences) and about `comments` comments (1-3 sentences)."""
    from corpus_gen import Generator
    from index.model import Location, Passage

    gen = Generator(seed)
    out: list[Passage] = []
    doc_of: list[int] = []
    for a in range(articles):
        rng = gen.rng
        lang = "en" if a % 4 == 3 else "fr"
        title = gen.sentence(lang).rstrip(".!?… ")[:110]
        doc_id, offset = f"bench-{a:06d}", 0
        blocks = [("title", "article", title, None, None)]
        section = None
        spread_p, spread_c = min(3, paragraphs // 5), min(4, comments // 4)
        for i in range(max(1, paragraphs + rng.randint(-spread_p, spread_p))):
            if i % 6 == 1:
                section = gen.sentence(lang).rstrip(".!?… ")[:70]
            blocks.append(("paragraph", "article", gen.paragraph(lang, 2, 4), section, i + 1))
        for c in range(1, max(0, comments + rng.randint(-spread_c, spread_c)) + 1):
            blocks.append(("comment", "comment", gen.paragraph(lang, 1, 3), None, c))
        for role, kind, text, sec, number in blocks:
            loc = Location(doc_id=doc_id, kind=kind, section=sec if kind == "article" else None,
                           paragraph=number if role == "paragraph" else None,
                           comment=number if role == "comment" else None, start=offset, end=offset + len(text),
                           doc_title=title, role=role)
            out.append(Passage(id=len(out), text=text, location=loc))
            doc_of.append(a)
            offset += len(text) + 2
    return out, np.array(doc_of)


def clustered(doc_of: np.ndarray, owner: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Passage and sentence vectors: article topic + one of 64 shared subjects + noise, sentences near their passage."""
    rng = np.random.default_rng(seed)
    articles = int(doc_of.max()) + 1
    subjects = rng.standard_normal((64, DIM), dtype=np.float32)
    subjects /= np.linalg.norm(subjects, axis=1, keepdims=True)
    topics = rng.standard_normal((articles, DIM), dtype=np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    topics = 0.6 * topics + 0.8 * subjects[rng.integers(0, 64, articles)]
    passages = topics[doc_of] + rng.standard_normal((len(doc_of), DIM), dtype=np.float32) * 0.035
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    sentences = np.empty((len(owner), DIM), dtype=np.float32)
    for i in range(0, len(owner), 200_000):
        block = passages[owner[i:i + 200_000]] + rng.standard_normal((len(owner[i:i + 200_000]), DIM),
                                                                     dtype=np.float32) * 0.03
        sentences[i:i + 200_000] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return passages, sentences


def write_builds(data: Path, corpus: Path, articles: int, anns: list[str], seed: int, paragraphs: int = 20,
                 comments: int = 15) -> dict:
    from index import store
    from index.chunking import sentence_spans
    from index.corpus.fingerprint import corpus_hash
    from index.embedders import make_embedder
    from index.ranking.keyword import KeywordIndex

    t = time.perf_counter()
    passages, doc_of = passages_of(articles, seed, paragraphs, comments)
    spans = [sentence_spans(p.text) or [(0, len(p.text))] for p in passages]
    owner = np.repeat(np.arange(len(passages)), [len(s) for s in spans])
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    keywords = KeywordIndex.fit([p.text for p in passages])
    fit_s = time.perf_counter() - t
    passage_vectors, sentence_vectors = clustered(doc_of, owner, seed)
    words = len(keywords.vocabulary.forms)
    rng = np.random.default_rng(seed + 1)
    forms = rng.standard_normal((words, DIM), dtype=np.float32)
    keywords.form_vectors = forms / np.linalg.norm(forms, axis=1, keepdims=True)
    embedder = make_embedder("e5")
    info = {"articles": articles, "passages": len(passages), "sentences": len(owner), "words": words,
            "generate_s": gen_s, "keyword_fit_s": fit_s, "builds": {}}
    for ann in anns:
        t = time.perf_counter()
        build_id = store.new_build_id()
        manifest = {"created_at": "", "embedder": embedder.backend, "model_id": embedder.model_id, "dim": DIM,
                    "ann": ann, "corpus_dir": str(corpus), "corpus_hash": corpus_hash(corpus),
                    "documents": sorted({p.location.doc_id for p in passages}),
                    "counts": {"documents": articles, "passages": len(passages), "sentences": len(owner),
                               "words": words}, "chunker": {}, "packages": store.package_versions(),
                    "synthetic_vectors": True}
        store.write_build(data / ann, build_id, manifest, passages, spans, passage_vectors, sentence_vectors, keywords)
        folder = store.builds_dir(data / ann) / build_id
        info["builds"][ann] = {"write_s": time.perf_counter() - t,
                               "bytes": {f.name: f.stat().st_size for f in folder.iterdir()}}
        log(f"{articles} articles: {ann} build written in {info['builds'][ann]['write_s']:.1f} s")
    return info


def serve(data: Path, corpus: Path) -> dict:
    """In this (fresh) process: open the build, answer every dev question once, report timings and peak RSS."""
    import faiss

    from index.evaluation import load_questions
    from index.service import Retriever
    from index.settings import Settings

    faiss.omp_set_num_threads(1)  # one question at a time: the cores are the encoder's (docs/benchmarks.md)
    questions = [q.question for q in load_questions(DEV)]
    settings = Settings.from_env(env={}, data_dir=str(data), corpus_dir=str(corpus))
    rss_start = memory_mb()["VmRSS"]
    t = time.perf_counter()
    retriever = Retriever.open(settings, build_if_missing=False)
    load_s = time.perf_counter() - t
    rss_loaded = memory_mb()
    ranker = retriever._loaded.ranker
    shortlist = ranker.keyword_scores

    def whole_corpus(question, among=None):  # the ranking before shortlist-only keyword scoring (and RESTRICT_BELOW 0)
        scores = shortlist(question)
        return scores if among is None else scores[among]

    retriever.ask(questions[0])  # warm
    times, cpu, encode, rank_cpu, cpu_whole = [], [], [], [], []
    for q in questions * 2:  # interleaved, so that background load hits both ways alike
        c, t = time.process_time(), time.perf_counter()
        retriever.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        t = time.perf_counter()
        retriever.embedder.embed_queries([q])
        encode.append((time.perf_counter() - t) * 1000)
        vector = retriever.embedder.embed_queries([q])[0]
        ways = [(shortlist, ranker.RESTRICT_BELOW, rank_cpu), (whole_corpus, 0.0, cpu_whole)]
        for way, restrict, out in ways if len(times) % 2 else ways[::-1]:  # each goes first half the time
            ranker.keyword_scores, ranker.RESTRICT_BELOW = way, restrict  # the ranking alone, both ways
            c = time.process_time()
            ranker.rank(vector, q, "all", retriever.settings.top_k)
            out.append((time.process_time() - c) * 1000)
        ranker.keyword_scores = shortlist
        del ranker.RESTRICT_BELOW  # back to the class's
    peak = memory_mb()
    return {"load_s": load_s, "p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95)),
            "encode_p50": float(np.percentile(encode, 50)),
            "cpu_p50": float(np.percentile(cpu, 50)), "cpu_p95": float(np.percentile(cpu, 95)),
            "rank_p50": float(np.percentile(rank_cpu, 50)), "rank_p95": float(np.percentile(rank_cpu, 95)),
            "cpu_whole_p50": float(np.percentile(cpu_whole, 50)), "cpu_whole_p95": float(np.percentile(cpu_whole, 95)),
            "rss_start_mb": rss_start, "rss_loaded_mb": rss_loaded["VmRSS"], "rss_load_peak_mb": rss_loaded["VmHWM"],
            "rss_peak_mb": peak["VmHWM"], "questions": len(times)}


def memory_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of this process in MB. Not ru_maxrss: Linux keeps that across execve, so a
    process started by a benchmark that peaked higher would report the benchmark's peak."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", default="1000,10000", help="comma-separated sizes")
    ap.add_argument("--ann", default="flat,hnsw")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paragraphs", type=int, default=20, help="about this many paragraphs an article")
    ap.add_argument("--comments", type=int, default=15, help="about this many comments an article")
    ap.add_argument("--serve", nargs=2, metavar=("DATA", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        print(json.dumps(serve(Path(args.serve[0]), Path(args.serve[1]))))
        return
    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}; synthetic clustered vectors, "
          f"real passages, keyword index and model; dev questions asked one at a time (x2), FAISS 1 thread; "
          f"articles of ~{args.paragraphs} paragraphs and ~{args.comments} comments")
    rows = []
    for articles in [int(a) for a in args.articles.split(",")]:
        with tempfile.TemporaryDirectory(prefix="verbatim_scale_") as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            info = write_builds(Path(tmp) / "data", corpus, articles, args.ann.split(","), args.seed,
                                args.paragraphs, args.comments)
            info["parent_peak_mb"] = memory_mb()["VmHWM"]
            for ann, build in info["builds"].items():
                out = subprocess.run([sys.executable, __file__, "--serve", str(Path(tmp) / "data" / ann), str(corpus)],
                                     capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
                if out.returncode:
                    raise SystemExit(out.stderr)
                served = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((info, ann, build, served))
                log(f"{articles} articles, {ann}: {served}")
    print()
    print("| articles | passages | sentences | index | on disk | per article | build written s | load s | "
          "ask p50 ms | ask p95 ms | ask CPU p50 / p95 ms | ranking CPU p50 / p95 ms | same, keywords over the whole corpus | "
          "encoder alone p50 ms | RSS loaded MB | RSS peak MB |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for info, ann, build, s in rows:
        size = sum(build["bytes"].values())
        print(f"| {info['articles']:,} | {info['passages']:,} | {info['sentences']:,} | {ann} | {size / 2**20:,.0f} MiB "
              f"| {size / info['articles'] / 1024:.0f} KiB | {build['write_s']:.1f} | {s['load_s']:.2f} | "
              f"{s['p50']:.1f} | {s['p95']:.1f} | {s['cpu_p50']:.1f} / {s['cpu_p95']:.1f} | "
              f"{s['rank_p50']:.1f} / {s['rank_p95']:.1f} | {s['cpu_whole_p50']:.1f} / {s['cpu_whole_p95']:.1f} | {s['encode_p50']:.1f} | {s['rss_loaded_mb']:.0f} | "
              f"{s['rss_peak_mb']:.0f} |")
    print()
    for info, ann, build, s in rows:
        if ann == rows[0][1]:
            print(f"{info['articles']:,} articles: generated in {info['generate_s']:.0f} s, keyword index fitted in "
                  f"{info['keyword_fit_s']:.0f} s ({info['words']:,} corpus words); benchmark process peak "
                  f"{info['parent_peak_mb']:,.0f} MB; serving process at start {s['rss_start_mb']:.0f} MB, peak while "
                  f"loading {s['rss_load_peak_mb']:.0f} MB; files: "
                  + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in sorted(build['bytes'].items())))
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
