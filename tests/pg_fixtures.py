"""Pytest fixtures for a real PostgreSQL + pgvector server (registered from tests/conftest.py).

One server per test session, started only when a test asks for it (initdb ~1.5 s, start ~0.1 s
here); each test that wants a clean slate takes `pg_database_url`, a fresh database cloned from a
template that already has the `vector` extension.
"""
from __future__ import annotations

import itertools

import pytest

from tests.pg_server import PostgresServer

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_url(pg_server) -> str:
    """URL of the session's `verbatim` database (shared by every test that takes it)."""
    return pg_server.url


@pytest.fixture
def pg_database_url(pg_server):
    """URL of a fresh database for this test alone, with `vector`; dropped after the test."""
    import psycopg

    name = f"test_{next(_database_numbers)}"
    url = pg_server.create_database(name)
    yield url
    with psycopg.connect(pg_server.url_for("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
