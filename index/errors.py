"""Errors a user can act on. Their message is one line that says what went wrong and what to do."""


class VerbatimError(Exception):
    """Base of every error whose message is fit to show a user as-is."""


class BadQuestion(VerbatimError):
    """The question cannot be searched (empty, too long, unprintable)."""


class CorpusError(VerbatimError):
    """A corpus file is missing, unreadable or malformed."""


class IndexMissing(VerbatimError):
    """No index has been built yet."""


class IndexMismatch(VerbatimError):
    """The index on disk does not fit the configuration or the corpus: answers would be wrong."""


class IndexCorrupt(VerbatimError):
    """Index files are damaged or incomplete."""


class ConfigError(VerbatimError):
    """A setting has a value that cannot work."""


class UnknownArticle(VerbatimError):
    """A question was restricted to an article id the current index does not have."""

    def __init__(self, article_id: str):
        self.article_id = article_id
        super().__init__(f"no article with id '{article_id}' (see `verbatim corpus list`)")


class DatabaseUnavailable(VerbatimError):
    """The PostgreSQL server named by the database URL cannot be reached or used (the message hides the password)."""
