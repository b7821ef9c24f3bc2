"""End to end with a database URL: the real `verbatim run` against the loopback Discord stand-in, its
answers, votes, cooldowns and bindings in a real PostgreSQL that is taken down and brought back.

"Another process" is this test process, writing through the same `stores.open_shared_state` a second
bot process would use: an answer it stores is shown by the bot's /source, a cooldown it starts holds
in the bot. Tests run in file order; the outage comes last.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.pg.url import redacted
from index.settings import Settings
from stores import Binding, open_shared_state
from tests.conftest import CORPUS_DIR, SEED_ARTICLE_ID
from tests.standin import DiscordStandIn
from tests.standin.objects import MANAGE_CHANNELS
from tests.standin.bot_process import PROJECT_ROOT, bot_env, connected_bot, copy_of_data, running_standin

USER_COOLDOWN = 20  # seconds, the bot's and the "other process's" alike
FRENCH_UNAVAILABLE = "momentanément indisponible"


def put_index_where_the_bot_reads_it(data_dir: Path, database_url: str) -> None:
    """The one place this module decides where the index lives.

    With a database URL the index is read from PostgreSQL once `verbatim index push` exists (it copies
    the current file build in, without embedding); before that, `Retriever.open` reads the file build
    in `data_dir`, the shared state alone being in the database."""
    help_text = subprocess.run([sys.executable, "-m", "bot.cli", "index", "--help"], capture_output=True,
                               text=True, cwd=PROJECT_ROOT).stdout
    if re.search(r"^\s+push\b", help_text, re.M):
        result = subprocess.run([sys.executable, "-m", "bot.cli", "index", "push", "--database-url", database_url],
                                capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
                                env={**{k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")},
                                     "VERBATIM_DATA_DIR": str(data_dir), "VERBATIM_CORPUS_DIR": str(CORPUS_DIR)})
        assert result.returncode == 0, result.stderr


# ----- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(pg_server) -> str:
    return pg_server.create_database("discord_shared")


@pytest.fixture(scope="module")
def data_dir(built_settings, tmp_path_factory, database_url) -> Path:
    data = copy_of_data(built_settings.data_dir, tmp_path_factory.mktemp("discord-shared"))
    put_index_where_the_bot_reads_it(data, database_url)
    return data


@pytest.fixture(scope="module")
def other_process(database_url):
    """The state as a second bot process sees it (same limits as the bot's)."""
    state = open_shared_state(Settings.from_env(env={}, database_url=database_url), user_cooldown=USER_COOLDOWN,
                              guild_limit=100000, guild_window=60)
    yield state
    state.close()


@pytest.fixture(scope="module")
def standin():
    with running_standin("fr") as server:
        yield server


@pytest.fixture(scope="module")
def bot(standin, data_dir, database_url, tmp_path_factory):
    env = bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DATABASE_URL=database_url,
                  VERBATIM_DISCORD_USER_COOLDOWN=str(USER_COOLDOWN), VERBATIM_DISCORD_GUILD_RATE="100000/60")
    with connected_bot(standin, env, tmp_path_factory.mktemp("bot-cwd")) as proc:
        yield proc


@pytest.fixture(autouse=True)
def no_violations(request):
    if "standin" not in request.fixturenames:
        yield
        return
    server: DiscordStandIn = request.getfixturevalue("standin")
    before = len(server.violations)
    yield
    assert server.violations[before:] == []


def ask(standin, question: str, *, user: dict, locale: str = "fr") -> dict:
    return standin.wait_answered(standin.slash("ask", {"question": question}, user=user, locale=locale), timeout=60)


def answer_id(message: dict) -> int:
    ids = [int(m.group(1)) for row in message.get("components", []) for c in row["components"]
           if (m := re.fullmatch(r"verbatim:sources:(\d+)", c["custom_id"]))]
    assert len(ids) == 1, f"no Sources button in {message}"
    return ids[0]


def eventually(read, wait: float = 10.0):
    """`read()` once it is truthy (the bot's writer thread stores a moment after the reply), or its last value."""
    deadline = time.monotonic() + wait
    value = read()
    while not value and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


# ----- sharing ----------------------------------------------------------------------------------------------


def test_answers_and_votes_go_to_the_database_not_the_data_dir(standin, bot, data_dir, other_process):
    user = standin.new_user("asker")
    msg = ask(standin, "Qui est Emmett Shear ?", user=user)
    number = answer_id(msg)
    stored = eventually(lambda: other_process.answers.get(number))
    assert stored and stored.answer.question == "Qui est Emmett Shear ?" and stored.asker_id == int(user["id"])
    assert stored.answer.answered and "> " in msg["embeds"][0]["description"]
    standin.wait_answered(standin.click(msg, f"verbatim:vote:{number}:up", user=user))
    assert eventually(lambda: other_process.answers.feedback(number)) == {int(user["id"]): 1}
    assert not (data_dir / "discord" / "answers.sqlite3").exists(), "nothing kept in the SQLite file"


def test_source_of_an_answer_given_by_another_process(standin, bot, retriever, other_process):
    answer = retriever.ask("Who is Satya Nadella?")
    number = other_process.answers.reserve_id()
    other_process.answers.add(answer, guild_id=int(standin.guild_id), channel_id=int(standin.channel_id("general")),
                              asker_id=1, asker_name="Elsewhere", answer_id=number)
    sources = standin.wait_answered(standin.slash("source", {"answer": str(number)}, locale="en-US"))
    text = " ".join([e.get("title", "") for e in sources["embeds"]] + [(e.get("footer") or {}).get("text", "")
                                                                       for e in sources["embeds"]])
    assert f"#{number}" in text and "Elsewhere" in text, sources
    newer = ask(standin, "Qui dirige OpenAI ?", user=standin.new_user())
    assert answer_id(newer) > number, "the bot's numbers come from the same sequence"


def test_a_cooldown_started_by_another_process_holds_in_the_bot(standin, bot, other_process):
    user = standin.new_user("quick")
    assert other_process.limits.check(int(user["id"]), int(standin.guild_id)) is None
    reply = ask(standin, "Qui est Sam Altman ?", user=user)
    assert reply["flags"] & 64 and "un peu vite" in reply["content"] + str(reply.get("embeds")), reply


def test_an_article_bound_through_the_bot_is_seen_by_another_process(standin, bot, other_process):
    channel = int(standin.channel_id("random"))
    done = standin.wait_answered(standin.slash("article", {"article": SEED_ARTICLE_ID}, subcommand="set",
                                               channel="random", permissions=MANAGE_CHANNELS))
    assert not done["flags"] & 64, done  # the public "questions here now go to …"
    assert other_process.bindings.resolve_now(channel) == Binding(channel, SEED_ARTICLE_ID, "set")
    standin.wait_answered(standin.slash("article", {}, subcommand="clear", channel="random",
                                        permissions=MANAGE_CHANNELS))
    assert other_process.bindings.resolve_now(channel) is None


def test_an_article_bound_through_another_process_is_the_bots(standin, bot, other_process):
    import asyncio

    channel = int(standin.channel_id("general"))
    asyncio.run(other_process.bindings.bind(channel, int(standin.guild_id), "no-such-article", user_id=1))
    try:
        msg = ask(standin, "Qui est Emmett Shear ?", user=standin.new_user())
        assert "plus disponible" in str(msg), "the bot saw the binding (stale: the index has no such article)"
    finally:
        asyncio.run(other_process.bindings.clear(channel))


# ----- the database going away and coming back ---------------------------------------------------------------


def test_database_down_gets_a_polite_reply_and_the_next_question_after_it_is_answered(
        standin, bot, pg_server, data_dir, database_url, other_process):
    log_before = len(bot.log())
    pg_server.pause()
    try:
        started = time.monotonic()
        down = ask(standin, "Qui est Emmett Shear ?", user=standin.new_user())
        assert time.monotonic() - started < 3, "answered within Discord's 3 s"
        assert down["flags"] & 64 and FRENCH_UNAVAILABLE in down["content"] + str(down.get("embeds")), down
        english = ask(standin, "Who is Emmett Shear?", user=standin.new_user(), locale="en-US")
        assert "temporarily unavailable" in english["content"] + str(english.get("embeds")), english
        mid = standin.post_message(f"<@{standin.app_id}> Qui dirige OpenAI ?", user=standin.new_user())
        assert FRENCH_UNAVAILABLE in str(standin.wait_reply(mid)), "a mention is told too, never left unanswered"
        source = standin.wait_answered(standin.slash("source", {"answer": "1"}))
        assert source["flags"] & 64 and source["content"], "/source says it cannot read now"
        binding = standin.wait_answered(standin.slash("article", {"article": SEED_ARTICLE_ID}, subcommand="set",
                                                      channel="random", permissions=MANAGE_CHANNELS))
        assert binding["flags"] & 64 and FRENCH_UNAVAILABLE in str(binding), binding

        # Started while the database is down: one line naming it, password hidden, and an exit.
        env = bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DATABASE_URL=database_url)
        start = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=data_dir.parent,
                               capture_output=True, text=True, timeout=60)
        assert start.returncode == 2
        assert start.stderr.strip().count("\n") == 0 and redacted(database_url) in start.stderr, start.stderr
        assert pg_server.password not in start.stderr + start.stdout
    finally:
        pg_server.resume()
    user = standin.new_user("after")
    back = ask(standin, "Qui est Emmett Shear ?", user=user)
    number = answer_id(back)
    assert "> " in back["embeds"][0]["description"], "the same process answers again, no restart"
    assert eventually(lambda: other_process.answers.get(number)), "and stores the answer in the database again"
    assert bot.alive()
    log = bot.log()[log_before:]
    assert "Traceback" not in log, log[-3000:]
