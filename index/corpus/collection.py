"""The corpus directory as a collection of articles: find one by URL or feed guid, save a new or changed
version, list, remove. The only writer of `corpus/*.md` besides a human with an editor.

Saving compares the file that would be written with the one on disk: identical means "unchanged" and
nothing is touched (not even the file's mtime), so a sync that finds nothing new changes nothing.
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import CorpusError
from . import markdown_format
from .document import Document, text_hash
from .fingerprint import read_text
from .ids import canonical_url, check_id

PAGES = "pages"


@dataclass(frozen=True)
class Saved:
    doc: Document
    status: str  # "imported" | "updated" | "unchanged"
    path: Path


class Collection:
    def __init__(self, corpus_dir: Path):
        self.dir = corpus_dir
        self._docs: dict[str, Document] | None = None
        self._damaged: dict[str, str] = {}

    def documents(self) -> dict[str, Document]:
        """The readable articles, by file name. A damaged file (hand-edited, half-copied) is set aside in
        `damaged` rather than stopping every command: listing, importing and removing go on without it."""
        if self._docs is None:
            self._docs = {}
            if self.dir.is_dir():
                for path in sorted(self.dir.glob("*.md")):
                    try:
                        self._docs[path.stem] = markdown_format.loads(read_text(path), origin=str(path))
                    except CorpusError as e:
                        self._damaged[path.stem] = str(e)
        return self._docs

    @property
    def damaged(self) -> dict[str, str]:
        """File name (without .md) → why it cannot be read."""
        self.documents()
        return self._damaged

    def path_of(self, doc_id: str) -> Path:
        return self.dir / f"{check_id(doc_id)}.md"

    def find(self, *, url: str = "", guid: str = "", provenance: str = "") -> str | None:
        """The id of the article already stored for this URL, feed guid or source file, if any."""
        for file_id, doc in self.documents().items():
            if (guid and doc.guid == guid) or (url and doc.url == url) or (provenance and doc.provenance == provenance):
                return file_id
        return None

    def save(self, doc: Document, *, force: bool = False, page: bytes | None = None,
             page_name: str | None = None) -> Saved:
        """Writes `doc` as `corpus/ID.md` (and its source page under `pages/`) unless it is unchanged.

        An id already used by a *different* article (another URL, guid or source file) is refused unless
        `force`: importing must never silently replace someone else's article."""
        path = self.path_of(doc.id)
        if doc.id in self.damaged:
            raise CorpusError(f"{path} is damaged ({self.damaged[doc.id]}): repair it, or remove it with "
                              f"`verbatim corpus remove {doc.id}`, then import again")
        doc = dataclasses.replace(doc, content_hash=text_hash(doc))
        text = markdown_format.dumps(doc)
        if markdown_format.loads(text, origin=str(path)) != doc:
            raise CorpusError(f"{doc.id}: the article cannot be stored verbatim in the Markdown format "
                              "(a paragraph starts like a heading or a quote)")
        old = self.documents().get(doc.id)
        if old is not None and not force and not _same_article(old, doc):
            raise CorpusError(f"{path} holds another article ({old.url or old.provenance or old.title}); "
                              "pass --id to choose another id, or --force to replace it")
        if path.exists() and path.read_bytes() == text.encode("utf-8"):
            return Saved(doc, "unchanged", path)
        status = "updated" if path.exists() else "imported"
        if page is not None and page_name:
            _write_atomically(self.dir / PAGES / page_name, page)
        _write_atomically(path, text.encode("utf-8"))
        self.documents()[doc.id] = doc
        return Saved(doc, status, path)

    def remove(self, doc_id: str) -> Document | None:
        """Removes the article `doc_id` (its id, or its file's name), and its saved page if no other article
        uses it; a damaged file of that name is removed too (then None: it could not be read)."""
        if doc_id in self.damaged and (self.dir / f"{doc_id}.md").exists():  # a name listed from the directory

            (self.dir / f"{doc_id}.md").unlink()
            del self._damaged[doc_id]
            return None
        check_id(doc_id)
        if doc_id not in self.documents():  # the id `corpus list` shows, in a file named otherwise
            named = [stem for stem, d in self.documents().items() if d.id == doc_id]
            doc_id = named[0] if len(named) == 1 else doc_id
        path = self.path_of(doc_id)
        doc = self.documents().get(doc_id)
        if doc is None or not path.exists():
            raise CorpusError(f"no article with id {doc_id!r} in {self.dir} (see `verbatim corpus list`)")
        if doc.provenance.startswith(PAGES + "/"):
            page = self.dir / doc.provenance
            others = [d for i, d in self.documents().items() if i != doc_id and d.provenance == doc.provenance]
            if page.resolve().parent == (self.dir / PAGES).resolve() and not others:
                page.unlink(missing_ok=True)
        path.unlink()
        del self.documents()[doc_id]
        return doc


def _same_article(old: Document, new: Document) -> bool:
    """By feed guid or by web address (tracking parameters aside): a feed may list one article under two guids."""
    if old.guid and new.guid and old.guid == new.guid:
        return True
    if old.url and new.url:
        return canonical_url(old.url) == canonical_url(new.url)
    if old.guid and new.guid:
        return False
    if old.provenance and new.provenance:
        return old.provenance == new.provenance
    return old.title == new.title


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def corpus_lock(corpus_dir: Path, wait: float = 120.0) -> Iterator[None]:
    """One `corpus import`, `sync` or `remove` at a time in a corpus: two imports of one page at once would
    each judge "unchanged" or "updated" against a file the other is replacing. The lock is taken on the
    directory itself (flock on its descriptor), so nothing is written for it; a corpus not created yet, or
    one that cannot be opened, is not locked (its first write says what is wrong)."""
    try:
        fd = os.open(corpus_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CorpusError(f"another `verbatim corpus` import, sync or remove has been using {corpus_dir} "
                                      f"for {wait:g} s; try again when it is done") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
