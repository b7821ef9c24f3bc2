"""One HTTP GET for an article page or a feed: a clear User-Agent, a timeout, a size cap, the declared charset.

Used only by `verbatim corpus import` and `corpus sync`, and only for the URLs the user gave (or the
entry links of a feed the user gave). Answering questions never touches the network.
"""
from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
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
    return urlsplit(source).scheme in ("http", "https")


def fetch(url: str, timeout: float = DEFAULT_TIMEOUT) -> Fetched:
    if not is_url(url):
        raise CorpusError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={
        "User-Agent": user_agent(),
        "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise CorpusError(f"{url}: the page is larger than {MAX_BYTES // (1024 * 1024)} MB")
            content_type = response.headers.get("Content-Type", "")
            return Fetched(response.geturl(), response.status, content_type,
                           charset_from_content_type(content_type), body)
    except urllib.error.HTTPError as e:
        raise CorpusError(f"{url}: HTTP error {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise CorpusError(f"{url}: no answer within {timeout:g} s") from None
        raise CorpusError(f"cannot reach {url}: {getattr(reason, 'strerror', None) or reason}") from None
    except (socket.timeout, TimeoutError):
        raise CorpusError(f"{url}: no answer within {timeout:g} s") from None
    except (OSError, ValueError) as e:  # connection reset mid-body, malformed URL
        raise CorpusError(f"cannot fetch {url}: {e}") from None
