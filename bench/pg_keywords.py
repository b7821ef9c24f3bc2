"""The keyword signal on PostgreSQL: the project's character n-gram index (stored in tables, the ranking
identical to files) against PostgreSQL's own full-text search, judged by R@1 on a question set.

FTS as measured here: `to_tsvector('french' | 'english', text)` by the document's language, a GIN index,
the question's lexemes (analysed with the same configuration) joined by OR (`plainto_tsquery` ANDs them:
too strict for questions), ranked by `ts_rank_cd`, divided by the best score of the question (the n-gram
cosines are in [0, 1] too; the default z-score fusion does not care about the scale). It replaces the
n-gram scores as the keyword signal of the ranking; everything else (dense signals, documents, abstention
evidence) is unchanged. Also timed per question: the n-gram scores in memory (what serving does), the
same scores computed in SQL from the tables, and the FTS query.

    nice python -m bench.pg_keywords --data-dir /work/data-cnil --corpus ../shared/eval/cnil/corpus \\
        --questions ../shared/eval/cnil/dev.jsonl

The file build of --data-dir is copied in by `index push` (nothing embedded); without --database-url a
throw-away server is started (tests/pg_server.py).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.backends import push  # noqa: E402
from index.errors import VerbatimError  # noqa: E402
from index.evaluation import load_questions, outcome, report  # noqa: E402
from index.pg.connection import connect  # noqa: E402
from index.pg.schema import SCHEMA, build_tables  # noqa: E402
from index.ranking import Ranker  # noqa: E402
from index.ranking.keyword import char_ngrams  # noqa: E402
from index.service import Retriever  # noqa: E402
from index.settings import Settings  # noqa: E402

FTS_TABLE = "bench_fts"
FTS_QUERY = f"""
WITH q AS (
    SELECT cfg, (SELECT string_agg(quote_literal(l), ' | ') FROM unnest(tsvector_to_array(to_tsvector(cfg, %(q)s))) l)
           AS lexemes
    FROM (VALUES ('french'::regconfig), ('english'::regconfig)) AS c(cfg))
SELECT f.id, ts_rank_cd(f.tsv, q.lexemes::tsquery)
FROM {SCHEMA}.{FTS_TABLE} f JOIN q ON q.cfg = f.cfg
WHERE q.lexemes IS NOT NULL AND f.tsv @@ q.lexemes::tsquery
"""


class FtsRanker(Ranker):
    """The file backend's ranking with PostgreSQL FTS scores as its keyword signal."""

    def __init__(self, stored, weights, conn, timings: list[float]):
        super().__init__(stored, weights)
        self.conn, self.timings = conn, timings

    def keyword_scores(self, question: str) -> np.ndarray:
        started = time.perf_counter()
        out = np.zeros(len(self.stored.passages), dtype=np.float32)
        for passage_id, score in self.conn.execute(FTS_QUERY, {"q": question}, prepare=True):
            out[passage_id] = score
        self.timings.append((time.perf_counter() - started) * 1000)
        top = float(out.max()) if len(out) else 0.0
        return out / top if top > 0 else out


def make_fts_table(conn, build_id: str) -> float:
    tables = build_tables(build_id)
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{FTS_TABLE}")
    conn.execute(f"""CREATE TABLE {SCHEMA}.{FTS_TABLE} AS
        SELECT p.id, c.cfg, to_tsvector(c.cfg, p.text) AS tsv
        FROM {SCHEMA}.{tables['passages']} p JOIN {SCHEMA}.{tables['documents']} d USING (doc_id),
             LATERAL (SELECT (CASE WHEN d.language = 'en' THEN 'english' ELSE 'french' END)::regconfig AS cfg) c""")
    conn.execute(f"CREATE INDEX ON {SCHEMA}.{FTS_TABLE} USING gin (tsv)")
    conn.execute(f"ANALYZE {SCHEMA}.{FTS_TABLE}")
    return time.perf_counter() - started


def sql_ngram_ms(conn, retriever, questions) -> list[float]:
    """The n-gram cosines computed in SQL from keyword_postings (the tables' own use); checked against memory."""
    ngrams = retriever._loaded.stored.keywords.ngrams
    postings = f"{SCHEMA}.{build_tables(retriever.build_id)['keyword_postings']}"
    sql = (f"SELECT k.passage_id, sum(k.weight * q.w) FROM {postings} k JOIN unnest(%s::int4[], %s::float8[]) "
           "AS q(gram_id, w) USING (gram_id) GROUP BY k.passage_id")
    times = []
    for q in questions:
        started = time.perf_counter()
        rows = [(ngrams.grams[g], tf) for g, tf in Counter(char_ngrams(q.question, ngrams.sizes)).items()
                if g in ngrams.grams]
        weights = [(r, (1 + math.log(tf)) * float(ngrams.idf[r])) for r, tf in rows]
        norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
        out = np.zeros(ngrams.size, dtype=np.float32)
        for passage_id, score in conn.execute(sql, ([r for r, _ in weights], [w / norm for _, w in weights]),
                                              prepare=True):
            out[passage_id] = score
        times.append((time.perf_counter() - started) * 1000)
        assert np.allclose(out, ngrams.scores(q.question), atol=1e-5), "SQL n-gram scores differ from memory"
    return times


def memory_ngram_ms(retriever, questions) -> list[float]:
    ngrams = retriever._loaded.stored.keywords.ngrams
    times = []
    for q in questions:
        started = time.perf_counter()
        ngrams.scores(q.question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def evaluate(retriever, questions):
    outcomes = []
    for q in questions:
        answer = retriever.ask(q.question)
        outcomes.append(outcome(q, [h.passage.text for h in answer.hits], answer.answered,
                                [h.passage.location.doc_id for h in answer.hits]))
    return report(outcomes)


def p50_p95(times: list[float]) -> str:
    if len(times) < 2:
        return "n/a"
    cuts = statistics.quantiles(times, n=20)
    return f"{statistics.median(times):.2f} / {cuts[18]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="data dir holding the file build to push")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--database-url", default="", help="default: a throw-away server (tests/pg_server.py)")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url
        if not url:
            from tests.pg_server import PostgresServer

            url = stack.enter_context(PostgresServer()).url
        files = Settings.from_env(data_dir=str(args.data_dir), corpus_dir=str(args.corpus), database_url="")
        settings = files.with_(database_url=url)
        started = time.perf_counter()
        try:
            build_id, passages = push(settings)
            print(f"pushed {build_id} ({passages} passages) in {time.perf_counter() - started:.1f} s")
        except VerbatimError as e:
            print(f"push: {e}")
        questions = load_questions(args.questions)
        on_files = Retriever.open(files, build_if_missing=False)
        file_metrics = evaluate(on_files, questions)
        retriever = Retriever.open(settings, build_if_missing=False)
        ngram_metrics = evaluate(retriever, questions)
        conn = connect(url, autocommit=True)
        stack.callback(conn.close)
        fts_s = make_fts_table(conn, retriever.build_id)
        fts_times: list[float] = []
        loaded = retriever._loaded
        retriever._loaded = replace(loaded, ranker=FtsRanker(loaded.stored, loaded.ranker.weights, conn, fts_times))
        fts_metrics = evaluate(retriever, questions)
        fts_keyword_ms = list(fts_times)
        retriever._loaded = loaded
        sql_ms = sql_ngram_ms(conn, retriever, questions)
        mem_ms = memory_ngram_ms(retriever, questions)
        print(f"{len(questions)} questions from {args.questions}; FTS table + GIN index built in {fts_s:.1f} s")
        print("| keyword signal | R@1 | R@3 | MRR | doc R@1 | R@1 (or doc R@1) fr / en | abstain "
              "| keyword scores p50 / p95 ms |")
        print("|---|---|---|---|---|---|---|---|")
        for name, rep, ms in (("n-gram, files (memory)", file_metrics, mem_ms),
                            ("n-gram, PostgreSQL (loaded into memory; scored in SQL for the timing)", ngram_metrics,
                             sql_ms),
                            ("PostgreSQL FTS (ts_rank_cd, OR of lexemes)", fts_metrics, fts_keyword_ms)):
            m = rep.overall
            langs = " / ".join(_f(_r1(rep.by_lang[lang])) if lang in rep.by_lang else "–" for lang in ("fr", "en"))
            print(f"| {name} | {_f(m.r1)} | {_f(m.r3)} | {_f(m.mrr)} | {_f(m.doc_r1)} | {langs} | {_f(m.abstained)} | "
                  f"{p50_p95(ms)} |")
        retriever.close()


def _r1(m):
    return m.r1 if m.r1 is not None else m.doc_r1


def _f(value) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
