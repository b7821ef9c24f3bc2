"""One HTTP GET for an article page or a feed: a clear User-Agent, a timeout, a size cap, the declared charset.

Used only by `verbatim corpus import` and `corpus sync`, and only for the URLs the user gave (or the
entry links of a feed the user gave). Answering questions never touches the network.
"""
from __future__ import annotations

import http.client
import os
import socket
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urlsplit

from ..errors import CorpusError
from .charset import charset_from_content_type

CONTACT_ENV = "VERBATIM_CONTACT"  # the operator's site or e-mail, so a newsroom knows who fetches its pages
MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 20.0


def user_agent() -> str:
    try:
        version = metadata.version("verbatim")
    except metadata.PackageNotFoundError:
        version = "0"
    contact = os.environ.get(CONTACT_ENV, "").strip().replace("(", "").replace(")", "")
    return f"Verbatim/{version} (+{contact})" if contact else f"Verbatim/{version} (self-hosted news quote bot)"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    charset: str | None  # from the Content-Type header
    body: bytes


def is_url(source: str) -> bool:
    """Whether the source is meant as a web address (even a malformed one, which `fetch` then refuses)."""
    return source[:8].lower().startswith(("http://", "https://"))


def _first_line(reason) -> str:
    """A server's or the library's reason on one line ("…infinite loop.\nThe last 30x error message was:…")."""
    return next((line.strip() for line in str(reason).splitlines() if line.strip()), "")


def fetch(url: str, timeout: float = DEFAULT_TIMEOUT) -> Fetched:
    """The whole body, or a CorpusError: refused, unreachable, an HTTP error, larger than MAX_BYTES, cut off
    before its declared length, or not done within `timeout` seconds (each wait, and the download as a whole:
    a server that sends a byte now and then is given up on too)."""
    try:
        parts = urlsplit(url)
        parts.port  # a port that is not a number raises here
    except ValueError:
        raise CorpusError(f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CorpusError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={
        "User-Agent": user_agent(),
        "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5",
    })
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = _read_body(response, url, timeout, deadline)
            content_type = response.headers.get("Content-Type", "")
            return Fetched(response.geturl(), response.status, content_type,
                           charset_from_content_type(content_type), body)
    except urllib.error.HTTPError as e:
        raise CorpusError(f"{url}: HTTP error {e.code} {_first_line(e.reason)}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise CorpusError(f"{url}: no answer within {timeout:g} s") from None
        raise CorpusError(f"cannot reach {url}: {_first_line(getattr(reason, 'strerror', None) or reason)}") from None
    except (socket.timeout, TimeoutError):
        raise CorpusError(f"{url}: no answer within {timeout:g} s") from None
    except http.client.IncompleteRead as e:
        raise CorpusError(f"{url}: the download was cut off after {len(e.partial)} bytes; nothing was imported") from None
    except (OSError, ValueError, http.client.HTTPException) as e:  # connection reset mid-body, malformed URL
        raise CorpusError(f"cannot fetch {url}: {_first_line(e) or type(e).__name__}") from None


def _read_body(response, url: str, timeout: float, deadline: float) -> bytes:
    """Chunk by chunk, so the size cap and the overall deadline hold; checked against Content-Length (a
    connection closed early gives a short body without an error) and decompressed if the server compressed it
    unasked."""
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise CorpusError(f"{url}: the download took longer than {timeout:g} s; nothing was imported")
        chunk = response.read1(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BYTES:
            raise CorpusError(f"{url}: the page is larger than {MAX_BYTES // (1024 * 1024)} MB")
    body = b"".join(chunks)
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and len(body) < int(declared):
        raise CorpusError(f"{url}: the download was cut off ({len(body)} of {int(declared)} bytes); nothing was imported")
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, whichever it has
        try:
            body = inflate.decompress(body, MAX_BYTES + 1)  # bounded: a small body can inflate to gigabytes
        except zlib.error:
            raise CorpusError(f"{url}: the server sent a damaged compressed ({encoding}) body") from None
        if len(body) > MAX_BYTES:
            raise CorpusError(f"{url}: the page is larger than {MAX_BYTES // (1024 * 1024)} MB")
        if not inflate.eof:
            raise CorpusError(f"{url}: the server sent a damaged compressed ({encoding}) body") from None
    return body
