"""Shared fixtures: the real seed page, the real embedder, one real index built per test session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.settings import PROJECT_ROOT, Settings

pytest_plugins = ["tests.pg_fixtures"]  # a real PostgreSQL + pgvector server: pg_server, pg_url, pg_database_url

# Tests never reach a model hub: every model comes from an installed package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SEED_PAGE = PROJECT_ROOT / "corpus" / "pages" / "000_bbcd7444fd85d6d4.txt"
CORPUS_DIR = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def seed_page() -> str:
    return SEED_PAGE.read_text("utf-8")


@pytest.fixture(scope="session")
def e5_embedder():
    from index.embedders import make_embedder

    return make_embedder("e5")


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, e5_embedder) -> Settings:
    """Settings whose data dir holds one complete build of the project corpus."""
    from index.build import build_index

    settings = Settings.from_env(env={}, data_dir=str(tmp_path_factory.mktemp("data")), corpus_dir=str(CORPUS_DIR))
    build_index(settings, e5_embedder)
    return settings


@pytest.fixture(scope="session")
def retriever(built_settings):
    from index.service import Retriever

    return Retriever.open(built_settings, build_if_missing=False)


@pytest.fixture
def copied_corpus(tmp_path) -> Path:
    """A private copy of the corpus a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


def run_cli(*args: str, data_dir: Path | str, corpus_dir: Path | str = CORPUS_DIR, stdin: str | None = None,
            timeout: float = 120, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs the real `verbatim` command line in a subprocess."""
    env = dict(os.environ, VERBATIM_DATA_DIR=str(data_dir), VERBATIM_CORPUS_DIR=str(corpus_dir), **(extra_env or {}))
    env.pop("VERBATIM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=PROJECT_ROOT)


SECOND_ARTICLE = Path(__file__).parent / "data" / "articles" / "lyon-velos-cargo.md"
SECOND_ARTICLE_ID = "exemple-2024-03-05-lyon-velos-cargo"
SEED_ARTICLE_ID = "nextinpact-2023-11-20-microsoft-recrute-sam-altman"


@pytest.fixture(scope="session")
def two_article_corpus(tmp_path_factory) -> Path:
    """The seed article plus a small, newer one with a URL (tests/data/articles/)."""
    target = tmp_path_factory.mktemp("two-articles") / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    shutil.copyfile(SECOND_ARTICLE, target / SECOND_ARTICLE.name)
    return target


@pytest.fixture(scope="session")
def two_article_settings(tmp_path_factory, e5_embedder, two_article_corpus) -> Settings:
    """Settings whose data dir holds one complete build of the two-article corpus (built once)."""
    from index.build import build_index

    settings = Settings.from_env(env={}, data_dir=str(tmp_path_factory.mktemp("data-two")),
                                 corpus_dir=str(two_article_corpus))
    build_index(settings, e5_embedder)
    return settings


@pytest.fixture(scope="session")
def two_article_retriever(two_article_settings):
    from index.service import Retriever

    return Retriever.open(two_article_settings, build_if_missing=False)


@dataclass(frozen=True)
class Backend:
    """Where a contract test's index lives: `data_dir` and `env` for `run_cli`, `settings` for in-process use."""

    name: str
    data_dir: Path
    env: dict
    settings: Settings


@pytest.fixture(scope="session")
def pushed_database_url(pg_server, built_settings) -> str:
    """A database holding the session's file build, copied by `index push` (so the same build id)."""
    from index.backends import push

    url = pg_server.create_database("contract")
    push(built_settings.with_(database_url=url))
    return url


@pytest.fixture(params=["files", "postgres"])
def backend(request, built_settings) -> Backend:
    """The contract tests run over both backends: the same build in files and in PostgreSQL."""
    if request.param == "files":
        return Backend("files", built_settings.data_dir, {}, built_settings)
    url = request.getfixturevalue("pushed_database_url")
    return Backend("postgres", built_settings.data_dir, {"VERBATIM_DATABASE_URL": url},
                   built_settings.with_(database_url=url))


@pytest.fixture
def backend_retriever(backend):
    """A Retriever over the `backend` fixture's build (files, or the same build in PostgreSQL)."""
    from index.service import Retriever

    retriever = Retriever.open(backend.settings, build_if_missing=False)
    yield retriever
    retriever.close()
