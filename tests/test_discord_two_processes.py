"""Two `verbatim run` processes, each with half of the shards, sharing one PostgreSQL (issue 10 §2).

Process A runs shard 0 of 2, process B shard 1 of 2, both against the loopback Discord stand-in
(which routes every guild's events to its shard, as Discord does) and one real PostgreSQL server
(tests/pg_fixtures.py). Their data directories are empty and separate, as on two machines: the
index, the answers, the votes, the cooldowns and the bindings can only be shared through the
database. Tests run in file order; the last one re-shards (A stops, B takes shard 0 too).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS_DIR, SECOND_ARTICLE, SECOND_ARTICLE_ID
from tests.standin.bot_process import PROJECT_ROOT, BotProcess, bot_env, copy_of_data, running_standin
from tests.standin.objects import MANAGE_CHANNELS
from tests.standin.server import shard_of

USER_COOLDOWN = 30  # seconds; every scenario but the cooldown one uses fresh users
QUESTIONS = ["Qui est Emmett Shear ?", "Who is Satya Nadella?", "Pourquoi Greg Brockman a démissionné ?",
             "Combien de salariés d'OpenAI ont signé la lettre ?"]
BIKES = "Combien de vélos-cargos la métropole va-t-elle prêter ?"  # only the second article answers it


# ----- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(pg_server):
    """One database for the whole module: both processes and the builds share it."""
    import psycopg

    url = pg_server.create_database("two_processes")
    yield url
    with psycopg.connect(pg_server.url_for("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "two_processes" WITH (FORCE)')


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A private copy of the corpus (the seed article): a test adds an article to it."""
    target = tmp_path_factory.mktemp("two-processes-corpus") / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.fixture(scope="module")
def builder_env(built_settings, database_url, corpus, tmp_path_factory) -> dict[str, str]:
    """Where `verbatim index build` runs: its own data directory (for the embedding cache), the database."""
    data = copy_of_data(built_settings.data_dir, tmp_path_factory.mktemp("builder"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERBATIM_", "DISCORD_"))}
    env.update(PYTHONPATH=str(PROJECT_ROOT), VERBATIM_DATA_DIR=str(data), VERBATIM_CORPUS_DIR=str(corpus),
               VERBATIM_DATABASE_URL=database_url)
    return env


def index_build(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "index", "build"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def built_id(output: str) -> str:
    match = re.search(r"^built (\S+):", output, re.M)
    assert match, f"no build id in the build's output:\n{output}"
    return match.group(1)


@pytest.fixture(scope="module")
def first_build(builder_env) -> str:
    """The index, built into PostgreSQL before any bot starts."""
    build = index_build(builder_env)
    output = build.communicate(timeout=600)[0]
    assert build.returncode == 0, output
    return built_id(output)


@pytest.fixture(scope="module")
def standin():
    """The default guild plus one guild on each shard of 2."""
    with running_standin("fr") as server:
        server.on_shard = {shard: server.add_guild(f"guild on shard {shard}", shard=(shard, 2)) for shard in (0, 1)}
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


class Processes(dict):
    """The bot processes of the module by name; each has its own empty data directory and working dir."""

    def __init__(self, standin, database_url: str, corpus: Path, root: Path):
        super().__init__()
        self.standin, self.database_url, self.corpus, self.root = standin, database_url, corpus, root

    def start(self, name: str, *args: str, data: str | None = None) -> BotProcess:
        """`data`: reuse the data directory of the process of that name (a restart on the same machine)."""
        work = self.root / f"{name}-cwd"
        work.mkdir(exist_ok=True)
        data_dir = self.root / f"{data or name}-data"
        env = bot_env(self.standin, data_dir, self.corpus,
                      VERBATIM_DATABASE_URL=self.database_url,
                      VERBATIM_DISCORD_SYNC_GUILD="",  # global commands: they must work in every guild
                      VERBATIM_DISCORD_USER_COOLDOWN=str(USER_COOLDOWN),
                      VERBATIM_DISCORD_GUILD_RATE="100000/60",
                      VERBATIM_DISCORD_REFRESH_SECONDS="1")
        self[name] = proc = BotProcess(env, work, work / "bot.log", args).start()
        return proc

    def wait_ready(self, *names: str, timeout: float = 180) -> None:
        for name in names:
            self[name].wait_status(lambda s: s.get("ready"), timeout=timeout)

    def stop_all(self) -> None:
        for name, proc in self.items():
            if proc.alive() and proc.stop() != 0:
                print(f"--- {name} did not exit 0:\n" + proc.log()[-4000:])


@pytest.fixture(scope="module")
def processes(standin, database_url, corpus, first_build, tmp_path_factory):
    procs = Processes(standin, database_url, corpus, tmp_path_factory.mktemp("two-processes"))
    try:
        procs.start("A", "--shards", "2", "--shard-ids", "0")
        procs.start("B", "--shards", "2", "--shard-ids", "1")
        procs.wait_ready("A", "B")
        yield procs
    finally:
        procs.stop_all()


# ----- helpers ---------------------------------------------------------------------------------------------


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def answer_id(message: dict) -> int:
    ids = [int(m.group(1)) for b in buttons(message) if (m := re.fullmatch(r"verbatim:sources:(\d+)", b))]
    assert len(ids) == 1, f"no Sources button in {message}"
    return ids[0]


def is_quoted_answer(message: dict) -> bool:
    embeds = message.get("embeds") or []
    return len(embeds) == 1 and "\n> " in embeds[0]["description"] and "\n— *" in embeds[0]["description"]


def all_text(message: dict) -> str:
    parts = [message.get("content") or ""]
    for e in message.get("embeds", []):
        parts += [e.get("title", ""), e.get("description", ""), (e.get("footer") or {}).get("text", "")]
        parts += [f["name"] + " " + f["value"] for f in e.get("fields", [])]
    return "\n".join(parts)


def ask(standin, shard: int, question: str, user: dict | None = None):
    it = standin.slash("ask", {"question": question}, guild=standin.on_shard[shard], user=user or standin.new_user())
    return it, standin.wait_answered(it, timeout=90)


def answered(proc: BotProcess) -> int:
    return int(proc.status().get("answered") or 0)


def shared(database_url: str, read):
    """`read(state)` on the shared state, opened as another process would (backend-neutral: stores/)."""
    from index.settings import Settings
    from stores import open_shared_state

    state = open_shared_state(Settings.from_env(env={}, database_url=database_url))
    assert state is not None, "a database URL gives a shared state"
    try:
        return read(state)
    finally:
        state.close()


def eventually(read, expected, wait: float = 10.0):
    """What `read()` gives once it equals `expected`, or its last value after `wait` s (answers and votes
    are stored by the bot's writer thread a moment after the reply that reports them)."""
    deadline = time.monotonic() + wait
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def stored_answer(database_url: str, aid: int, wait: float = 10.0):
    """An answer as the shared store holds it (stored by the bot's writer thread a moment after delivery)."""
    deadline = time.monotonic() + wait
    while (stored := shared(database_url, lambda s: s.answers.get(aid))) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored is not None, f"answer {aid} is not in the shared store {wait:.0f} s after it was delivered"
    return stored


def quoted_documents(database_url: str, aid: int) -> set[str]:
    """The documents an answer's passages come from."""
    return {h.passage.location.doc_id for h in stored_answer(database_url, aid).answer.hits}


def wait_answered_count(proc: BotProcess, at_least: int, timeout: float = 20) -> int:
    """The process's own count of answered questions (its status file is rewritten every few seconds)."""
    status = proc.wait_status(lambda s: int(s.get("answered") or 0) >= at_least, timeout=timeout)
    return int(status["answered"])


# ----- tests -----------------------------------------------------------------------------------------------


def test_each_process_runs_its_shard_and_answers_its_guilds(standin, processes):
    a, b = processes["A"], processes["B"]
    assert standin.shards_connected() == [(0, 2), (1, 2)]
    assert (a.status()["shards"], b.status()["shards"]) == ([0], [1])
    assert a.status()["build_id"] == b.status()["build_id"], "both serve the build in the database"
    before = answered(a), answered(b)
    ids = []
    for shard in (0, 1):
        for question in QUESTIONS[:2]:
            _, message = ask(standin, shard, question)
            assert is_quoted_answer(message), message
            ids.append(answer_id(message))
    assert len(set(ids)) == len(ids), f"answer numbers come from one shared sequence: {ids}"
    # Each process answered the questions of its own shard's guild, and only those.
    assert wait_answered_count(a, before[0] + 2) == before[0] + 2
    assert wait_answered_count(b, before[1] + 2) == before[1] + 2
    for (sid, count), event, guild in standin.delivered:
        assert shard_of(guild, count) == sid, f"{event} for guild {guild} went on shard {sid}"


def test_a_cooldown_set_through_one_process_holds_on_the_other(standin, processes):
    user = standin.new_user("eager")
    _, first = ask(standin, 0, QUESTIONS[2], user=user)  # process A answers
    assert is_quoted_answer(first)
    it, second = ask(standin, 1, QUESTIONS[3], user=user)  # process B is asked right after
    assert it.callback["type"] == 4 and second["flags"] & 64, "refused at once, privately"
    seconds = int(re.search(r"Réessayez dans (\d+) s", second["content"]).group(1))
    assert 1 <= seconds <= USER_COOLDOWN


def test_an_index_build_is_picked_up_by_both_with_no_failed_answer(standin, processes, builder_env, corpus):
    a, b = processes["A"], processes["B"]
    old_build = a.status()["build_id"]
    assert b.status()["build_id"] == old_build
    shutil.copyfile(SECOND_ARTICLE, corpus / SECOND_ARTICLE.name)  # a corpus change: a second article
    build = index_build(builder_env)
    asked = []
    new_build = None
    switch_deadline = None
    try:
        # Questions keep coming to both processes while the build runs and until both have switched.
        while True:
            if new_build is None and build.poll() is not None:
                output = build.stdout.read()
                assert build.returncode == 0, output
                new_build = built_id(output)
                switch_deadline = time.monotonic() + 60  # they poll the database every second
            if new_build is not None and a.status().get("build_id") == new_build == b.status().get("build_id"):
                break
            assert switch_deadline is None or time.monotonic() < switch_deadline, \
                f"not both on build {new_build} a minute after it was published: A {a.status().get('build_id')}, " \
                f"B {b.status().get('build_id')}"
            pair = [standin.slash("ask", {"question": QUESTIONS[len(asked) % len(QUESTIONS)]},
                                  guild=standin.on_shard[shard], user=standin.new_user()) for shard in (0, 1)]
            asked += pair
            standin.wait_for(lambda: all(it.answered for it in pair), timeout=90, what="answers during the build")
            time.sleep(0.5)  # leave the build some CPU: two bots, the build and the tests share 2 cores
    finally:
        if build.poll() is None:
            build.kill()
    finals = [it.final() for it in asked]
    failed = [all_text(m)[:200] for m in finals if not is_quoted_answer(m)]
    assert failed == [], "no failed answer while the build was published"
    assert new_build != old_build
    builds = [stored_answer(processes.database_url, answer_id(m)).answer.build_id for m in finals]
    assert builds[0] == old_build and set(builds) <= {old_build, new_build}, builds
    # The new article is answered on both processes, from the new build.
    for shard in (0, 1):
        _, message = ask(standin, shard, BIKES)
        assert is_quoted_answer(message) and "vélos-cargos" in all_text(message), all_text(message)[:500]
        assert stored_answer(processes.database_url, answer_id(message)).answer.build_id == new_build
    print(f"\n[two processes] {len(asked)} questions to both processes while build {new_build} was written and "
          f"published, all answered: {builds.count(old_build)} by the old build, {builds.count(new_build)} by the new")


def test_after_a_reshard_the_other_process_serves_sources_votes_source_and_bindings(standin, processes,
                                                                                       database_url):
    """A's answer and binding, used after A stopped and B took shard 0 over: only the database knows them."""
    _, message = ask(standin, 0, "Qui est Mira Murati ?")
    aid = answer_id(message)
    guild = standin.on_shard[0]
    before = standin.wait_answered(standin.slash("source", {"answer": str(aid)}, guild=guild))
    assert f"n° {aid}" in before["content"] and before["embeds"]
    bound = standin.wait_answered(standin.slash("article", {"article": SECOND_ARTICLE_ID}, subcommand="set",
                                                channel="random", permissions=MANAGE_CHANNELS, guild=guild))
    assert not bound["flags"] & 64, bound  # A binds channel "random" of the shard-0 guild to the second article

    assert processes["A"].stop() == 0
    assert processes["B"].stop() == 0
    # B restarts on its own machine (its data directory, which never saw A's answer) with both shards.
    b2 = processes.start("B2", "--shards", "2", "--shard-ids", "0,1", data="B")
    processes.wait_ready("B2")
    assert standin.shards_connected() == [(0, 2), (1, 2)]

    clicked = standin.wait_answered(standin.click(message, f"verbatim:sources:{aid}", guild=guild))
    assert clicked["flags"] & 64 and clicked["embeds"] == before["embeds"], "the Sources button of A's answer"
    after = standin.wait_answered(standin.slash("source", {"answer": str(aid)}, guild=guild))
    assert after["content"] == before["content"] and after["embeds"] == before["embeds"]
    voter = standin.new_user("voter")
    thanks = standin.wait_answered(standin.click(message, f"verbatim:vote:{aid}:up", user=voter, guild=guild))
    assert thanks["flags"] & 64 and "Merci" in thanks["content"], thanks
    expected = {int(voter["id"]): 1}
    assert eventually(lambda: shared(database_url, lambda s: s.answers.feedback(aid)), expected) == expected
    # The binding A set holds on B: a question there about the first article is answered from the second.
    it = standin.slash("ask", {"question": QUESTIONS[0]}, channel="random", guild=guild, user=standin.new_user())
    in_bound = standin.wait_answered(it, timeout=90)
    assert quoted_documents(database_url, answer_id(in_bound)) == {SECOND_ARTICLE_ID}
    assert b2.alive()
