"""The health check with no options: every status file of a running process is checked and reported (one
per shard set or process sharing the data directory); files of stopped processes, or of a pid now reused
by another process (/proc start time), are passed over. Real processes, real status files, the real
command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.discord_app.loop_monitor import LoopMonitor
from bot.discord_app.processes import started_at

from .conftest import PROJECT_ROOT


def health(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERBATIM_", "DISCORD_"))}
    env.update(VERBATIM_DATA_DIR=str(data_dir), PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run([sys.executable, "-m", "bot.discord_app.health", *args], env=env, cwd=data_dir,
                          capture_output=True, text=True, timeout=60)


def write_status(data_dir: Path, name: str, pid: int, *, ready: bool = True, age: float = 1.0,
                 started: float | None | str = "auto", shards: list[int] | None = None, count: int = 2) -> Path:
    path = data_dir / "discord" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    status = {"at": time.time() - age, "pid": pid, "ready": ready, "build_id": "b1", "answered": 3,
              "max_loop_stall_ms": 4.0}
    if started == "auto":
        status["started"] = started_at(pid)
    elif started is not None:
        status["started"] = started
    if shards is not None:
        status.update(shards=shards, shard_count=count)
    path.write_text(json.dumps(status))
    return path


@pytest.fixture
def processes():
    """Two running processes standing for two bot processes (shard 0 and shard 1 of 2)."""
    running = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) for _ in range(2)]
    time.sleep(0.1)
    yield running
    for p in running:
        p.kill()
        p.wait()


def gone_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_every_running_process_is_checked_and_reported(tmp_path, processes):
    a, b = processes
    write_status(tmp_path, "status-shards-0.json", a.pid, shards=[0])
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1])
    checked = health(tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert lines == [f"healthy: shard 0 of 2, build b1, 3 answered, max loop stall 4.0 ms (pid {a.pid}, "
                     "status-shards-0.json)",
                     f"healthy: shard 1 of 2, build b1, 3 answered, max loop stall 4.0 ms (pid {b.pid}, "
                     "status-shards-1.json)"]


def test_one_unhealthy_process_makes_the_check_fail_and_is_named(tmp_path, processes):
    a, b = processes
    write_status(tmp_path, "status-shards-0.json", a.pid, shards=[0])
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1], ready=False)
    checked = health(tmp_path)
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[1] == f"unhealthy: not connected to Discord (shard 1 of 2) (pid {b.pid}, " \
                                             "status-shards-1.json)"
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1], age=300)  # its event loop is stuck
    stuck = health(tmp_path)
    assert stuck.returncode == 1 and "status is 300 s old" in stuck.stdout.splitlines()[1]


def test_stopped_processes_and_reused_pids_are_passed_over(tmp_path, processes):
    a, b = processes
    write_status(tmp_path, "status.json", gone_pid())  # an unsharded bot that stopped (its last status fresh)
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1], started=started_at(b.pid) - 3600)
    alone = health(tmp_path)  # the pid of shard 1's bot now belongs to a process that started later
    assert alone.returncode == 1
    assert alone.stdout.strip() == f"unhealthy: no running bot has a status in {tmp_path / 'discord'} " \
                                   "(2 status file(s) of stopped processes passed over)"
    write_status(tmp_path, "status-shards-0.json", a.pid, shards=[0])
    checked = health(tmp_path)
    assert checked.returncode == 0 and checked.stdout.splitlines()[0].startswith("healthy: shard 0 of 2")
    assert "2 status file(s) of stopped processes passed over" in checked.stdout


def test_an_older_status_without_a_start_time_is_judged_by_its_time(tmp_path, processes):
    a, _ = processes
    write_status(tmp_path, "status.json", a.pid, started=None)  # written after the process started: its own
    assert health(tmp_path).returncode == 0
    write_status(tmp_path, "status.json", a.pid, started=None, age=7200)  # before it started: another's
    assert "no running bot" in health(tmp_path).stdout


def test_the_bot_s_status_carries_its_start_time(tmp_path):
    path = tmp_path / "discord" / "status.json"
    path.parent.mkdir()
    LoopMonitor(path, lambda: {"ready": True, "build_id": "b2", "answered": 0}).write()
    status = json.loads(path.read_text())
    assert status["pid"] == os.getpid() and status["started"] == started_at(os.getpid())
    checked = health(tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith("healthy: build b2"), checked.stdout


def test_shard_options_still_check_one_process(tmp_path, processes):
    a, b = processes
    write_status(tmp_path, "status-shards-0.json", a.pid, shards=[0])
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1], ready=False)
    one = health(tmp_path, "--shards", "2", "--shard-ids", "0")
    assert one.returncode == 0 and one.stdout.startswith("healthy: shard 0 of 2, build b1"), one.stdout
    missing = health(tmp_path, "--shards", "3", "--shard-ids", "2")  # not running here: say what is
    assert missing.returncode == 1 and "has status-shards-0.json, status-shards-1.json" in missing.stdout
