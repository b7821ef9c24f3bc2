"""What `verbatim corpus list` shows: every article of the corpus, newest first, with how many passages
the current index build holds for it (None when it is not indexed yet: run `verbatim index build`)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .. import store
from .collection import Collection


def indexed_passages(data_dir: Path) -> Counter | None:
    build_id = store.current_build_id(data_dir)
    if build_id is None:
        return None
    counts: Counter = Counter()
    try:
        with open(store.builds_dir(data_dir) / build_id / store.PASSAGES, encoding="utf-8") as rows:
            for line in rows:
                counts[json.loads(line)["location"]["doc_id"]] += 1
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return counts


def corpus_articles(corpus_dir: Path, data_dir: Path) -> list[dict]:
    counts = indexed_passages(data_dir)
    rows = []
    for doc in Collection(corpus_dir).documents().values():
        rows.append({"id": doc.id, "title": doc.title, "date": doc.date, "url": doc.url or doc.provenance,
                     "source": doc.source, "language": doc.language,
                     "passages": counts.get(doc.id) if counts is not None and doc.id in counts else None,
                     "comments": len(doc.comments)})
    rows.sort(key=lambda r: r["date"] or "", reverse=True)
    return rows
