"""`verbatim corpus …`: import pages, URLs and feeds, follow feeds, sync them, list and remove articles.

Handlers only: the work is in `index.corpus` (importer, collection, feed registry, listing).
"""
from __future__ import annotations

import argparse
import json
import sys

from index.errors import CorpusError, IndexCorrupt, VerbatimError

from .progress import progress_bar


def add_corpus_commands(corpus: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    imp = corpus.add_parser("import", parents=[common], help="import articles: page files, HTML pages, URLs, feeds",
                            description="Each SOURCE is a file or an http(s) URL: captured page text, a saved "
                            "HTML article page, or an RSS/Atom feed (every entry not yet in the corpus).")
    imp.add_argument("sources", nargs="+", metavar="SOURCE", help="file or URL")
    imp.add_argument("--id", help="document id for a single page (default: from its canonical URL, or from "
                     "the source, date and title)")
    imp.add_argument("--source", help="publication name for captured page text (default: Next INpact)")
    imp.add_argument("--follow", action="store_true", help="SOURCE is a feed URL to follow: register it for "
                     "`verbatim corpus sync` and import its entries now")
    imp.add_argument("--force", action="store_true", help="replace another article that has the same id")
    imp.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a URL (default 20)")
    imp.set_defaults(handler=corpus_import)

    sync = corpus.add_parser("sync", parents=[common], help="re-read every followed feed, import what is new or "
                             "changed, rebuild the index")
    sync.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each URL (default 20)")
    sync.add_argument("--no-build", action="store_true", help="import only; do not rebuild the index")
    sync.set_defaults(handler=corpus_sync)

    ls = corpus.add_parser("list", parents=[common], help="list the articles of the corpus, newest first")
    ls.add_argument("--json", action="store_true", help="one JSON array: id, title, date, url, passages, comments")
    ls.set_defaults(handler=corpus_list)

    rm = corpus.add_parser("remove", parents=[common], help="remove an article from the corpus")
    rm.add_argument("id", help="the article's id (see `verbatim corpus list`)")
    rm.set_defaults(handler=corpus_remove)


def _settings(args: argparse.Namespace):
    from index.settings import Settings

    return Settings.from_env(corpus_dir=args.corpus, data_dir=args.data_dir, embedder=args.embedder, model=args.model,
                             database_url=args.database_url)  # sync builds, list counts: where `index` would


def _importer(args: argparse.Namespace, corpus_dir):
    from index.corpus.collection import Collection
    from index.corpus.importer import Importer

    if not 0 < args.timeout <= 600:
        raise VerbatimError("--timeout must be more than 0 and at most 600 seconds")
    collection = Collection(corpus_dir)
    _warn_damaged(collection)
    return Importer(collection, timeout=args.timeout, force=getattr(args, "force", False),
                    text_source=getattr(args, "source", None))


def _warn_damaged(collection) -> None:
    """One line per article file that cannot be read: the command goes on without it, and says so."""
    for name, why in collection.damaged.items():
        print(f"verbatim: warning: skipped {why} (fix it, or `verbatim corpus remove {name}`)", file=sys.stderr)


def corpus_import(args: argparse.Namespace) -> int:
    from index.corpus.collection import corpus_lock

    with corpus_lock(_settings(args).corpus_dir):
        return _corpus_import(args)


def _corpus_import(args: argparse.Namespace) -> int:
    from index.corpus import feed_registry
    from index.corpus.fetch import is_url
    from index.corpus.ids import check_id

    settings = _settings(args)
    if args.id is not None:
        check_id(args.id)
        if args.id.endswith(".md"):
            raise VerbatimError(f"--id {args.id}: give the id without .md (the file is named ID.md)")
        if len(args.sources) > 1:
            raise VerbatimError("--id names one article: give a single SOURCE with it")
    if args.follow:
        for source in args.sources:
            if not is_url(source):
                raise VerbatimError(f"--follow takes a feed URL (http or https), not {source!r}")
    importer = _importer(args, settings.corpus_dir)
    failed = changed = 0
    for source in args.sources:
        try:
            if args.follow:
                if args.id is not None:
                    raise CorpusError("--id names one article: it cannot be used with --follow")
                loaded, feed = importer.read_feed(source)  # a feed that is not a feed is refused before registering
                state: dict = {}
                outcomes = importer.import_feed(loaded, state)
                new = feed_registry.follow(settings.corpus_dir, source, feed.title)
                feed_registry.record_entries(settings.corpus_dir, source, state)
                print(f"{'following' if new else 'already following'} {source} ({feed.title or 'untitled feed'}, "
                      f"{len(feed.entries)} entries); `verbatim corpus sync` keeps it up to date")
            else:
                outcomes = importer.import_source(source, doc_id=args.id)
        except CorpusError as e:
            failed += 1
            message = str(e) if source in str(e) else f"{source}: {e}"
            print(f"verbatim: error: {message}", file=sys.stderr)
            continue
        if not outcomes:
            print(f"{source}: nothing to import (the feed has no entries)")
        f, c = _report(outcomes)
        failed, changed = failed + f, changed + c
    if changed:
        print("run `verbatim index build` to make the changes searchable")
    return 1 if failed else 0


def _report(outcomes) -> tuple[int, int]:
    failed = changed = 0
    for outcome in outcomes:
        if outcome.skipped:
            print(f"skipped {outcome.origin}: {outcome.skipped} (`verbatim corpus import {outcome.origin}` "
                  "brings it back)")
            continue
        if outcome.error:
            failed += 1
            print(f"verbatim: error: {outcome.origin}: {outcome.error}", file=sys.stderr)
            continue
        saved = outcome.saved
        doc = saved.doc
        if saved.status == "unchanged":
            print(f"unchanged {doc.id}")
            continue
        changed += 1
        comments = len(doc.comments)
        paragraphs = sum(1 for b in doc.blocks if b.role == "paragraph")
        said = f"{comments} comments" if comments else "no comments found on the page, article imported alone"
        print(f"{saved.status} {doc.id}: {paragraphs} paragraphs, {said} -> {saved.path}")
    return failed, changed


def corpus_sync(args: argparse.Namespace) -> int:
    from index.corpus import feed_registry

    settings = _settings(args)
    feeds = feed_registry.followed(settings.corpus_dir)
    if not feeds:
        raise VerbatimError(f"no feed is followed in {settings.corpus_dir}: "
                            "`verbatim corpus import --follow FEED_URL` first")
    from index.corpus.collection import corpus_lock

    with corpus_lock(settings.corpus_dir):
        failed, changed = _sync_feeds(args, settings, feeds)
    if args.no_build:
        return 1 if failed else 0
    return _build_if_changed(settings, failed)


def _sync_feeds(args: argparse.Namespace, settings, feeds: list[dict]) -> tuple[int, int]:
    from index.corpus import feed_registry

    importer = _importer(args, settings.corpus_dir)
    failed = changed = 0
    for feed in feeds:
        url = feed["url"]
        try:
            loaded, _ = importer.read_feed(url)
            state = dict(feed.get("entries") or {})
            outcomes = importer.import_feed(loaded, state)
        except CorpusError as e:
            failed += 1
            print(f"verbatim: error: {e}", file=sys.stderr)
            feed_registry.mark_synced(settings.corpus_dir, url, error=str(e))
            continue
        feed_registry.record_entries(settings.corpus_dir, url, state)
        feed_registry.mark_synced(settings.corpus_dir, url)
        f, c = _report(outcomes)
        failed, changed = failed + f, changed + c
    return failed, changed


def _build_if_changed(settings, failed: int) -> int:
    from index.backends import current_manifest
    from index.corpus.fingerprint import corpus_hash

    try:
        built_from = current_manifest(settings).get("corpus_hash")  # files or PostgreSQL (index.backends)
        up_to_date = built_from == corpus_hash(settings.corpus_dir)
    except VerbatimError:
        up_to_date = False
    if up_to_date:
        print("index is up to date")
    else:
        from index.build import build_index

        summary = build_index(settings, progress=progress_bar("embedding"))
        print(f"built {summary.build_id}: {summary.documents} documents, {summary.passages} passages, "
              f"{summary.seconds:.1f} s")
    return 1 if failed else 0


def corpus_list(args: argparse.Namespace) -> int:
    from index.backends import indexed_counts
    from index.corpus.fingerprint import check_corpus_dir
    from index.corpus.collection import Collection
    from index.corpus.listing import corpus_articles

    settings = _settings(args)
    check_corpus_dir(settings.corpus_dir)
    collection = Collection(settings.corpus_dir)
    _warn_damaged(collection)
    try:
        counts = indexed_counts(settings)  # the build of files or PostgreSQL
    except IndexCorrupt as e:  # the articles can still be listed, without what the index holds of them
        print(f"verbatim: warning: {e}", file=sys.stderr)
        counts = None
    rows = corpus_articles(collection, counts)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print(f"no article in {settings.corpus_dir}")
    for row in rows:
        passages = "not indexed" if row["passages"] is None else f"{row['passages']} passages"
        print(f"{row['id']}\t{row['date'][:10] or '-'}\t{row['title']}\t{row['url'] or '-'}\t{passages}, "
              f"{row['comments']} comments")
    return 0


def corpus_remove(args: argparse.Namespace) -> int:
    from index.corpus.collection import corpus_lock

    with corpus_lock(_settings(args).corpus_dir):
        return _corpus_remove(args)


def _corpus_remove(args: argparse.Namespace) -> int:
    from index.corpus.collection import Collection

    settings = _settings(args)
    from index.corpus.feed_registry import remember_removed

    doc = Collection(settings.corpus_dir).remove(args.id)
    if doc is None:
        print(f"removed the damaged file {args.id}.md; run `verbatim index build` (if it was indexed before it was "
              "damaged, the new build drops it)")
        return 0
    remember_removed(settings.corpus_dir, doc.id, doc.guid, doc.url)  # a followed feed must not bring it back
    print(f"removed {doc.id} ({doc.title}); run `verbatim index build` to drop it from the index")
    return 0
