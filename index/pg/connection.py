"""Opening connections with errors a user can act on: the URL shown without its password, and what to do."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..errors import ConfigError, DatabaseUnavailable
from .url import is_database_url, redacted

CONNECT_TIMEOUT_S = 5


def psycopg_module():
    """psycopg, or a one-line error saying which extra to install."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError("a PostgreSQL database URL is set but psycopg is not installed: "
                          "pip install 'verbatim[postgres]'") from None
    return psycopg


def connect(url: str, *, autocommit: bool = False, **kwargs):
    """A psycopg connection, or DatabaseUnavailable naming the server (password hidden) and the cause."""
    if not is_database_url(url):
        raise ConfigError(f"database URL {redacted(url)!r} is not a postgresql:// URL")
    psycopg = psycopg_module()
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    try:
        return psycopg.connect(url, autocommit=autocommit, **kwargs)
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"cannot connect to the database at {redacted(url)}: {_first_line(e, url)}") from None


def _first_line(error: Exception, url: str) -> str:
    """The driver's message, first line only, with any password it echoes removed."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    text = text.replace(url, "the URL")  # libpq quotes a URI it cannot parse, password and all
    password = _password(url)
    return text.replace(password, "***") if password else text


def _password(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns a driver error met while using the database into DatabaseUnavailable (one line, no password)."""
    psycopg = psycopg_module()
    try:
        yield
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"the database at {redacted(url)} failed: {_first_line(e, url)}") from None
