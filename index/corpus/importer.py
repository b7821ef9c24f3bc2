"""`verbatim corpus import SOURCE…`: what a source is (captured page text, an HTML page, a feed; a file or
a URL), and each article it holds saved into the collection.

Nothing is written for a source that fails: it is read, recognised and turned into documents first.
A feed entry that fails (its page unreachable, no article text) is reported and the others still come in.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusError
from .charset import decode
from .collection import PAGES, Collection, Saved
from .feed_import import Feed, FeedEntry, entry_document, looks_like_feed, page_document, parse_feed
from .fetch import DEFAULT_TIMEOUT, MAX_BYTES, fetch, is_url
from .html_import import import_html
from .ids import canonical_url, check_id

_HTML_HINT = re.compile(rb"<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<article[\s>]|<p[\s>]", re.I)


@dataclass(frozen=True)
class Loaded:
    origin: str  # the path or URL as given
    data: bytes
    url: str = ""  # the final URL, for a fetched source
    content_type: str = ""
    charset: str | None = None


@dataclass(frozen=True)
class Outcome:
    origin: str
    saved: Saved | None = None
    error: str = ""
    skipped: str = ""  # why a feed entry was left out (the user removed that article)


class _Removed(Exception):
    """A feed entry turned out to be an article the user removed (found once its page named its URL)."""

    def __init__(self, record: dict):
        super().__init__(record.get("id", ""))
        self.record = record


def _removal_of(doc, removed: dict[str, dict]) -> dict | None:
    """The removal record of this document, by its guid, its canonical URL or its id."""
    for key in (doc.guid, doc.url):
        if key and key in removed:
            return removed[key]
    return next((r for r in removed.values() if r.get("id") == doc.id), None)


def _newest_first_once(entries) -> list[FeedEntry]:
    """Each guid once, in the feed's order, as its most recent version (a feed may list an entry twice)."""
    best: dict[str, FeedEntry] = {}
    for entry in entries:
        kept = best.get(entry.guid)
        if kept is None or (entry.updated or entry.published) > (kept.updated or kept.published):
            best[entry.guid] = entry
    seen, out = set(), []
    for entry in entries:
        if entry.guid not in seen:
            seen.add(entry.guid)
            out.append(best[entry.guid])
    return out


class Importer:
    def __init__(self, collection: Collection, timeout: float = DEFAULT_TIMEOUT, force: bool = False,
                 text_source: str | None = None):
        self.collection = collection
        self.timeout = timeout
        self.force = force
        self.text_source = text_source  # publication name for captured page text (the seed's site by default)

    # sources ----------------------------------------------------------------------------------------

    def load(self, source: str) -> Loaded:
        if not source.strip():
            raise CorpusError("an empty SOURCE: give a file or an http(s) URL")
        if is_url(source):
            got = fetch(source, self.timeout)
            loaded = Loaded(source, got.body, got.url, got.content_type, got.charset)
        else:
            path = Path(source)
            try:
                if path.is_file() and path.stat().st_size > MAX_BYTES:
                    raise CorpusError(f"{source} is larger than {MAX_BYTES // (1024 * 1024)} MB: not an article page "
                                      "or a feed")
                loaded = Loaded(source, path.read_bytes())
            except IsADirectoryError:
                raise CorpusError(f"cannot read {source}: it is a directory") from None
            except (OSError, ValueError) as e:  # ValueError: a NUL in the path
                raise CorpusError(f"cannot read {source!r}: {getattr(e, 'strerror', None) or e}") from None
        if not loaded.data.strip():
            raise CorpusError(f"{source} is empty")
        if b"\0" in loaded.data[:8192] and not loaded.data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CorpusError(f"{source} is a binary file, not a page or a feed")
        return loaded

    @staticmethod
    def kind(loaded: Loaded) -> str:
        ctype = loaded.content_type.lower()
        if looks_like_feed(loaded.data) or any(k in ctype for k in ("rss", "atom")):
            return "feed"
        if "html" in ctype or _HTML_HINT.search(loaded.data[:8192]):
            return "html"
        if ctype and not ctype.startswith("text/"):
            raise CorpusError(f"{loaded.origin} is {ctype.split(';')[0]}, not a page or a feed")
        return "text"

    def import_source(self, source: str, doc_id: str | None = None, feed_state: dict | None = None) -> list[Outcome]:
        """Every article of one source. Raises CorpusError (and writes nothing) when the source itself is bad."""
        if doc_id is not None:
            check_id(doc_id)
        loaded = self.load(source)
        kind = self.kind(loaded)
        if kind == "feed":
            if doc_id is not None:
                raise CorpusError("--id names one article: it cannot be used with a feed")
            return self.import_feed(loaded, feed_state)
        if kind == "html":
            saved = self._save_html(loaded, doc_id)
            from .feed_registry import forget_removed

            forget_removed(self.collection.dir, {k for k in (saved.doc.guid, saved.doc.url, loaded.url, source) if k})
            return [Outcome(source, saved)]
        return [Outcome(source, self._save_text(loaded, doc_id))]

    def read_feed(self, source: str) -> tuple[Loaded, Feed]:
        loaded = self.load(source)
        return loaded, parse_feed(loaded.data, source, loaded.content_type)

    # one kind each ----------------------------------------------------------------------------------

    def _save_text(self, loaded: Loaded, doc_id: str | None) -> Saved:
        from .page_import import import_page

        try:
            page = loaded.data.decode("utf-8")
        except UnicodeDecodeError:
            raise CorpusError(f"cannot read {loaded.origin}: it is neither UTF-8 text nor an HTML page") from None
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(loaded.url or loaded.origin).name).lstrip(".") or "page.txt"
        provenance = f"{PAGES}/{name}"
        doc_id = doc_id or self.collection.find(provenance=provenance)
        doc = import_page(page, doc_id=doc_id, source=self.text_source or "Next INpact", provenance=provenance)
        source_path = Path(loaded.origin)
        keep = None if not loaded.url and (self.collection.dir / provenance).resolve() == source_path.resolve() else loaded.data
        return self.collection.save(doc, force=self.force, page=keep, page_name=name)

    def _save_html(self, loaded: Loaded, doc_id: str | None, defaults_from: tuple[FeedEntry, Feed] | None = None,
                   removed: dict[str, dict] | None = None) -> Saved:
        html = decode(loaded.data, loaded.charset)
        if defaults_from:
            entry, feed = defaults_from
            doc = page_document(entry, feed, html, loaded.url)
        else:
            doc = import_html(html, url=loaded.url)
        stored = (doc.url and self.collection.find(url=doc.url)) or (doc.guid and self.collection.find(guid=doc.guid))
        if doc_id and stored and stored != doc_id and not self.force:
            raise CorpusError(f"this article is already in the corpus as {stored}; remove it first "
                              f"(verbatim corpus remove {stored}) to store it under {doc_id}")
        doc_id = doc_id or stored or doc.id
        doc = self._as_stored(dataclasses.replace(doc, id=check_id(doc_id), provenance=f"{PAGES}/{doc_id}.html"))
        if removed and (record := _removal_of(doc, removed)):
            raise _Removed(record)
        return self.collection.save(doc, force=self.force, page=loaded.data, page_name=f"{doc_id}.html")

    def _as_stored(self, doc):
        """The stored article's feed guid kept when a second entry of the feed (another guid, the same page)
        brings it again: the article is unchanged, not updated back and forth at every sync."""
        old = self.collection.documents().get(doc.id)
        if old is not None and old.guid and doc.guid and old.guid != doc.guid and old.url and \
                canonical_url(old.url) == canonical_url(doc.url):
            return dataclasses.replace(doc, guid=old.guid)
        return doc

    def import_feed(self, loaded: Loaded, feed_state: dict | None = None) -> list[Outcome]:
        """Entries not yet in the corpus, and, for a followed feed (`feed_state`: guid -> the entry's last
        timestamp), entries whose timestamp moved. Entries with full content are always re-read: that is free."""
        from .feed_registry import removed_articles

        feed = parse_feed(loaded.data, loaded.origin, loaded.content_type)
        removed = removed_articles(self.collection.dir)
        outcomes = []
        for entry in _newest_first_once(feed.entries):
            stamp = entry.updated or entry.published
            origin = entry.link or entry.guid
            link = canonical_url(entry.link) if entry.link else ""
            gone = removed.get(entry.guid) or removed.get(entry.link) or (link and removed.get(link))
            if gone:
                outcomes.append(Outcome(origin, skipped=_skipped(gone)))
                continue
            known = self.collection.find(guid=entry.guid) or (link and self.collection.find(url=link))
            try:
                if entry.content_html:
                    doc = entry_document(entry, feed, provenance=loaded.url or loaded.origin)
                    doc = self._as_stored(dataclasses.replace(
                        doc, id=check_id(known or self.collection.find(url=doc.url) or doc.id)))
                    if record := _removal_of(doc, removed):
                        raise _Removed(record)
                    saved = self.collection.save(doc, force=self.force)
                elif known and (feed_state is None or feed_state.get(entry.guid) == stamp):
                    saved = Saved(self.collection.documents()[known], "unchanged", self.collection.path_of(known))
                else:
                    if not is_url(entry.link):
                        raise CorpusError("the entry has neither full content nor a page link")
                    got = fetch(entry.link, self.timeout)
                    page = Loaded(entry.link, got.body, got.url, got.content_type, got.charset)
                    saved = self._save_html(page, known or None, defaults_from=(entry, feed), removed=removed)
            except _Removed as gone:
                outcomes.append(Outcome(origin, skipped=_skipped(gone.record)))
                continue
            except CorpusError as e:
                message = str(e)  # said once: "URL: URL: HTTP error 404" reads as a stutter
                outcomes.append(Outcome(origin, error=message[len(origin) + 2:] if message.startswith(origin + ": ")
                                        else message))
                continue
            if feed_state is not None:
                feed_state[entry.guid] = stamp
            outcomes.append(Outcome(origin, saved))
        return outcomes


def _skipped(record: dict) -> str:
    return f"removed as {record.get('id')} with `verbatim corpus remove` on {str(record.get('at', ''))[:10]}"
