"""The feeds a corpus follows (`corpus/feeds.json`), re-read by `verbatim corpus sync`.

Kept in the corpus directory, next to the articles they bring, so copying a corpus copies its feeds.
Not a `*.md` file: following a feed does not change the corpus fingerprint.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from ..errors import CorpusError
from .collection import _write_atomically

REGISTRY = "feeds.json"


def registry_path(corpus_dir: Path) -> Path:
    return corpus_dir / REGISTRY


def followed(corpus_dir: Path) -> list[dict]:
    path = registry_path(corpus_dir)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text("utf-8"))
        feeds = data["feeds"]
        if not isinstance(feeds, list) or not all(isinstance(f, dict) and isinstance(f.get("url"), str) for f in feeds):
            raise ValueError("'feeds' is not a list of {url: …}")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CorpusError(f"{path} is damaged ({e}); fix or delete it, then follow the feeds again") from None
    return feeds


def follow(corpus_dir: Path, url: str, title: str = "") -> bool:
    """Adds the feed; False when it was already followed."""
    feeds = followed(corpus_dir)
    if any(f["url"] == url for f in feeds):
        return False
    feeds.append({"url": url, "title": title, "added": _now()})
    _save(corpus_dir, feeds)
    return True


def mark_synced(corpus_dir: Path, url: str, error: str = "") -> None:
    feeds = followed(corpus_dir)
    for feed in feeds:
        if feed["url"] == url:
            feed["last_sync"] = _now()
            feed["last_error"] = error
    _save(corpus_dir, feeds)


def _save(corpus_dir: Path, feeds: list[dict]) -> None:
    text = json.dumps({"feeds": feeds}, ensure_ascii=False, indent=2) + "\n"
    _write_atomically(registry_path(corpus_dir), text.encode("utf-8"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record_entries(corpus_dir: Path, url: str, entries: dict[str, str]) -> None:
    """Remembers each entry's last timestamp (guid -> ISO), so a sync refetches only pages that changed.
    Writes nothing when nothing moved."""
    feeds = followed(corpus_dir)
    for feed in feeds:
        if feed["url"] == url and feed.get("entries") != entries:
            feed["entries"] = entries
            _save(corpus_dir, feeds)
