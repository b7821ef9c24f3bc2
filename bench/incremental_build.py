#!/usr/bin/env python
"""Incremental builds through the embedding cache (a script that prints figures, not a test).

Writes --articles generated articles (bench/corpus_gen.py: ~20 paragraphs and ~15 comments each, French
and English, recombined from real prose) as corpus Markdown in a temporary directory, then with real e5
embeddings:

1. full build (empty cache): wall and CPU time, texts embedded per passage (passage, sentences, corpus words);
2. no-change rebuild, in this process (model loaded) and as `verbatim index build` in a fresh process;
3. rebuild after adding one article, with that article's own embedding time (the time inside the
   embedder) and the fixed overhead (everything else); then one more article, built by a fresh process
   (what a cron job's `verbatim corpus sync` pays: imports and model load count as overhead);

and where the non-embedding time of each goes (BuildSummary.phases: model, corpus, chunking, keywords,
cache, embedding, write, prune). Goals (issue 8): no-change rebuild <= 5 % of the full build; adding one
article = its own embedding time + a fixed overhead < 5 s.

    nice python bench/incremental_build.py --articles 300
    nice python bench/incremental_build.py --articles 40    # what fits in ~10 minutes on 2 shared cores

`--workdir DIR` keeps the corpus, data directory and embedding cache there (and the full build's figures
in DIR/full.json); `--rebuilds-only` then re-measures the no-change rebuild and adding one more article
on that corpus without redoing the full build (to compare code changes to the rebuild paths at a size
whose full build takes half an hour).

`--prefill-synthetic` fills the embedding cache for the generated corpus with synthetic vectors (one
deterministic unit vector per text, from its hash, under the real model's backend and id; token counts
from the real tokenizer) instead of embedding every text for real: the rebuild paths (no change, one
article added, whose new texts are embedded for real) can then be measured at 200 articles in minutes.
The full-build figure is then that of the synthetic fill, not meaningful (the output says so).

    nice -n 10 python bench/incremental_build.py --articles 200 --prefill-synthetic --workdir DIR
    nice -n 10 python bench/incremental_build.py --workdir DIR --rebuilds-only
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from corpus_gen import Generator, write_corpus  # noqa: E402

from index import store  # noqa: E402
from index.build import BuildSummary, build_index  # noqa: E402
from index.embedders import make_embedder  # noqa: E402
from index.settings import Settings  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Timed:
    """Wraps the embedder's two encodings to add up the wall and CPU time spent inside them."""

    def __init__(self, embedder):
        self.embedder, self.wall, self.cpu = embedder, 0.0, 0.0
        self._p, self._q = embedder.embed_passages, embedder.embed_queries
        embedder.embed_passages, embedder.embed_queries = self._wrap(self._p), self._wrap(self._q)

    def _wrap(self, method):
        def call(texts):
            c, t = time.process_time(), time.perf_counter()
            try:
                return method(texts)
            finally:
                self.wall += time.perf_counter() - t
                self.cpu += time.process_time() - c
        return call

    def reset(self) -> None:
        self.wall = self.cpu = 0.0


class SyntheticVectors:
    """The real embedder's name, window and tokenizer, with a deterministic unit vector per text in place of
    the model (for --prefill-synthetic): the cache it fills holds the keys a real build looks up."""

    def __init__(self, embedder):
        self.real = embedder
        self.backend, self.model_id = embedder.backend, embedder.model_id
        self.dim, self.max_tokens = embedder.dim, embedder.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def _vectors(self, kind: str, texts) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(f"{kind}\0{text}".encode(), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_passages(self, texts):
        return self._vectors("passage", texts)

    def embed_queries(self, texts):
        return self._vectors("query", texts)


def run(settings, embedder, timed: Timed):
    timed.reset()
    c, t = time.process_time(), time.perf_counter()
    summary = build_index(settings, embedder)
    return summary, time.perf_counter() - t, time.process_time() - c


def phases(summary) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in summary.phases.items())


def fresh_child(corpus: str, data: str) -> None:
    """One build in this fresh process (started by main): prints what it embedded and the time inside the
    embedder, as JSON; the parent times the whole process (imports, model, build)."""
    env = {k: os.environ[k] for k in ("VERBATIM_LEXICON",) if k in os.environ}
    timed = Timed(make_embedder("e5"))
    summary = build_index(Settings.from_env(env=env, corpus_dir=corpus, data_dir=data), timed.embedder)
    print(json.dumps({"embedded": summary.embedded, "embed": timed.wall, "passages": summary.passages}))


def main() -> None:
    if sys.argv[1:2] == ["--fresh-child"]:
        return fresh_child(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", help="keep corpus, data and cache here instead of a temporary directory")
    ap.add_argument("--rebuilds-only", action="store_true",
                    help="with --workdir of an earlier run: skip the full build, reuse its figures")
    ap.add_argument("--prefill-synthetic", action="store_true",
                    help="fill the embedding cache with synthetic vectors instead of embedding the corpus for "
                         "real (the full-build figure is then not meaningful)")
    args = ap.parse_args()
    if args.rebuilds_only and not args.workdir:
        ap.error("--rebuilds-only needs the --workdir of an earlier run")
    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"lexicon {os.environ.get('VERBATIM_LEXICON', 'default')}")
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        where = contextlib.nullcontext(args.workdir)
    else:
        where = tempfile.TemporaryDirectory(prefix="verbatim_incr_")
    with where as tmp:
        corpus, data = Path(tmp) / "corpus", Path(tmp) / "data"
        if not args.rebuilds_only:
            write_corpus(corpus, args.articles, args.seed)
        size = sum(p.stat().st_size for p in corpus.glob("*.md"))
        # the packaged defaults, but for the dictionary's place (VERBATIM_LEXICON, e.g. a dpkg -x of the package)
        env = {k: os.environ[k] for k in ("VERBATIM_LEXICON",) if k in os.environ}
        settings = Settings.from_env(env=env, corpus_dir=str(corpus), data_dir=str(data))
        embedder = make_embedder("e5")
        embedder.embed_passages(["échauffement"])
        timed = Timed(embedder)

        saved = Path(tmp) / "full.json"
        if args.rebuilds_only:
            f = json.loads(saved.read_text())
            full = BuildSummary(**{k: v for k, v in f["summary"].items()})
            full_s, full_cpu, full_embed = f["wall"], f["cpu"], f["embed"]
            args.prefill_synthetic = f.get("synthetic", False)
            args.articles = len(list(corpus.glob("*.md")))
            log(f"reusing the full build of {saved}: {full_s:.1f} s; corpus now {args.articles} articles")
        else:
            log(f"full build of {args.articles} articles ({size / 1e6:.1f} MB of Markdown)"
                + (", synthetic vectors" if args.prefill_synthetic else ""))
            if args.prefill_synthetic:
                synthetic = SyntheticVectors(embedder)
                c, t = time.process_time(), time.perf_counter()
                full = build_index(settings, synthetic)
                full_s, full_cpu, full_embed = time.perf_counter() - t, time.process_time() - c, 0.0
            else:
                full, full_s, full_cpu = run(settings, embedder, timed)
                full_embed = timed.wall
            saved.write_text(json.dumps({"summary": dataclasses.asdict(full), "wall": full_s, "cpu": full_cpu,
                                         "embed": full_embed, "synthetic": args.prefill_synthetic}))
            log(f"full build {full_s:.1f} s")
        texts = full.passages + full.sentences + full.words
        nochange, nochange_s, nochange_cpu = run(settings, embedder, timed)
        log(f"no-change rebuild {nochange_s:.2f} s")

        env = dict(os.environ, PYTHONPATH=str(ROOT), VERBATIM_CORPUS_DIR=str(corpus), VERBATIM_DATA_DIR=str(data))
        t = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "bot.cli", "index", "build"], env=env, capture_output=True,
                             text=True, cwd=ROOT)
        cli_s = time.perf_counter() - t
        if cli.returncode:
            raise SystemExit(cli.stderr)
        log(f"no-change rebuild, fresh process {cli_s:.2f} s")

        # One more article, generated like the others (a new generator state: its sentences are new).
        gen = Generator(args.seed + 1 + (1000 + args.articles if args.rebuilds_only else 0))  # new text each time
        doc_id, text = gen.article(args.articles)
        assert not (corpus / f"{doc_id}.md").exists(), doc_id
        (corpus / f"{doc_id}.md").write_text(text, "utf-8")
        added, added_s, added_cpu = run(settings, embedder, timed)
        added_embed = timed.wall
        log(f"rebuild after adding one article {added_s:.2f} s")
        doc_id, text = gen.article(args.articles + 1)  # and one more, built by a fresh process
        assert not (corpus / f"{doc_id}.md").exists(), doc_id
        (corpus / f"{doc_id}.md").write_text(text, "utf-8")
        t = time.perf_counter()
        child = subprocess.run([sys.executable, __file__, "--fresh-child", str(corpus), str(data)], env=env,
                               capture_output=True, text=True, cwd=ROOT)
        fresh_s = time.perf_counter() - t
        if child.returncode:
            raise SystemExit(child.stderr)
        fresh = json.loads(child.stdout.strip().splitlines()[-1])
        log(f"rebuild after adding one more article, fresh process {fresh_s:.2f} s")
        manifest = store.read_manifest(data)
        folder = store.builds_dir(data) / manifest["build_id"]
        build_bytes = sum(f.stat().st_size for f in folder.iterdir())
        cache_file = data / "embeddings" / "vectors.sqlite3"
        cache_bytes = cache_file.stat().st_size

    if args.prefill_synthetic:
        print("full build: the embedding cache was filled with SYNTHETIC vectors (--prefill-synthetic): its time and "
              "the shares of it below are NOT meaningful; the rebuilds are (the added article is embedded for real)")
    if args.rebuilds_only:
        print(f"full build: measured by the earlier run that wrote {Path(args.workdir) / 'full.json'}")
    print(f"corpus: {args.articles} generated articles, {full.passages} passages ({full.passages / args.articles:.1f} "
          f"an article), {full.sentences} sentences, {full.words} single words (corpus and English); load average at end "
          f"{os.getloadavg()[0]:.2f}")
    print()
    print("| build | wall s | CPU s | texts embedded | inside the embedder s | share of the full build |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| full (empty cache) | {full_s:.1f} | {full_cpu:.1f} | {full.embedded} | {full_embed:.1f} | 100 % |")
    print(f"| no change, same process | {nochange_s:.2f} | {nochange_cpu:.2f} | {nochange.embedded} | 0 | "
          f"{100 * nochange_s / full_s:.2f} % |")
    print(f"| no change, `verbatim index build` in a fresh process | {cli_s:.2f} | | 0 | 0 | "
          f"{100 * cli_s / full_s:.2f} % |")
    print(f"| one article added ({added.passages - nochange.passages} passages) | {added_s:.2f} | {added_cpu:.2f} | "
          f"{added.embedded} | {added_embed:.2f} | {100 * added_s / full_s:.2f} % |")
    print(f"| one more article added, fresh process (imports, model, build) | {fresh_s:.2f} | | {fresh['embedded']} | "
          f"{fresh['embed']:.2f} | {100 * fresh_s / full_s:.2f} % |")
    print()
    print(f"texts per passage: {texts / full.passages:.2f} distinct texts (1 passage + "
          f"{full.sentences / full.passages:.2f} sentences + {full.words / full.passages:.2f} single words); "
          f"{full.embedded} embedded, {texts - full.embedded} repeats within the corpus")
    print(f"adding one article: {added.embedded} texts embedded in {added_embed:.2f} s + fixed overhead "
          f"{added_s - added_embed:.2f} s; in a fresh process {fresh['embedded']} texts in {fresh['embed']:.2f} s + "
          f"fixed overhead {fresh_s - fresh['embed']:.2f} s (imports and model load included)")
    print(f"phases, full: {phases(full)}")
    print(f"phases, no change: {phases(nochange)}")
    print(f"phases, one added: {phases(added)}")
    print(f"build on disk {build_bytes / 2**20:.1f} MiB; embedding cache {cache_bytes / 2**20:.1f} MiB for "
          f"{added.reused + added.embedded} vectors ({cache_bytes / max(added.reused + added.embedded, 1):.0f} bytes each)")


if __name__ == "__main__":
    main()
