"""Database URLs as users write them, and the form safe to print (no password, ever)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("postgresql", "postgres")


_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def is_database_url(url: str) -> bool:
    try:
        return urlsplit(url.strip()).scheme.lower() in SCHEMES
    except ValueError:  # "postgresql://u@[::1/db": not a URL that can be used (connect says so in one line)
        return url.strip().lower().startswith(tuple(f"{s}://" for s in SCHEMES))


def redacted(url: str) -> str:
    """The URL with its password (in the netloc or a `password=` query parameter, or in libpq's
    `key=value` form, "host=… password=…") replaced by `***`."""
    if "://" not in url:
        return _KEYWORD_PASSWORD.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable database URL>"
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    query = "&".join("password=***" if q.lower().startswith("password=") else q
                     for q in parts.query.split("&")) if parts.query else ""
    if not netloc and not query:
        return url  # "postgresql://": nothing to hide, and geturl() would print "postgresql:"
    return parts._replace(netloc=netloc, query=query).geturl()
