"""Shards: `verbatim run --shards N --shard-ids …` runs discord.py's AutoShardedBot against the stand-in.

The stand-in routes as Discord does: a session identifies as shard `[id, count]` and gets the guilds
`(guild_id >> 22) % count == id` only (READY, GUILD_CREATE, interactions, messages). Its guilds here are
placed on chosen shards. Bot processes run one after the other (two cores are shared).
"""
from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.discord_app.config import BotConfig
from bot.discord_app.shards import Shards, parse_shards, status_file_name
from index.errors import ConfigError
from tests.conftest import CORPUS_DIR, run_cli
from tests.standin.bot_process import BotProcess, bot_env, connected_bot, copy_of_data, running_standin
from tests.standin.server import shard_of

# ----- settings (no process) -------------------------------------------------------------------------------


def test_no_shard_settings_mean_one_unsharded_session():
    assert parse_shards(None, None) is None and parse_shards("", " ") is None
    assert BotConfig.from_env({"DISCORD_TOKEN": "t"}, dotenv=None).shards is None
    assert status_file_name(None) == "status.json"


def test_shard_settings_from_the_environment_and_the_command_line():
    assert parse_shards("2", "") == Shards(2, (0, 1)), "a count alone: this process runs every shard"
    assert parse_shards("4", "3, 1") == Shards(4, (1, 3))
    env = {"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_SHARDS": "4", "VERBATIM_DISCORD_SHARD_IDS": "0,1"}
    assert BotConfig.from_env(env, dotenv=None).shards == Shards(4, (0, 1))
    assert BotConfig.from_env(env, dotenv=None, shard_ids="2,3").shards == Shards(4, (2, 3)), "the option wins"
    assert BotConfig.from_env(env, dotenv=None, shard_count="8", shard_ids="7").shards == Shards(8, (7,))
    assert Shards(4, (2, 3)).client_options() == {"shard_count": 4, "shard_ids": [2, 3]}
    assert Shards(4, (2, 3)).describe() == "shards 2,3 of 4" and Shards(2, (1,)).describe() == "shard 1 of 2"
    assert status_file_name(Shards(4, (2, 3))) == "status-shards-2-3.json"


@pytest.mark.parametrize("count, ids, expected", [
    ("0", "", "VERBATIM_DISCORD_SHARDS must be 1 or more"),
    ("-2", "", "VERBATIM_DISCORD_SHARDS must be 1 or more"),
    ("two", "", "VERBATIM_DISCORD_SHARDS must be a whole number"),
    ("1.5", "", "VERBATIM_DISCORD_SHARDS must be a whole number"),
    ("", "0,1", "VERBATIM_DISCORD_SHARD_IDS needs the total shard count too"),
    ("2", "0,0", "lists a shard twice"),
    ("2", "2", "shard 2 does not exist; VERBATIM_DISCORD_SHARDS is 2, so shards are 0 to 1"),
    ("2", "-1", "shard -1 does not exist"),
    ("2", "a,b", "must be a comma-separated list of shard numbers"),
])
def test_bad_shard_settings_are_refused_in_one_line(count, ids, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)) as refused:
        BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_SHARDS": count,
                            "VERBATIM_DISCORD_SHARD_IDS": ids}, dotenv=None)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("args, env, expected", [
    (("--shards", "0"), {}, "--shards must be 1 or more"),
    (("--shard-ids", "1"), {}, "--shard-ids needs the total shard count too (VERBATIM_DISCORD_SHARDS)"),
    (("--shards", "2", "--shard-ids", "1,5"), {}, "--shard-ids: shard 5 does not exist"),
    ((), {"VERBATIM_DISCORD_SHARDS": "3", "VERBATIM_DISCORD_SHARD_IDS": "1,1"}, "VERBATIM_DISCORD_SHARD_IDS lists"),
])
def test_verbatim_run_refuses_bad_shards_at_start(tmp_path, args, env, expected):
    result = run_cli("run", *args, data_dir=tmp_path / "d", extra_env={"DISCORD_TOKEN": "x", **env}, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("verbatim run: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_shards_make_discord_py_s_auto_sharded_bot_and_none_the_plain_one(tmp_path):
    import discord
    from discord.ext import commands

    from bot.discord_app.client import ShardedVerbatimBot, VerbatimBot, make_bot

    async def build(env: dict) -> tuple:
        config = BotConfig.from_env({"DISCORD_TOKEN": "t", **env}, dotenv=None)
        bot = make_bot(config, data_dir=tmp_path / str(len(env)), max_question_chars=1000, open_retriever=lambda: None)
        try:
            return type(bot), isinstance(bot, discord.AutoShardedClient), bot.shard_count, \
                getattr(bot, "shard_ids", None), bot.monitor.status_path.name
        finally:
            bot.answers.close(0.1)
            bot.bindings.close()

    plain = asyncio.run(build({}))
    assert plain == (VerbatimBot, False, None, None, "status.json")
    sharded = asyncio.run(build({"VERBATIM_DISCORD_SHARDS": "4", "VERBATIM_DISCORD_SHARD_IDS": "1,2"}))
    assert sharded == (ShardedVerbatimBot, True, 4, [1, 2], "status-shards-1-2.json")
    assert issubclass(ShardedVerbatimBot, commands.AutoShardedBot)


# ----- against the stand-in ----------------------------------------------------------------------------------

QUESTION = "Qui est Emmett Shear ?"


@pytest.fixture(scope="module")
def standin():
    """Two guilds on each shard of 2 (the default guild lands wherever its id puts it)."""
    with running_standin("fr") as server:
        server.extra_guilds = {shard: [server.add_guild(f"guild {shard}.{n}", shard=(shard, 2)) for n in range(2)]
                               for shard in (0, 1)}
        yield server


@pytest.fixture(autouse=True)
def no_violations(request):
    if "standin" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("standin")
    before = len(server.violations)
    yield
    assert server.violations[before:] == []


def guilds_on(standin, shard: int, count: int = 2) -> set[str]:
    return {g for g in standin.guilds if shard_of(g, count) == shard}


def sharded_env(standin, data_dir: Path, **extra: str) -> dict[str, str]:
    # Commands synced globally (no test guild): they must work in every guild.
    return bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DISCORD_SYNC_GUILD="", VERBATIM_DISCORD_USER_COOLDOWN="0",
                   VERBATIM_DISCORD_GUILD_RATE="100000/60", **extra)


def ask_in(standin, guild: str) -> dict:
    it = standin.slash("ask", {"question": QUESTION}, guild=guild, user=standin.new_user())
    message = standin.wait_answered(it, timeout=90)
    assert "Emmett Shear" in (message.get("content") or "") + str(message.get("embeds")), message
    return message


def health(proc: BotProcess, *args: str) -> subprocess.CompletedProcess:
    """The container health check, with the process's environment (and `args`, as given to `verbatim run`)."""
    return subprocess.run([sys.executable, "-m", "bot.discord_app.health", *args], env=proc.env, cwd=proc.workdir,
                          capture_output=True, text=True, timeout=60)


def test_stand_in_places_guilds_on_the_shards_asked_for(standin):
    for shard in (0, 1):
        assert all(shard_of(g, 2) == shard for g in standin.extra_guilds[shard])
    assert len(guilds_on(standin, 0)) >= 2 and len(guilds_on(standin, 1)) >= 2


def test_one_process_with_both_shards_answers_in_guilds_of_each(standin, built_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("both-shards")
    env = sharded_env(standin, copy_of_data(built_settings.data_dir, work))
    identified = len(standin.identifies)
    delivered = len(standin.delivered)
    standin.recommended_shards = 3  # GET /gateway/bot: Discord would want more shards than this bot runs
    with connected_bot(standin, env, work, args=("--shards", "2")) as proc:
        status = proc.wait_status(lambda s: s.get("ready"))
        assert sorted(d["shard"] for d in standin.identifies[identified:]) == [[0, 2], [1, 2]]
        assert standin.shards_connected() == [(0, 2), (1, 2)]
        assert (status["shards"], status["shard_count"]) == ([0, 1], 2)
        assert status["shard_guilds"] == {"0": len(guilds_on(standin, 0)), "1": len(guilds_on(standin, 1))}
        for shard in (0, 1):
            for guild in standin.extra_guilds[shard]:
                ask_in(standin, guild)
        # A mention in a guild of shard 1 is a message event: it arrives on shard 1 and is answered.
        guild = standin.extra_guilds[1][0]
        mid = standin.post_message(f"<@{standin.app_id}> {QUESTION}", guild=guild)
        reply = standin.wait_reply(mid, timeout=90)
        assert reply["channel_id"] == standin.channel_id("general", guild=guild)
        # Every guild event went on its guild's shard, and each shard got each of its guilds.
        events = standin.delivered[delivered:]
        assert all(shard_of(g, count) == sid for (sid, count), _, g in events)
        created = {(shard, g) for shard, event, g in events if event == "GUILD_CREATE"}
        assert created == {((shard_of(g, 2), 2), g) for g in standin.guilds}
        checked = health(proc, "--shards", "2")
        assert checked.returncode == 0 and checked.stdout.startswith("healthy: shards 0,1 of 2, build "), checked
        every = health(proc)  # no options: every running process's status, this one's included
        assert every.returncode == 0 and every.stdout.startswith("healthy: shards 0,1 of 2, build "), every
        assert f"(pid {proc.proc.pid}, status-shards-0-1.json)" in every.stdout, every
        logged = proc.log()
    assert "gateway: shards 0,1 of 2" in logged and "shard 1 of 2 ready with" in logged
    assert "Discord recommends 3 shards for this bot; running shards 0,1 of 2: raise VERBATIM_DISCORD_SHARDS" in logged


def test_a_process_with_shard_1_of_2_gets_only_its_guilds(standin, built_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("shard-1")
    env = sharded_env(standin, copy_of_data(built_settings.data_dir, work), VERBATIM_DISCORD_SHARDS="2")
    identified = len(standin.identifies)
    delivered = len(standin.delivered)
    standin.recommended_shards = 2
    with connected_bot(standin, env, work, args=("--shard-ids", "1")) as proc:
        status = proc.wait_status(lambda s: s.get("ready"))
        assert [d["shard"] for d in standin.identifies[identified:]] == [[1, 2]], "one session, shard 1 of 2"
        assert standin.shards_connected() == [(1, 2)]
        assert (status["shards"], status["shard_count"]) == ([1], 2)
        assert status["shard_guilds"] == {"1": len(guilds_on(standin, 1))}, "the bot knows only shard 1's guilds"
        assert proc.status_path().name == "status-shards-1.json"
        for guild in standin.extra_guilds[1]:
            ask_in(standin, guild)
        # Nothing carries shard 0 now: Discord would not deliver its guilds' events to this process.
        assert standin.session_for(standin.extra_guilds[0][0]) is None
        with pytest.raises(RuntimeError, match="no bot session carries guild"):
            standin.slash("ask", {"question": QUESTION}, guild=standin.extra_guilds[0][0])
        events = standin.delivered[delivered:]
        assert {g for _, _, g in events} <= guilds_on(standin, 1)
        assert {g for _, e, g in events if e == "GUILD_CREATE"} == guilds_on(standin, 1)
        checked = health(proc, "--shard-ids", "1")  # the count from the environment, as the bot took it
        assert checked.returncode == 0 and checked.stdout.startswith("healthy: shard 1 of 2, build "), checked
    assert "Discord recommends 2 shard(s); running shard 1 of 2" in proc.log()
    stopped = health(proc, "--shard-ids", "1")
    assert stopped.returncode == 1 and stopped.stdout.startswith("unhealthy: not connected to Discord (shard 1 of 2)")


def test_discord_requiring_sharding_is_a_one_line_error(built_settings, tmp_path):
    """Discord closes an unsharded session of a bot in too many guilds with 4011: say how to fix it."""
    with running_standin("fr") as server:
        server.min_shards = 2
        env = bot_env(server, copy_of_data(built_settings.data_dir, tmp_path), CORPUS_DIR)
        result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("verbatim run: Discord requires sharding") and "--shards" in last
    assert "Traceback" not in result.stderr
    assert server.sessions == 0 and len(server.identifies) == 1
