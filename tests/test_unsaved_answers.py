"""Unsaved answers with processes sharing one data directory (shards, containers on one volume): each
process keeps its own `unsaved-answers-<pid>.jsonl`, and at start claims the files of processes that are
gone (and the older single file) by an atomic rename, so nothing is clobbered or replayed twice.
Real processes, a real SQLite store held locked by another real process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.discord_app.answers_keeper import AnswersKeeper
from bot.discord_app.answers_store import AnswersStore

from .conftest import PROJECT_ROOT

LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
while True:
    time.sleep(1)
"""

# A bot process whose store stays locked: its votes are kept on disk when it stops, all processes at once.
WRITER = """
import os, sys, time
from pathlib import Path
from bot.discord_app.answers_keeper import AnswersKeeper
path, first, n, go = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
keeper = AnswersKeeper(path)
for user in range(first, first + n):
    keeper.save_vote(1, user, 1)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
keeper.close(0.2)
print(os.getpid(), flush=True)
"""

# A bot process starting: prints how many kept writes it replayed, once they are stored.
REPLAYER = """
import sys, time
from pathlib import Path
from bot.discord_app.answers_keeper import AnswersKeeper
path, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
keeper = AnswersKeeper(path)
assert keeper.flush(30)
keeper.close()
print(keeper.replayed, flush=True)
"""


def python(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, text=True,
                            cwd=PROJECT_ROOT, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)))


def kept_users(path: Path) -> list[int]:
    return [json.loads(line)["user_id"] for line in path.read_text("utf-8").splitlines()]


def test_two_processes_keep_their_own_files_and_each_is_replayed_once(tmp_path):
    path = tmp_path / "discord" / "answers.sqlite3"
    AnswersStore(path).close()
    locker = python(LOCKER, path)
    try:
        assert locker.stdout.readline().strip() == "locked"
        go = tmp_path / "go"
        writers = [python(WRITER, path, first, 60, go) for first in (1000, 2000)]
        assert [w.stdout.readline().strip() for w in writers] == ["ready", "ready"]
        go.touch()  # both stop at the same moment
        pids = [int(w.stdout.readline()) for w in writers]
        assert [w.wait(30) for w in writers] == [0, 0]
    finally:
        locker.kill()
        locker.wait()
    directory = path.parent
    assert not (directory / "unsaved-answers.jsonl").exists()
    for pid, first in zip(pids, (1000, 2000)):
        own = directory / f"unsaved-answers-{pid}.jsonl"
        assert kept_users(own) == list(range(first, first + 60)) and own.stat().st_mode & 0o777 == 0o600

    go = tmp_path / "go-again"
    replayers = [python(REPLAYER, path, go) for _ in range(2)]
    time.sleep(1.0)  # both waiting, imports done
    go.touch()
    counts = [int(r.stdout.readline()) for r in replayers]
    assert [r.wait(30) for r in replayers] == [0, 0]
    assert sum(counts) == 120, counts  # every kept write replayed by one process only
    assert not list(directory.glob("unsaved-answers*"))
    store = AnswersStore(path)
    try:
        assert sorted(store.feedback(1)) == list(range(1000, 1060)) + list(range(2000, 2060))
    finally:
        store.close()


def _line(user: int) -> str:
    return json.dumps({"kind": "vote", "answer_id": 7, "user_id": user, "vote": 1, "at": 1.0}) + "\n"


def test_only_files_of_processes_that_are_gone_are_claimed(tmp_path):
    directory = tmp_path / "discord"
    directory.mkdir()
    gone = python("print(1)")
    gone.wait()
    (directory / f"unsaved-answers-{gone.pid}.jsonl").write_text(_line(1))
    (directory / "unsaved-answers.jsonl").write_text(_line(2))  # an older version's single file
    alive = python("import time; time.sleep(60)")
    reused = python("import time; time.sleep(60)")
    try:
        time.sleep(0.2)
        live_file = directory / f"unsaved-answers-{alive.pid}.jsonl"
        live_file.write_text(_line(3))  # written by the running process: not ours to replay
        reused_file = directory / f"unsaved-answers-{reused.pid}.jsonl"
        reused_file.write_text(_line(4))
        an_hour_ago = time.time() - 3600
        os.utime(reused_file, (an_hour_ago, an_hour_ago))  # its writer is gone; the pid now runs something newer
        keeper = AnswersKeeper(directory / "answers.sqlite3")
        try:
            assert keeper.flush(15)
            assert sorted(keeper.store.feedback(7)) == [1, 2, 4] and keeper.replayed == 3
        finally:
            keeper.close()
        assert sorted(p.name for p in directory.glob("unsaved-answers*")) == [live_file.name]
        assert live_file.read_text() == _line(3)
    finally:
        alive.kill()
        reused.kill()
