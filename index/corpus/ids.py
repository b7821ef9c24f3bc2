"""Document ids: plain slugs, because an id becomes a file name (`corpus/ID.md`) and must never name a path.

A stable id comes from the canonical URL when there is one, so re-importing the same article, from a
saved page, its URL or a feed, finds the same file.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import CorpusError

MAX_ID = 100
_PLAIN_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$")


def check_id(doc_id: str) -> str:
    """The id itself when it is a plain slug; a CorpusError otherwise (`../x`, `/abs`, `.`, NUL, newline…)."""
    if (not isinstance(doc_id, str) or len(doc_id) > MAX_ID or _PLAIN_SLUG.fullmatch(doc_id) is None
            or ".." in doc_id):
        shown = repr(doc_id if not isinstance(doc_id, str) or len(doc_id) <= 50 else doc_id[:50] + "…")
        raise CorpusError(f"{shown} is not a plain id: use lower-case letters, digits, '-', '_' and '.', "
                          f"starting with a letter or digit, at most {MAX_ID} characters (no '/' or '..')")
    return doc_id


_TRACKING = re.compile(r"utm_\w*|at_\w*|xtor|fbclid|gclid|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|ns_\w*",
                       re.IGNORECASE)


def canonical_url(url: str) -> str:
    """The article's address without what only says how a reader got there: the fragment and tracking
    parameters (`?utm_source=rss`, `xtor=`, `fbclid=`), so a feed's tagged link and the page's own URL
    name one article, not two."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https"):
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _TRACKING.fullmatch(k)]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)  # untouched unless a tracker is dropped
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def slug(text: str, limit: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:limit].rstrip("-")


def id_from_url(url: str) -> str:
    """`https://www.site.fr/tech/2024/03/une-annonce.html` -> `site-fr-tech-2024-03-une-annonce`.

    Long URLs are cut and given a short hash of the whole URL so two long URLs never share an id.
    """
    parts = urlsplit(url)
    host = re.sub(r"^www\d*\.", "", (parts.hostname or "").lower())
    path = _PAGE_SUFFIX.sub("", parts.path.rstrip("/"))
    path = re.sub(r"/index$", "", path)
    full = slug(f"{host} {path} {parts.query}", limit=10_000)
    if not full:
        raise CorpusError(f"cannot make an id from the URL {url!r}: pass --id")
    if len(full) <= 80:
        return full
    return full[:71].rstrip("-") + "-" + hashlib.sha256(url.encode()).hexdigest()[:8]
