#!/usr/bin/env python
"""Rebuilds into PostgreSQL: the keyword index refitted from the current build's refit arrays, against a
full fit (a script that prints figures, not a test).

A real server on 127.0.0.1 (tests/pg_server.py); the data directory is copied so its embedding cache is
warm and nothing is embedded: what is left is the build's own work, the keyword fit most of it. Each
round builds, side by side, once refitting from the database's current build (what `verbatim index build`
does: only passages it did not have are read) and once with that turned off (a full fit, as before
session 15):

1. no change: the same passages (none read);
2. one article added (its passages read).

    nice python bench/pg_rebuild.py --corpus DIR --data-dir DIR [--rounds 3]

The data dir must hold a file build of the corpus (its embedding cache is what makes the builds cheap).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARTICLE = textwrap.dedent("""\
    ---
    id: "bench-added-{n}"
    title: "Mobilité : la ville de Nantes teste des vélos cargos électriques ({n})"
    date: "2024-03-02T08:00"
    source: "Bench"
    language: "fr"
    ---

    La métropole nantaise prête depuis lundi une centaine de vélos cargos électriques aux artisans ({n}).

    ## Un essai de six mois

    Les livreurs pourront emprunter un vélo pour une semaine. La mairie paiera les batteries et l’entretien.
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from index import backends
    from index.build import build_index
    from index.embedders import make_embedder
    from index.settings import Settings
    from tests.pg_server import PostgresServer

    embedder = make_embedder("e5")
    with tempfile.TemporaryDirectory() as work, PostgresServer() as server:
        work = Path(work)
        corpus = work / "corpus"
        shutil.copytree(args.corpus, corpus)
        shutil.copytree(args.data_dir / "embeddings", work / "data" / "embeddings")
        settings = Settings.from_env(data_dir=str(work / "data"), corpus_dir=str(corpus)).with_(
            database_url=server.create_database("bench"))
        first = build_index(settings, embedder)
        print(f"corpus: {first.documents} documents, {first.passages} passages; first build into PostgreSQL "
              f"{first.seconds:.1f} s (keywords {first.phases.get('keywords', 0):.1f} s, embedded {first.embedded})")

        refit = backends.PgBuildTarget.refit_source

        def timed(carried: bool) -> tuple[float, float]:
            """(the build's seconds other than embedding the added article, the keyword phase's)"""
            # off: the previous behaviour, nothing read back from the database, a full fit
            backends.PgBuildTarget.refit_source = refit if carried else (lambda self: None)
            summary = build_index(settings, embedder)
            return summary.seconds - summary.phases.get("embedding", 0.0), summary.phases.get("keywords", 0.0)

        added = 0
        for case in ("no change", "one article added"):
            rows: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for _ in range(args.rounds):
                for carried in (True, False):  # alternated, so machine noise hits both alike
                    if case != "no change":
                        added += 1
                        (corpus / f"bench-added-{added}.md").write_text(ARTICLE.format(n=added), "utf-8")
                    rows[carried].append(timed(carried))
            for carried, label in ((True, "refitted"), (False, "full fit")):
                total = statistics.median(t for t, _ in rows[carried])
                keywords = statistics.median(k for _, k in rows[carried])
                print(f"{case:18s} {label:13s} build {total:6.2f} s (embedding left out)  keywords {keywords:6.2f} s  (median of "
                      f"{args.rounds})")
            ratio = statistics.median(t for t, _ in rows[True]) / statistics.median(t for t, _ in rows[False])
            print(f"{case:18s} refitted / full fit: {ratio:.2f}x the build time (embedding left out)")


if __name__ == "__main__":
    main()
