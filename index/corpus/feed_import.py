"""RSS and Atom feeds (feedparser): the entries, and each entry as a Document.

An entry that carries its full text (`content:encoded`, Atom `<content>`) is imported from it; one that
carries only a summary is imported from its page, fetched by the caller.
"""
from __future__ import annotations

import html as html_lib
import time
from dataclasses import dataclass

import feedparser

from ..errors import CorpusError
from .document import Document
from .html_import import import_html


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str
    title: str
    author: str
    published: str  # ISO
    updated: str  # ISO, "" when the feed gives none
    content_html: str  # the full article when the feed carries it, else ""


@dataclass(frozen=True)
class Feed:
    title: str
    language: str
    entries: tuple[FeedEntry, ...]


def looks_like_feed(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2:].lstrip()
    while head.startswith(b"<!--") or head.startswith(b"<?"):
        head = head[head.find(b">") + 1:].lstrip()
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf"))


def parse_feed(data: bytes, origin: str, content_type: str = "") -> Feed:
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(data, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    if not parsed.get("version"):
        raise CorpusError(f"{origin} is not an RSS or Atom feed")
    entries = []
    for e in parsed.entries:
        link = e.get("link", "")
        guid = e.get("id") or link
        if not guid:
            continue
        entries.append(FeedEntry(guid=guid, link=link, title=html_lib.unescape(e.get("title", "")).strip(),
                                 author=e.get("author", ""), published=_iso(e.get("published_parsed")),
                                 updated=_iso(dict.get(e, "updated_parsed")), content_html=_full_content(e)))
    if parsed.get("bozo") and not entries:  # broken XML and nothing usable in it
        reason = str(parsed.get("bozo_exception", "")).split("\n")[0][:120]
        raise CorpusError(f"{origin} is not an RSS or Atom feed that can be read ({reason})")
    language = (parsed.feed.get("language") or "")[:2].lower()
    return Feed(title=parsed.feed.get("title", ""), language=language, entries=tuple(entries))


def entry_document(entry: FeedEntry, feed: Feed, doc_id: str | None = None, provenance: str = "") -> Document:
    """The entry's own full content as a document (the feed's metadata wins: the content has none)."""
    page = (f"<html lang=\"{html_lib.escape(feed.language)}\"><head><title>{html_lib.escape(entry.title)}</title>"
            f"</head><body><article>{entry.content_html}</article></body></html>")
    return import_html(page, url=entry.link, doc_id=doc_id, source=feed.title, provenance=provenance,
                       guid=entry.guid, defaults=_defaults(entry, feed), fragment=True)


def page_document(entry: FeedEntry, feed: Feed, page: str, url: str, doc_id: str | None = None,
                  provenance: str = "") -> Document:
    """The entry from its fetched page; the feed fills what the page does not say."""
    return import_html(page, url=url, doc_id=doc_id, source=feed.title, provenance=provenance, guid=entry.guid,
                       defaults=_defaults(entry, feed))


def _defaults(entry: FeedEntry, feed: Feed) -> dict:
    return {"title": entry.title, "author": entry.author, "date": entry.published,
            "updated": entry.updated if entry.updated != entry.published else "", "language": feed.language}


def _full_content(entry) -> str:
    for content in entry.get("content", []):
        if content.get("type") in ("text/html", "application/xhtml+xml") and content.get("value", "").strip():
            return content["value"]
    for content in entry.get("content", []):
        if content.get("value", "").strip():
            return "<p>" + html_lib.escape(content["value"]).replace("\n\n", "</p><p>") + "</p>"
    return ""


def _iso(parsed: time.struct_time | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else ""
