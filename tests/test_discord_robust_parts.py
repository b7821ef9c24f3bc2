"""The bot's robustness parts on their own: settings ranges, owner-only files, the store's keeper, the drain."""
from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.discord_app.answers_keeper import AnswersKeeper
from bot.discord_app.answers_store import AnswersStore
from bot.discord_app.config import BotConfig
from bot.discord_app.inflight import InFlight
from index.private_files import private_dir, private_file, write_private
from index.errors import ConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, value, says", [
    ("VERBATIM_DISCORD_USER_COOLDOWN", "-5", "0 or more"),
    ("VERBATIM_DISCORD_GUILD_RATE", "30/0", "more than 0 seconds"),
    ("VERBATIM_DISCORD_GUILD_RATE", "-1/60", "0 or more"),
    ("VERBATIM_DISCORD_REFRESH_SECONDS", "0", "more than 0"),
    ("VERBATIM_DISCORD_REFRESH_SECONDS", "-1", "more than 0"),
    ("VERBATIM_DISCORD_SHUTDOWN_GRACE", "-1", "0 or more"),
    ("VERBATIM_DISCORD_SHUTDOWN_GRACE", "inf", "finite"),
    ("VERBATIM_DISCORD_SHUTDOWN_GRACE", "soon", "must be a number"),
])
def test_settings_out_of_range_are_refused_at_start(name, value, says):
    with pytest.raises(ConfigError, match=name) as e:
        BotConfig.from_env({"DISCORD_TOKEN": "t", name: value}, dotenv=None)
    assert says in str(e.value)


def test_shutdown_grace_fits_dockers_stop_timeout_by_default():
    config = BotConfig.from_env({"DISCORD_TOKEN": "t"}, dotenv=None)
    assert 0 < config.shutdown_grace <= 8.5
    assert BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_SHUTDOWN_GRACE": "25"},
                              dotenv=None).shutdown_grace == 25
    zero = BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_GUILD_RATE": "0/60",
                               "VERBATIM_DISCORD_USER_COOLDOWN": "0"}, dotenv=None)
    assert zero.guild_limit == 0 and zero.user_cooldown == 0, "0 still disables the limits"


# ----- owner-only files -----------------------------------------------------------------------------------


def _with_umask(mask: int, fn):
    old = os.umask(mask)
    try:
        return fn()
    finally:
        os.umask(old)


def test_the_store_and_status_files_are_owner_only_and_old_wide_ones_are_narrowed(tmp_path):
    def go():
        wide = tmp_path / "old" / "discord"
        wide.mkdir(parents=True, mode=0o755)
        os.chmod(wide, 0o755)
        (wide / "answers.sqlite3-wal").write_bytes(b"")
        os.chmod(wide / "answers.sqlite3-wal", 0o644)
        store = AnswersStore(wide / "answers.sqlite3")
        store.reserve_id()
        write_private(wide / "status.json", "{}")
        write_private(wide / "status.json", "{}")  # replacing keeps it private
        modes = {p.name: mode(p) for p in wide.iterdir()}
        store.close()
        return mode(wide), modes

    dir_mode, files = _with_umask(0o022, go)
    assert dir_mode == 0o700
    assert {"answers.sqlite3", "answers.sqlite3-wal", "answers.sqlite3-shm", "status.json"} <= set(files)
    assert all(m == 0o600 for m in files.values()), {n: f"{m:o}" for n, m in files.items()}


def test_a_stricter_umask_is_honoured(tmp_path):
    def go():
        d = private_dir(tmp_path / "strict" / "discord")
        f = private_file(d / "x")
        write_private(d / "y", "data")
        return mode(d), mode(f), mode(d / "y")

    assert _with_umask(0o277, go) == (0o500, 0o400, 0o400)


# ----- the store and its keeper ----------------------------------------------------------------------------


def test_a_deleted_database_is_recreated_and_numbers_keep_counting(tmp_path, retriever, caplog):
    answer = retriever.ask("Qui est Emmett Shear ?")
    path = tmp_path / "discord" / "answers.sqlite3"
    store = AnswersStore(path)
    first = store.add(answer, guild_id=1, channel_id=2, asker_id=3, asker_name="a")
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    assert store.file_is_gone()
    second = store.add(answer, guild_id=1, channel_id=2, asker_id=3, asker_name="a")
    assert path.exists() and not store.file_is_gone()
    assert second > first and store.get(second) is not None and store.count() == 1
    assert "was deleted while the bot ran" in caplog.text
    store.close()
    reopened = AnswersStore(path)
    assert reopened.reserve_id() == second + 1, "no later answer reuses a number shown before"
    reopened.close()


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def test_the_keeper_delivers_at_once_and_stores_after_another_process_releases_its_lock(tmp_path, retriever):
    answer = retriever.ask("Who is Satya Nadella?")
    path = tmp_path / "answers.sqlite3"
    keeper = AnswersKeeper(path)
    old = keeper.reserve_id()
    keeper.save_answer(old, answer, guild_id=1, channel_id=2, asker_id=3, asker_name="a")
    assert keeper.flush(10)
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        new = keeper.reserve_id()
        keeper.save_answer(new, answer, guild_id=1, channel_id=2, asker_id=3, asker_name="a")
        keeper.save_vote(old, 9, 1)
        assert time.monotonic() - t0 < 0.1, "saving never waits for the lock"
        assert keeper.is_pending(new) and keeper.latest_pending_in(2) == new

        async def reads():
            return await keeper.get(old), await keeper.recent(channel_id=2, guild_id=1)

        got, recent = asyncio.run(reads())
        assert got.id == old and [i for i, _ in recent] == [old], "reads go on while the file is locked"
        assert time.monotonic() - t0 < 2.5 and locker.poll() is None
        assert keeper.flush(15), "stored once the lock was released"
        assert not keeper.is_pending(new)
        assert keeper.store.get(new) is not None and keeper.store.feedback(old) == {9: 1}
    finally:
        locker.kill()
        keeper.close()


def test_writes_the_store_never_took_are_kept_for_the_next_start(tmp_path, retriever):
    answer = retriever.ask("Qui est Emmett Shear ?")
    path = tmp_path / "answers.sqlite3"
    AnswersStore(path).close()
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        keeper = AnswersKeeper(path)
        kept = keeper.reserve_id()
        keeper.save_answer(kept, answer, guild_id=None, channel_id=7, asker_id=8, asker_name="b")
        keeper.save_vote(kept, 8, -1)
        keeper.close(0.5)
        assert keeper.unsaved_path.exists() and mode(keeper.unsaved_path) == 0o600
        assert locker.wait(30) == 0
    finally:
        locker.kill()
    again = AnswersKeeper(path)
    try:
        assert again.flush(15)
        assert again.store.get(kept).answer == answer and again.store.feedback(kept) == {8: -1}
        assert not again.unsaved_path.exists()
    finally:
        again.close()


# ----- the shutdown drain -----------------------------------------------------------------------------------


def test_the_drain_finishes_quick_answers_and_tells_the_rest():
    async def go():
        inflight = InFlight()
        outcome: dict[str, str] = {}

        async def question(name: str, seconds: float, delivering_after: float | None = None):
            async def tell():
                outcome[name] = "told"
            async with inflight.track(tell) as job:
                if delivering_after is not None:
                    await asyncio.sleep(delivering_after)
                    job.delivering = True
                await asyncio.sleep(seconds)
                outcome[name] = "answered"

        tasks = [asyncio.create_task(question("quick", 0.1)), asyncio.create_task(question("slow", 30)),
                 asyncio.create_task(question("delivering", 1.1, delivering_after=0.1))]
        await asyncio.sleep(0.01)
        t0 = time.monotonic()
        report = await inflight.drain(1.2)
        took = time.monotonic() - t0
        await asyncio.gather(*tasks, return_exceptions=True)
        return inflight, outcome, report, took

    inflight, outcome, report, took = asyncio.run(go())
    assert outcome == {"quick": "answered", "slow": "told", "delivering": "answered"}
    assert (report.finished, report.told, report.untold) == (2, 1, 0)
    assert inflight.closing and took < 2.5


def test_a_second_signal_stops_waiting():
    async def go():
        inflight = InFlight()
        told = []

        async def question():
            async def tell():
                told.append(1)
            async with inflight.track(tell):
                await asyncio.sleep(30)

        task = asyncio.create_task(question())
        await asyncio.sleep(0.01)
        asyncio.get_running_loop().call_later(0.2, inflight.hurry)
        t0 = time.monotonic()
        await inflight.drain(20)
        await asyncio.gather(task, return_exceptions=True)
        return told, time.monotonic() - t0

    told, took = asyncio.run(go())
    assert told == [1] and took < 3


# ----- an edit that seemed to fail ------------------------------------------------------------------------


def test_a_fetched_reply_shows_the_edit_only_when_it_is_that_answer_and_no_longer_thinking():
    import discord

    from bot.discord_app.delivery import shows

    sent = {"content": None, "embeds": [discord.Embed.from_dict({"title": "Q", "description": "> quote\n— A"})]}
    fetched = [{"type": "rich", "title": "Q", "description": "> quote\n— A", "color": 1}]
    assert shows("", fetched, False, sent)
    assert not shows("", fetched, True, sent), "still the deferred 'thinking' message"
    assert not shows("", [], False, sent) and not shows("", [{"title": "Q", "description": "other"}], False, sent)
    assert not shows("restarting", fetched, False, sent)
    assert shows("Restarting, try again.", [], False, {"content": "Restarting, try again.", "embeds": []})
