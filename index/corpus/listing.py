"""What `verbatim corpus list` shows: every article of the corpus, newest first, with how many passages
and comments the current index build holds for it (`index.backends.indexed_counts`: files or
PostgreSQL). An article the build does not hold has passages None ("not indexed": run `verbatim index
build`) and the comments its file has."""
from __future__ import annotations

from pathlib import Path

from .collection import Collection


def corpus_articles(corpus: Path | Collection, counts: dict[str, tuple[int, int]] | None) -> list[dict]:
    """`counts`: per document id, (passages, comments) in the current build, or None without a build."""
    counts = counts or {}
    rows = []
    collection = corpus if isinstance(corpus, Collection) else Collection(corpus)
    for doc in collection.documents().values():
        indexed = counts.get(doc.id)
        rows.append({"id": doc.id, "title": doc.title, "date": doc.date, "url": doc.url,
                     "source": doc.source, "language": doc.language,
                     "passages": indexed[0] if indexed else None,
                     "comments": indexed[1] if indexed else len(doc.comments)})
    rows.sort(key=lambda r: r["date"] or "", reverse=True)
    return rows
