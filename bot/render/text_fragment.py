"""Links to the exact passage: a URL text fragment (`#:~:text=start,end`, WICG "Text Fragments").

Browsers that support it scroll to and highlight the range from `start` to `end`; others simply
open the page. `start` is the first few words of the passage and `end` its last few, each within one
line of it (a match never crosses a block boundary), percent-encoded as the spec asks: every
character outside the URL "unreserved" set, and `-`, `&` and `,` (the directive's own syntax).
https://wicg.github.io/scroll-to-text-fragment/
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from .discord_limits import URL as URL_MAX  # also a sane ceiling for terminal and JSON links

EDGE_WORDS = 4  # words of each end of the passage
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~"  # and "-", escaped here
_URL_UNSAFE = re.compile(r"[\s()<>\[\]\"'`\\|^{}]")  # would end a Markdown link or is not URL text


def encode(words: str) -> str:
    """One directive value: UTF-8 percent-encoding of all but the unreserved characters, `-` included."""
    return quote(words, safe=_UNRESERVED.replace("-", "")).replace("-", "%2D")


def directive(text: str, edge_words: int = EDGE_WORDS) -> str:
    """`text=start,end` (or `text=start` for a passage of a few words) naming the passage's words."""
    lines = [line.split() for line in text.splitlines() if line.split()]
    if not lines:
        return ""
    first, last = lines[0], lines[-1]
    if len(lines) == 1 and len(first) <= 2 * edge_words:
        return "text=" + encode(" ".join(first))
    start = first[:edge_words]
    end = last[-edge_words:]
    if len(lines) == 1:  # keep start and end apart so the range reads forward
        end = first[max(edge_words, len(first) - edge_words):]
    return "text=" + encode(" ".join(start)) + "," + encode(" ".join(end))


def safe_base(url: str) -> str | None:
    """The article URL fit for a Markdown link: http(s) only, no fragment, unsafe characters escaped."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    base = url.split("#", 1)[0]
    return _URL_UNSAFE.sub(lambda m: "%{:02X}".format(ord(m.group(0))) if ord(m.group(0)) < 128
                           else quote(m.group(0)), base)


def passage_link(url: str, text: str, max_chars: int = URL_MAX) -> str | None:
    """The article URL with a text fragment for `text`, fewer words if it is too long, the bare URL if
    even one word does not fit; None without a usable URL or when the URL alone exceeds `max_chars`."""
    base = safe_base(url)
    if base is None or len(base) > min(max_chars, URL_MAX):
        return None
    for n in range(EDGE_WORDS, 0, -1):
        fragment = directive(text, n)
        link = f"{base}#:~:{fragment}" if fragment else base
        if len(link) <= min(max_chars, URL_MAX):
            return link
    return base
