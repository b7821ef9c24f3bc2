"""The `verbatim` command line: import articles (see corpus_commands), build the index, ask questions, run the bot."""
from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import sys
from pathlib import Path

from index.errors import VerbatimError
from index.questions import clean_question

from .batch import argv_text, read_batch
from .corpus_commands import add_corpus_commands
from .discord_app.options import add_arguments as add_run_arguments
from .progress import progress_bar


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    finally:
        # The interpreter's last garbage collection walks every object FAISS and numpy made at import
        # (~40 ms of a one-question `verbatim ask`); frozen objects are skipped. Nothing here needs it.
        gc.freeze()


def _dispatch(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except VerbatimError as e:
        print(f"verbatim: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("verbatim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # last resort: a one-line message, the traceback only on request
        if isinstance(e, OSError) and e.errno in _FILE_SYSTEM_REFUSALS:
            # The disk or the permissions refused (a read-only mount, a full disk): the file and the
            # reason say what to fix; no traceback helps.
            verb = "write" if e.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT) else "open"
            print(f"verbatim: error: cannot {verb} {e.filename or 'a file'}: {e.strerror}", file=sys.stderr)
            return 1
        if os.environ.get("VERBATIM_DEBUG"):
            raise
        print(f"verbatim: unexpected error: {type(e).__name__}: {e} (set VERBATIM_DEBUG=1 for details)",
              file=sys.stderr)
        return 70


_FILE_SYSTEM_REFUSALS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="corpus directory (default: the project's corpus/)")
    common.add_argument("--data-dir", type=Path, help="where index builds live (default: data/)")
    common.add_argument("--embedder", choices=("e5", "sentence-transformers"), help="embedding backend")
    common.add_argument("--model", help="model name or path for the backend")
    common.add_argument("--database-url", metavar="URL",
                        help="postgresql://… keeps the index and the answers in PostgreSQL (default: files in the data "
                             "dir; env VERBATIM_DATABASE_URL)")

    parser = argparse.ArgumentParser(prog="verbatim", description=__doc__)
    commands = parser.add_subparsers(metavar="COMMAND")

    corpus = commands.add_parser("corpus", help="manage articles").add_subparsers(metavar="ACTION")
    add_corpus_commands(corpus, common)

    index = commands.add_parser("index", help="build and inspect the search index").add_subparsers(metavar="ACTION")
    build = index.add_parser("build", parents=[common], help="build a new index and make it current")
    build.add_argument("--ann", choices=("flat", "hnsw", "ivf"),
                       help="FAISS index type (default from config: flat; see docs/benchmarks.md)")
    build.set_defaults(handler=_index_build)
    info = index.add_parser("info", parents=[common], help="print the manifest of the current build")
    info.set_defaults(handler=_index_info)
    rollback = index.add_parser("rollback", parents=[common], help="make the previous build current again")
    rollback.set_defaults(handler=_index_rollback)
    push = index.add_parser("push", parents=[common], help="copy the current file build of the data dir into "
                            "PostgreSQL (--database-url), embedding nothing, and make it current there")
    push.set_defaults(handler=_index_push)

    ask = commands.add_parser("ask", parents=[common], help="answer a question with quotes from the article")
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--scope", choices=("all", "article", "comments"), default="all")
    ask.add_argument("-k", type=int, default=None, help="passages to return (default from config: 5)")
    ask.add_argument("--article", metavar="ID", default=None,
                     help="answer from this article only (its id, see `verbatim corpus list`); default: all articles")
    ask.set_defaults(handler=_ask)

    ev = commands.add_parser("eval", parents=[common], help="score retrieval on a question file (R@1, R@3, MRR, "
                             "answered, abstain)")
    ev.add_argument("questions", type=Path, help="JSON lines: {id, lang, kind, question, gold: [substrings], "
                    "gold_doc: document id}; neither gold nor gold_doc = unanswerable; with gold_doc, "
                    "document-level R@1/R@3/MRR too")
    ev.add_argument("--verbose", action="store_true", help="list the misses")
    ev.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ev.set_defaults(handler=_eval)

    run = commands.add_parser("run", parents=[common], help="run the Discord bot (token from DISCORD_TOKEN)")
    add_run_arguments(run)
    run.set_defaults(handler=_run)
    return parser


def _settings(args: argparse.Namespace):
    from index.settings import Settings

    return Settings.from_env(corpus_dir=args.corpus, data_dir=args.data_dir, embedder=args.embedder, model=args.model,
                             ann=getattr(args, "ann", None), database_url=getattr(args, "database_url", None))


def _answering_settings(args: argparse.Namespace):
    """Settings for the commands that answer from the current build. A corpus directory named on purpose
    (--corpus, VERBATIM_CORPUS_DIR) that is not there is a mistake to report, not a reason to answer from
    whatever the data directory last built; the default one may be absent where only the index is served."""
    from index.corpus.fingerprint import check_corpus_dir

    settings = _settings(args)
    if args.corpus is not None or os.environ.get("VERBATIM_CORPUS_DIR"):
        check_corpus_dir(settings.corpus_dir)
    return settings


def _index_build(args: argparse.Namespace) -> int:
    from index.build import build_index

    summary = build_index(_settings(args), progress=progress_bar("embedding"))
    print(f"built {summary.build_id}: {summary.documents} documents, {summary.passages} passages, "
          f"{summary.sentences} sentences, dim {summary.dim}, {summary.seconds:.1f} s "
          f"({summary.embedded} texts embedded, {summary.reused} from the embedding cache)")
    return 0


def _index_info(args: argparse.Namespace) -> int:
    from index.backends import current_manifest

    print(json.dumps(current_manifest(_settings(args)), indent=2, ensure_ascii=False))
    return 0


def _index_rollback(args: argparse.Namespace) -> int:
    from index.backends import rollback

    now, was = rollback(_settings(args))
    print(f"current build is now {now} ({f'was {was}' if was else 'there was none'})")
    return 0


def _index_push(args: argparse.Namespace) -> int:
    from index.backends import push

    build_id, passages = push(_settings(args))
    print(f"pushed {build_id}: {passages} passages, made current in the database (nothing embedded)")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from index.service import Retriever

    from .render.text import answer_json, answer_text

    settings = _answering_settings(args)
    if args.k is not None and not 1 <= args.k <= 50:
        raise VerbatimError("-k must be between 1 and 50")
    question = None
    if args.question != "-":
        try:
            question = argv_text(args.question)
        except ValueError as e:
            raise VerbatimError(f"the question is {e}") from None
        clean_question(question, settings.max_question_chars)  # a bad question costs no model load

    def say_building() -> None:
        print("verbatim: no index yet, building it first (once)…", file=sys.stderr)

    retriever = Retriever.open(settings, on_build=say_building, progress=progress_bar("embedding"))
    _note_stale(retriever)
    several = len(retriever.articles()) > 1  # quotes then name their article
    if question is not None:
        answer = retriever.ask(question, scope=args.scope, k=args.k, article=args.article)
        if args.json:
            print(json.dumps(answer_json(answer, name_articles=several), ensure_ascii=False))
        else:
            bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
            print(answer_text(answer, bold=bold, name_articles=several))
        return 0
    return _ask_batch(retriever, read_batch(sys.stdin.buffer), args, several)


def _note_stale(retriever) -> None:
    if retriever.stale:
        print(f"verbatim: note: {retriever.stale}", file=sys.stderr)


def _ask_batch(retriever, lines, args: argparse.Namespace, several: bool) -> int:
    """One output per input line, in order (a JSON object, or a text block and a blank line); a line that
    cannot be answered gets its error in its place. Exit code 1 if any line failed."""
    from .render.text import answer_json, answer_text, error_json

    failures = 0
    for line in lines:
        try:
            if line.error:
                raise VerbatimError(line.error)
            answer = retriever.ask(line.question, scope=args.scope, k=args.k, article=args.article)
            row = answer_json(answer, several) if args.json else answer_text(answer, name_articles=several)
        except VerbatimError as e:
            failures += 1
            error = str(e) if line.error else f"line {line.number}: {e}"
            if args.json or not (sys.stdout.isatty() and sys.stderr.isatty()):  # on one screen, said once
                print(f"verbatim: error: {error}", file=sys.stderr)
            row = error_json(line.question, error) if args.json else f"verbatim: error: {error}"
        print(json.dumps(row, ensure_ascii=False) if args.json else row + "\n", flush=True)
    return 1 if failures else 0


def _eval(args: argparse.Namespace) -> int:
    from index.evaluation import format_report, load_questions, outcome, report
    from index.service import Retriever

    questions = load_questions(args.questions)
    retriever = Retriever.open(_answering_settings(args), progress=progress_bar("embedding"))  # one model load
    _note_stale(retriever)
    outcomes = []
    for q in questions:
        answer = retriever.ask(q.question)
        outcomes.append(outcome(q, [h.passage.text for h in answer.hits], answer.answered,
                                [h.passage.location.doc_id for h in answer.hits]))
    rep = report(outcomes)
    print(json.dumps(rep.to_dict(), ensure_ascii=False) if args.json else format_report(rep, args.verbose))
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        from .discord_app.run import main as run_bot
    except ImportError as e:
        raise VerbatimError(f"the Discord bot is not available: {e}") from None
    return run_bot(_answering_settings(args), args) or 0


if __name__ == "__main__":
    sys.exit(main())
