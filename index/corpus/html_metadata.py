"""What trafilatura does not read from a page: its language, its last-updated date and a published date
with its time of day. Only machine-readable markup is read (meta tags, `<time datetime>`, JSON-LD), the
same markup trafilatura's date search trusts.
"""
from __future__ import annotations

import json
import re

import lxml.html

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "last-modified", "dcterms.modified")
_PUBLISHED_META = ("article:published_time", "datePublished", "dcterms.created", "dcterms.date", "date")


def page_language(tree: lxml.html.HtmlElement) -> str:
    """Two-letter code from `<html lang>`, `og:locale` or `content-language`; "" when the page is silent."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath("//meta[@property='og:locale']/@content")
    candidates += tree.xpath("//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')="
                             "'content-language']/@content")
    for value in candidates:
        match = re.match(r"\s*([A-Za-z]{2,3})(?:[-_]|\s*$)", value or "")
        if match:
            return match[1].lower()
    return ""


def guess_language(text: str) -> str:
    """French or English (the languages the retriever is tuned for), from the words themselves."""
    import simplemma

    best = simplemma.langdetect(text[:4000], lang=("fr", "en"))[0]
    return best[0] if best[0] != "unk" else ""


def updated_date(tree: lxml.html.HtmlElement) -> str:
    return _first_iso(_meta_values(tree, _MODIFIED_META) + tree.xpath("//time[contains(@class,'updated')]/@datetime")
                      + _json_ld_values(tree, "dateModified"))


def published_timestamp(tree: lxml.html.HtmlElement, date: str) -> str:
    """The full timestamp the page gives for `date` (trafilatura's YYYY-MM-DD), or `date` itself.

    When the page's own publication markup names another day, the markup wins: trafilatura may have taken
    `date` from the URL (`/2024/03/05/…` for an article published on the 6th, or the URL of a first version)."""
    values = [v.strip() for v in (_meta_values(tree, _PUBLISHED_META) + _json_ld_values(tree, "datePublished")
                                  + tree.xpath("//time[contains(@class,'published')]/@datetime"))]
    stamps = [v for v in values if _ISO.match(v)]
    for value in stamps:
        if date and value.startswith(date):
            return value
    return stamps[0] if stamps else date


def _first_iso(values: list[str]) -> str:
    return next((v.strip() for v in values if _ISO.match(v.strip())), "")


def _meta_values(tree: lxml.html.HtmlElement, names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        out += tree.xpath(f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']/@content")
    return out


def _json_ld_values(tree: lxml.html.HtmlElement, key: str) -> list[str]:
    found: list[str] = []
    for data in json_ld(tree):
        _collect(data, key, found)
    return found


def json_ld(tree: lxml.html.HtmlElement) -> list:
    """Every JSON-LD block of the page, parsed; broken blocks are skipped (pages often ship some)."""
    blocks = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            blocks.append(json.loads(script.text_content()))
        except ValueError:
            continue
    return blocks


def _collect(data, key: str, found: list[str]) -> None:
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, str):
            found.append(value)
        for child in data.values():
            if isinstance(child, (dict, list)):
                _collect(child, key, found)
    elif isinstance(data, list):
        for item in data:
            _collect(item, key, found)
