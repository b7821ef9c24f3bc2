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


def _registry(corpus_dir: Path) -> dict:
    path = registry_path(corpus_dir)
    if not path.exists():
        return {"feeds": [], "removed": []}
    try:
        data = json.loads(path.read_text("utf-8"))
        feeds = data["feeds"]
        if not isinstance(feeds, list) or not all(isinstance(f, dict) and isinstance(f.get("url"), str) for f in feeds):
            raise ValueError("'feeds' is not a list of {url: …}")
        removed = data.get("removed", [])
        if not isinstance(removed, list) or not all(isinstance(r, dict) for r in removed):
            raise ValueError("'removed' is not a list of {id, guid, url}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CorpusError(f"{path} is damaged ({e}); fix or delete it, then follow the feeds again") from None
    return {"feeds": feeds, "removed": removed}


def followed(corpus_dir: Path) -> list[dict]:
    return _registry(corpus_dir)["feeds"]


def removed_articles(corpus_dir: Path) -> dict[str, dict]:
    """guid or URL -> the record of an article a user removed: `sync` must not bring it back from its feed."""
    keys: dict[str, dict] = {}
    for record in _registry(corpus_dir)["removed"]:
        for key in (record.get("guid"), record.get("url")):
            if isinstance(key, str) and key:
                keys[key] = record
    return keys


def remember_removed(corpus_dir: Path, doc_id: str, guid: str, url: str) -> None:
    """Called by `corpus remove` for an article that came from a feed (it has a guid or a URL)."""
    if not (guid or url) or (not registry_path(corpus_dir).exists()):
        return  # no feed followed: nothing could bring it back
    registry = _registry(corpus_dir)
    registry["removed"] = [r for r in registry["removed"] if r.get("id") != doc_id]
    registry["removed"].append({"id": doc_id, "guid": guid, "url": url, "at": _now()})
    _save(corpus_dir, registry["feeds"], registry["removed"])


def forget_removed(corpus_dir: Path, keys: set[str]) -> None:
    """An article imported again by hand is wanted again: a later sync may update it."""
    if not keys or not registry_path(corpus_dir).exists():
        return
    registry = _registry(corpus_dir)
    kept = [r for r in registry["removed"] if not ({r.get("guid"), r.get("url")} & keys)]
    if len(kept) != len(registry["removed"]):
        _save(corpus_dir, registry["feeds"], kept)


def follow(corpus_dir: Path, url: str, title: str = "") -> bool:
    """Adds the feed; False when it was already followed."""
    registry = _registry(corpus_dir)
    feeds = registry["feeds"]
    if any(f["url"] == url for f in feeds):
        return False
    feeds.append({"url": url, "title": title, "added": _now()})
    _save(corpus_dir, feeds, registry["removed"])
    return True


def mark_synced(corpus_dir: Path, url: str, error: str = "") -> None:
    registry = _registry(corpus_dir)
    for feed in registry["feeds"]:
        if feed["url"] == url:
            feed["last_sync"] = _now()
            feed["last_error"] = error
    _save(corpus_dir, registry["feeds"], registry["removed"])


def _save(corpus_dir: Path, feeds: list[dict], removed: list[dict]) -> None:
    data = {"feeds": feeds, "removed": removed} if removed else {"feeds": feeds}
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    _write_atomically(registry_path(corpus_dir), text.encode("utf-8"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record_entries(corpus_dir: Path, url: str, entries: dict[str, str]) -> None:
    """Remembers each entry's last timestamp (guid -> ISO), so a sync refetches only pages that changed.
    Writes nothing when nothing moved."""
    registry = _registry(corpus_dir)
    for feed in registry["feeds"]:
        if feed["url"] == url and feed.get("entries") != entries:
            feed["entries"] = entries
            _save(corpus_dir, registry["feeds"], registry["removed"])
