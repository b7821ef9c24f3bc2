"""The one entry point callers use: open the current build, answer questions, pick up new builds.

Thread-safe: encoding is serialised by a lock (the encoder is not re-entrant), and a refresh swaps
the whole loaded build in one assignment, so a question is always answered by one complete build.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import store
from .backends import index_source
from .ranking.alignment import translations
from .answer import answers_nothing, choose_quotes, compose_answer
from .corpus.fingerprint import corpus_hash
from .embedders import Embedder, make_embedder
from .catalogue import catalogue
from .evidence import CollectionSpread, document_evidence
from .named_article import ArticleNames
from .errors import CorpusError, DatabaseUnavailable, IndexMismatch, IndexMissing, UnknownArticle, VerbatimError
from .language import detect_language
from .model import Answer, ArticleInfo, Scope
from .preflight import check_build_possible
from .questions import clean_question
from .ranking import Ranked, Ranker, Weights
from .settings import Settings

if TYPE_CHECKING:
    from .build import BuildSummary, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Loaded:
    stored: store.StoredIndex
    ranker: Ranker
    articles: tuple[ArticleInfo, ...] = ()
    stale: str | None = None  # why the build is older than its corpus (check_compatible), None when it is not
    names: ArticleNames = ArticleNames(())  # which article a question names (index.named_article)


class Retriever:
    def __init__(self, settings: Settings, embedder: Embedder, loaded: _Loaded, source=None):
        self.settings = settings
        self._source = source or index_source(settings)  # files or PostgreSQL (index.backends)
        self.embedder = embedder
        self._loaded = loaded
        self._encode_lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None, build_if_missing: bool = True,
             on_build: "callable | None" = None, progress: Progress | None = None) -> "Retriever":
        """Loads the current build (from files, or from PostgreSQL when `settings.database_url` is set); with
        none yet, builds one first (calling `on_build()` to say so). The database down is a one-line
        DatabaseUnavailable naming it (password hidden)."""
        settings = settings or Settings.from_env()
        source = index_source(settings)
        try:
            current = source.current_build_id()
            if current is None and not settings.database_url:
                store.check_current_link(settings.data_dir)
            if build_if_missing and current is None:
                check_build_possible(settings.data_dir, settings.corpus_dir)  # before the model loads
            embedder = make_embedder(settings.embedder, settings.model)
            if current is None:
                if not build_if_missing:
                    raise IndexMissing(f"no index in {source.where}: run `verbatim index build`")
                if on_build:
                    on_build()
                from .build import build_index  # chunking and corpus parsing: only builds pay for their imports

                build_index(settings, embedder, progress)
            return cls(settings, embedder, _load(settings, embedder, source, None), source)
        except BaseException:
            source.close()
            raise

    @property
    def build_id(self) -> str:
        return self._loaded.stored.build_id

    def named_article(self, question: str) -> ArticleInfo | None:
        """The article `question` names in its words, if it names one (index.named_article); any thread may
        call it: it only reads the loaded build."""
        return self._loaded.names.named(question)

    @property
    def stale(self) -> str | None:
        """Why the build being served is older than the corpus, or None (see `check_compatible`)."""
        return self._loaded.stale

    @property
    def manifest(self) -> dict:
        return self._loaded.stored.manifest

    @property
    def built_at(self) -> str:
        """When the current build was made (ISO 8601, UTC)."""
        return str(self._loaded.stored.manifest.get("created_at", ""))

    def articles(self) -> list[ArticleInfo]:
        """Every article of the current build, newest first. Cheap (computed once per build) and safe to
        call from any thread: it only reads the loaded build."""
        return list(self._loaded.articles)

    def ask(self, question: str, scope: Scope = "all", k: int | None = None, article: str | None = None) -> Answer:
        return self.ask_many([question], scope, k, article)[0]

    def ask_many(self, questions: list[str], scope: Scope = "all", k: int | None = None,
                 article: str | None = None) -> list[Answer]:
        """Answers several questions with one encoder call (far cheaper per question than one by one).

        `article` restricts every passage to that document. Raises BadQuestion if any question is
        unusable, UnknownArticle if the build has no such article, both before any model work.
        """
        started = time.perf_counter()
        cleaned = [clean_question(q, self.settings.max_question_chars) for q in questions]
        loaded = self._loaded
        doc_ids = None
        if article is not None:
            if not loaded.ranker.has_document(article):
                raise UnknownArticle(article)
            doc_ids = frozenset([article])
        with self._encode_lock:
            vectors = self.embedder.embed_queries(cleaned)
        answers = []
        for question, vector in zip(cleaned, vectors):
            named = loaded.names.named(question) if doc_ids is None else None
            within = frozenset([named.id]) if named is not None else doc_ids  # "dans l'article sur …": that one
            ranked = loaded.ranker.rank(vector, question, scope, k or self.settings.top_k, doc_ids=within)
            language = detect_language(question)
            if language == "en" and self._little_evidence(loaded, question, ranked):
                ranked = self._second_look(loaded, vector, question, scope, k or self.settings.top_k, ranked, within)
            answer = compose_answer(question, language, ranked, loaded.stored, self.settings, scope)
            if answer.answered and answers_nothing(answer.quoted[0]):
                answer = self._quote_its_text(loaded, vector, question, language, scope, k, answer)
            chosen = article or (named.id if named is not None else None)
            answers.append(replace(answer, article_id=chosen or answer.article_id or _chosen_article(answer)))
        took_ms = (time.perf_counter() - started) * 1000
        return [answer.with_timing(took_ms) for answer in answers]

    def _quote_its_text(self, loaded: _Loaded, vector, question: str, language, scope: Scope, k: int | None,
                        answer: Answer) -> Answer:
        """The answer's first quote answers nothing (a question-title, a "see also" line) and its article's text
        is not among the hits: quote that article's best passages, ranked within it (no second encoder call)."""
        doc = answer.quoted[0].passage.location.doc_id
        depth = max(k or self.settings.top_k, self.settings.top_k)  # enough to reach past the title
        inner = loaded.ranker.rank(vector, question, scope, depth, doc_ids=frozenset([doc]))
        within = compose_answer(question, language, inner, loaded.stored, self.settings, scope)
        if all(answers_nothing(h) for h in within.hits):
            return answer
        return replace(answer, quoted=choose_quotes(within.hits, self.settings))

    def _little_evidence(self, loaded: _Loaded, question: str, ranked: Ranked) -> bool:
        """Too little keyword evidence for an English question, in the collection or, over many documents, in
        the document it ranks first: what the words of other documents add ("executive" in a help entry's
        "exécuté") should not keep the question from the look at its translations it takes in that document
        alone, or the order inside that document differs from the one it has there."""
        bar = self.settings.abstain_min_keyword_evidence
        if ranked.keyword_evidence < bar:
            return True
        if len(ranked.documents) < 2:
            return False
        spread = CollectionSpread.of(loaded.stored, self.settings.abstain_spread)
        return document_evidence(question, loaded.stored.keywords.vocabulary, spread, ranked.documents[0]) < bar

    def _second_look(self, loaded: _Loaded, vector, question: str, scope: Scope, k: int, ranked: Ranked,
                     doc_ids: frozenset[str] | None = None) -> Ranked:
        """An English question with too little keyword evidence: its words may translate the article's. The
        build aligned the English words that may (index.ranking.alignment), so this is a look-up, not a second
        encoder call (except for a build without alignments). The translations then count as keyword evidence
        and join the keyword side of the ranking (which also helps those answered on meaning alone, or because
        they ask about the comments).
        """
        def embed(words: list[str]):  # only for a build without alignments (made before them, or no dictionary)
            with self._encode_lock:
                return self.embedder.embed_queries(words)

        found = translations(loaded.stored.keywords, question, self.settings.align_min_cosine, embed)
        if found:
            ranked = loaded.ranker.rank(vector, question, scope, k, translations=found, doc_ids=doc_ids)
        return replace(ranked, second_look=True)

    def refresh(self) -> bool:
        """Switches to a newer current build if there is one; on any failure keeps serving the old one.

        On PostgreSQL the first call also starts listening for `NOTIFY verbatim_build`, so a process that
        polls (the bot does) picks up a new build as soon as it is made current, between its polls.
        """
        self._source.listen(self._refresh_quietly)
        with self._refresh_lock:
            try:
                current = self._source.current_build_id()  # one small query on PostgreSQL, a readlink on files
            except DatabaseUnavailable as e:
                log.warning("keeping index build %s: cannot check for a newer build: %s", self.build_id, e)
                return False
            if current is None or current == self.build_id:
                return False
            was = self.build_id
            try:
                self._loaded = _load(self.settings, self.embedder, self._source, current, check_corpus=False)
            except VerbatimError as e:
                log.warning("keeping index build %s: build %s cannot be loaded: %s", was, current, e)
                return False
            log.info("switched from index build %s to %s", was, current)
            return True

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - a listener thread must not die of one bad refresh
            log.exception("refreshing the index build after a notification failed")

    def rebuild(self, progress: Progress | None = None) -> BuildSummary:
        from .build import build_index

        summary = build_index(self.settings, self.embedder, progress)
        self.refresh()
        return summary

    def close(self) -> None:
        """Closes the database connection the refresh poll keeps (nothing to do on files)."""
        self._source.close()


def _load(settings: Settings, embedder: Embedder, source, build_id: str | None, check_corpus: bool = True) -> _Loaded:
    stored = source.load(build_id)
    stale = check_compatible(stored.manifest, embedder, settings.corpus_dir if check_corpus else None)
    articles = catalogue(stored.passages)
    return _Loaded(stored, Ranker(stored, Weights.from_settings(settings)), articles, stale, ArticleNames(articles))


def _chosen_article(answer: Answer) -> str | None:
    """The article of the first quoted hit, or of the first hit when it abstains."""
    first = answer.quoted[:1] or answer.hits[:1]
    return first[0].passage.location.doc_id if first else None


def check_compatible(manifest: dict, embedder: Embedder, corpus_dir: Path | None) -> str | None:
    """Refuses a build made with another model or from another corpus: it would answer wrongly.

    A build of this very corpus before its latest changes (an article imported, edited or removed since,
    a build under way or killed, a rollback) is only stale: its quotes are still verbatim, of the articles as
    they were when it was built, and a running bot serves it too. It loads, and the note returned says so."""
    fix = "run `verbatim index build` to rebuild with the current settings"
    if manifest.get("embedder") != embedder.backend or manifest.get("model_id") != embedder.model_id:
        built = manifest.get("embedder")
        choose = f"pass --embedder {built} (or set VERBATIM_EMBEDDER={built}) to use it, or " \
            if built in ("e5", "sentence-transformers") and built != embedder.backend else ""
        raise IndexMismatch(f"the index was built with {built} / {manifest.get('model_id')} "
                            f"but the configured embedder is {embedder.backend} / {embedder.model_id}: {choose}{fix}")
    if manifest.get("dim") != embedder.dim:
        raise IndexMismatch(f"the index has {manifest.get('dim')}-dimensional vectors but the embedder makes "
                            f"{embedder.dim}: {fix}")
    if corpus_dir is not None and corpus_dir.is_dir():
        try:
            changed = corpus_hash(corpus_dir) != manifest.get("corpus_hash")
        except CorpusError as e:  # a damaged article file: the build still holds what it was built from
            return (f"the corpus in {corpus_dir} cannot be read ({e}): answering from index build "
                    f"{manifest.get('build_id', '?')}; repair or remove that file, then run `verbatim index build`")
    else:
        changed = False
    if changed:
        built_from = manifest.get("corpus_dir")
        if built_from and Path(built_from).resolve() != corpus_dir.resolve():
            raise IndexMismatch(f"the corpus in {corpus_dir} is not the one the index was built from ({built_from}), "
                                f"or changed since: pass --corpus {built_from}, or {fix}")
        build = manifest.get("build_id", "?")
        if not any(corpus_dir.glob("*.md")):
            return (f"the corpus in {corpus_dir} holds no article any more: answering from index build {build}, "
                    f"made before; import an article (`verbatim corpus import`), then run `verbatim index build`")
        return (f"the corpus in {corpus_dir} changed since index build {build} was made: "
                f"answering from that build; run `verbatim index build` to include the changes")
    return None
