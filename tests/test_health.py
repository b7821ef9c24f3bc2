"""The health check with no options: every status file of a running process is checked and reported (one
per shard set or process sharing the data directory); files of stopped processes, or of a pid now reused
by another process (its start in clock ticks since boot), are passed over, whatever the wall clock does
and whichever pid namespace /proc belongs to. Real processes, real status files, the real command."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.discord_app.loop_monitor import LoopMonitor
from bot.discord_app.processes import identity, started_at

from .conftest import PROJECT_ROOT


def check_env(data_dir: Path) -> dict[str, str]:
    """This environment without the bot's settings, pointed at `data_dir`, the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERBATIM_", "DISCORD_"))}
    env.update(VERBATIM_DATA_DIR=str(data_dir), PYTHONPATH=str(PROJECT_ROOT))
    return env


def health(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = check_env(data_dir)
    return subprocess.run([sys.executable, "-m", "bot.discord_app.health", *args], env=env, cwd=data_dir,
                          capture_output=True, text=True, timeout=60)


def write_status(data_dir: Path, name: str, pid: int, *, ready: bool = True, age: float = 1.0,
                 process: str | None = "auto", started: float | None = None, shards: list[int] | None = None,
                 count: int = 2) -> Path:
    """A status as the bot writes it (`process` is its identity); `process=None` writes an older one, with
    only its Unix `started` time, or neither."""
    path = data_dir / "discord" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    status = {"at": time.time() - age, "pid": pid, "ready": ready, "build_id": "b1", "answered": 3,
              "max_loop_stall_ms": 4.0}
    if process == "auto":
        status["process"], status["started"] = identity(pid), started_at(pid)
    elif process is not None:
        status["process"] = process
    if started is not None:
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
    boot, ticks = identity(b.pid).rsplit(":", 1)
    write_status(tmp_path, "status-shards-1.json", b.pid, shards=[1], process=f"{boot}:{int(ticks) - 360000}")
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
    write_status(tmp_path, "status.json", a.pid, process=None)  # written after the process started: its own
    assert health(tmp_path).returncode == 0
    write_status(tmp_path, "status.json", a.pid, process=None, age=7200)  # before it started: another's
    assert "no running bot" in health(tmp_path).stdout


def test_an_older_status_with_a_unix_start_time_is_judged_by_it(tmp_path, processes):
    a, _ = processes
    write_status(tmp_path, "status.json", a.pid, process=None, started=started_at(a.pid))
    assert health(tmp_path).returncode == 0
    write_status(tmp_path, "status.json", a.pid, process=None, started=started_at(a.pid) - 3600)
    assert "no running bot" in health(tmp_path).stdout


def test_a_wall_clock_step_does_not_make_a_running_bot_look_stopped(tmp_path, processes):
    """NTP stepping the clock, or a resumed VM, moves every Unix time computed from /proc (btime): the
    identity written before the step must still name the process after it."""
    a, _ = processes
    write_status(tmp_path, "status.json", a.pid, age=-90)  # fresh by the stepped clock the check reads
    env = check_env(tmp_path)
    stepped = ("import sys, time; real = time.time; time.time = lambda: real() + 90\n"
               "from bot.discord_app.health import main; sys.exit(main())")
    checked = subprocess.run([sys.executable, "-c", stepped], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.startswith("healthy: build b1"), checked.stdout


NAMESPACED = """
import json, subprocess, sys, time
from pathlib import Path
from bot.discord_app import processes
from bot.discord_app.health import main
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
time.sleep(0.2)
status = Path(sys.argv[1]) / "discord" / "status.json"
status.parent.mkdir(parents=True)
status.write_text(json.dumps({"at": time.time(), "pid": sleeper.pid, "process": processes.identity(sleeper.pid),
                              "ready": True, "build_id": "b3", "answered": 0}))
print("level", processes._our_level(), "pid", sleeper.pid, flush=True)
code = main([])
sleeper.kill(); sleeper.wait()
print("after", main([]), "was", code, flush=True)
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux unshare is not installed")
def test_the_check_finds_its_pids_when_proc_belongs_to_the_parent_namespace(tmp_path):
    """A sandbox that unshares pids but keeps the host's /proc: /proc/<pid> is not our process there."""
    env = check_env(tmp_path)
    run = subprocess.run(["unshare", "--pid", "--fork", sys.executable, "-c", NAMESPACED, str(tmp_path)], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    if run.returncode != 0 and "unshare failed" in run.stderr:
        pytest.skip(f"cannot make a pid namespace here: {run.stderr.strip()}")
    lines = run.stdout.splitlines()
    assert lines[0].startswith("level ") and int(lines[0].split()[1]) >= 1, run.stdout + run.stderr  # /proc is
    # an outer namespace's: its directory names are not our pids
    assert lines[1].startswith("healthy: build b3"), run.stdout
    assert "no running bot" in lines[2] and lines[3] == "after 1 was 0", run.stdout


def test_the_bot_s_status_carries_its_start_time(tmp_path):
    path = tmp_path / "discord" / "status.json"
    path.parent.mkdir()
    LoopMonitor(path, lambda: {"ready": True, "build_id": "b2", "answered": 0}).write()
    status = json.loads(path.read_text())
    assert status["pid"] == os.getpid() and status["process"] == identity(os.getpid())
    assert abs(status["started"] - started_at(os.getpid())) < 0.1  # the wall clock read at two moments
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


@pytest.mark.parametrize("content, words", [
    ("[]", "not a JSON object"), ('"str"', "not a JSON object"), ("{", "not JSON"),
    ('{"at": "abc", "ready": true}', "not a number of seconds"), ('{"at": null}', "not a number of seconds"),
    ('{"at": NaN, "ready": true}', "not a number of seconds"), ('{"at": 1e999, "ready": true}', "not a number"),
])
@pytest.mark.parametrize("options", [(), ("--shards", "1")])
def test_a_damaged_status_is_unhealthy_in_one_line_without_a_traceback(tmp_path, content, words, options):
    name = "status-shards-0.json" if options else "status.json"
    (tmp_path / "discord").mkdir()
    (tmp_path / "discord" / name).write_text(content)
    checked = health(tmp_path, *options)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert checked.stdout.startswith("unhealthy:") and words in checked.stdout and checked.stdout.count("\n") == 1, \
        checked.stdout


def test_a_status_dated_in_the_future_is_not_healthy(tmp_path, processes):
    write_status(tmp_path, "status.json", processes[0].pid, age=-3600)
    checked = health(tmp_path)
    assert checked.returncode == 1 and "in the future" in checked.stdout, checked.stdout
