"""The real `verbatim run` as a subprocess pointed at the stand-in, with its log kept for diagnosis."""
from __future__ import annotations

import json
import shutil
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .server import DiscordStandIn

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def bot_env(standin: DiscordStandIn, data_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERBATIM_", "DISCORD_"))}
    env.update({
        "DISCORD_TOKEN": standin.token,
        "VERBATIM_DISCORD_API_BASE": standin.api_base,
        "VERBATIM_DISCORD_SYNC_GUILD": standin.guild_id,
        "VERBATIM_DATA_DIR": str(data_dir),
        "VERBATIM_CORPUS_DIR": str(corpus_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        # No proxy may send loopback traffic elsewhere.
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(key, None)
    env.update(extra)
    return env


class BotProcess:
    def __init__(self, env: dict[str, str], workdir: Path, log_path: Path, args: tuple[str, ...] = ()):
        """`args`: options of `verbatim run` (e.g. `--shards 2 --shard-ids 1`)."""
        self.env, self.workdir, self.log_path, self.args = env, workdir, log_path, tuple(args)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "BotProcess":
        log = open(self.log_path, "ab")
        # cwd is a scratch directory so a developer's .env is never picked up by the tests.
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", *self.args], cwd=self.workdir, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as `docker stop` does; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def status_path(self) -> Path:
        """Where this process writes its status: named after its shards, as the health check finds it."""
        import argparse

        from bot.discord_app.options import add_arguments
        from bot.discord_app.shards import shards_from, status_file_name

        parser = argparse.ArgumentParser()
        add_arguments(parser)
        options = parser.parse_args(list(self.args))
        name = status_file_name(shards_from(self.env, options.shards, options.shard_ids))
        return Path(self.env["VERBATIM_DATA_DIR"]) / "discord" / name

    def status(self) -> dict:
        path = self.status_path()
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def wait_status(self, predicate, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status and predicate(status):
                return status
            if not self.alive():
                raise RuntimeError("the bot exited:\n" + self.log()[-3000:])
            time.sleep(0.2)
        raise TimeoutError(f"bot status never matched; last {self.status()}")


def wait_connected(standin: DiscordStandIn, proc: BotProcess, sessions: int, timeout: float = 120) -> None:
    """Until the bot has its `sessions`-th gateway session, its commands, and says it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if standin.sessions >= sessions and standin.connected and {"ask", "source"} <= set(standin.commands):
            proc.wait_status(lambda s: s.get("ready"), timeout=60)
            return
        if not proc.alive():
            raise RuntimeError("the bot exited before connecting:\n" + proc.log()[-4000:])
        time.sleep(0.1)
    raise TimeoutError("the bot did not connect to the stand-in:\n" + proc.log()[-4000:])


@contextmanager
def connected_bot(standin: DiscordStandIn, env: dict[str, str], workdir: Path,
                  args: tuple[str, ...] = ()) -> Iterator[BotProcess]:
    """The real `verbatim run`, connected to the stand-in; SIGTERM afterwards (if a test has not already
    stopped it), with its log printed when it did not exit 0, so a failing module shows why."""
    proc = BotProcess(env, workdir, workdir / "bot.log", args).start()
    try:
        wait_connected(standin, proc, sessions=1)
        yield proc
    finally:
        if proc.alive() and proc.stop() != 0:
            print(proc.log()[-4000:])


@contextmanager
def running_standin(guild_locale: str) -> Iterator[DiscordStandIn]:
    """A started stand-in (gateway and REST on 127.0.0.1), stopped afterwards."""
    server = DiscordStandIn(guild_locale=guild_locale).start()
    try:
        yield server
    finally:
        server.stop()


def copy_of_data(source: Path, target_parent: Path) -> Path:
    """A private copy of a built data directory (builds, `current` link): a bot module may write to it."""
    target = target_parent / "data"
    shutil.copytree(source, target, symlinks=True)
    return target
