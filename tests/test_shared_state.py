"""The bot state shared through PostgreSQL (stores/), on a real server: answers, votes, limits, bindings.

Two `SharedState` objects are two sets of connections, as two bot processes have; threads racing on
them show each limit is decided atomically by the database, not by a process.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.discord_app.answers_store import AnswersStore
from bot.discord_app.bindings import ArticleBindings
from index.errors import DatabaseUnavailable
from index.pg.url import redacted
from index.settings import Settings
from stores import Binding, open_shared_state


def shared(url: str, **limits):
    return open_shared_state(Settings.from_env(env={}, database_url=url), **limits)


@pytest.fixture
def two(pg_database_url):
    """Two processes' worth of shared state on one fresh database."""
    a, b = shared(pg_database_url, user_cooldown=30, guild_limit=3, guild_window=60), \
        shared(pg_database_url, user_cooldown=30, guild_limit=3, guild_window=60)
    yield a, b
    a.close()
    b.close()


def test_no_database_url_means_no_shared_state():
    assert open_shared_state(Settings.from_env(env={})) is None


def test_the_bot_reaches_postgres_only_through_open_shared_state():
    """bot/ names neither psycopg nor the PostgreSQL modules, and without a URL none of them is even loaded."""
    import re
    import subprocess
    import sys

    from index.settings import PROJECT_ROOT

    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text("utf-8"), re.M)
        assert not [m for m in imports if m.startswith(("psycopg", "stores.postgres", "index.pg"))], path
    code = ("import sys, bot.cli, bot.discord_app.client, bot.discord_app.run, stores\n"
            "from index.settings import Settings\n"
            "assert stores.open_shared_state(Settings.from_env(env={})) is None\n"
            "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'stores.postgres', 'index.pg'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stderr + loaded.stdout


# ----- answers ------------------------------------------------------------------------------------------


def test_an_answer_given_by_one_process_is_read_by_the_other(two, retriever):
    a, b = two
    answer = retriever.ask("Qui est Emmett Shear ?")
    other = retriever.ask("Who is Satya Nadella?")
    ids = [a.answers.reserve_id(), b.answers.reserve_id(), a.answers.reserve_id()]
    assert len(set(ids)) == 3 and ids == sorted(ids), "numbers come from the database, unique across processes"
    first = a.answers.add(answer, guild_id=5, channel_id=10, asker_id=42, asker_name="Ada", answer_id=ids[0])
    a.answers.add(answer, guild_id=5, channel_id=10, asker_id=42, asker_name="Ada", answer_id=ids[0])  # no-op
    second = b.answers.add(other, guild_id=5, channel_id=11, asker_id=43, asker_name="Bob")
    got = b.answers.get(first)
    assert got.answer == answer and (got.asker_name, got.channel_id, got.guild_id, got.asker_id) == ("Ada", 10, 5, 42)
    assert abs(got.created_at - time.time()) < 60
    assert a.answers.get(second).answer == other
    assert b.answers.get(10**15) is None
    assert b.answers.latest_in_channel(10).id == first and a.answers.latest_in_channel(999) is None
    assert [i for i, _ in a.answers.recent(channel_id=10, guild_id=5)] == [first, second], "this channel first"
    assert [i for i, _ in a.answers.recent(channel_id=10, guild_id=5, query="satya")] == [second], "any case"
    assert [i for i, _ in a.answers.recent(channel_id=10, guild_id=5, query=str(second))] == [second]
    assert [i for i, _ in a.answers.recent(channel_id=10, guild_id=None)] == [first], "no guild: this channel only"
    assert a.answers.count() == b.answers.count() == 2


def test_quoted_passages_are_kept_verbatim_one_row_each(two, retriever, built_settings):
    import psycopg

    from index.store import load_build

    a, _ = two
    answer = retriever.ask("Qui est Emmett Shear ?")
    assert answer.quoted, "the seed question is answered by quoting"
    number = a.answers.add(answer, guild_id=None, channel_id=3, asker_id=1, asker_name="Ada")
    with psycopg.connect(a.answers._db.url) as conn:
        rows = conn.execute("SELECT rank, passage_id, doc_id, start_at, end_at, text FROM verbatim.answer_quotes"
                            " WHERE answer_id = %s ORDER BY rank", (number,)).fetchall()
    passages = load_build(built_settings.data_dir).passages
    assert [(r[0], r[1]) for r in rows] == [(h.rank, h.passage.id) for h in answer.quoted]
    for _, passage_id, doc_id, start, end, text in rows:
        indexed = passages[passage_id]
        assert text == indexed.text, "a stored quote is the index's passage, character for character"
        assert (doc_id, start, end) == (indexed.location.doc_id, indexed.location.start, indexed.location.end)


def test_votes_have_the_sqlite_stores_meaning(two, retriever, tmp_path):
    a, b = two
    local = AnswersStore(tmp_path / "answers.sqlite3")
    answer = retriever.ask("Qui est Emmett Shear ?")
    for store in (local, a.answers):
        n = store.add(answer, guild_id=5, channel_id=10, asker_id=42, asker_name="Ada")
        store.set_feedback(n, 42, 1)
        store.set_feedback(n, 42, -1)  # a user's second vote replaces the first
        store.set_feedback(n, 7, 1)
        assert store.feedback(n) == {42: -1, 7: 1}
    assert b.answers.feedback(n) == {42: -1, 7: 1}, "votes are shared too"
    local.close()


def test_text_postgres_cannot_hold_is_stored_instead_of_failing_forever(two, retriever):
    a, _ = two
    answer = retriever.ask("Qui est Emmett Shear ?")
    odd = type(answer)(**{**answer.__dict__, "question": "Qui est\x00 Emmett ?"})
    n = a.answers.add(odd, guild_id=None, channel_id=1, asker_id=1, asker_name="A\x00da")
    got = a.answers.get(n)
    assert got.asker_name == "A\ufffdda" and got.answer.question == "Qui est\ufffd Emmett ?"


# ----- limits -----------------------------------------------------------------------------------------------


def test_a_cooldown_set_through_one_process_holds_in_the_other(two):
    a, b = two
    assert a.limits.check(1, 99) is None
    refusal = b.limits.check(1, 99)
    assert refusal.reason == "cooldown" and 28 < refusal.retry_after <= 30 and refusal.seconds <= 30
    assert b.limits.check(2, 99) is None, "another user is not held up"


def test_the_server_cap_holds_across_processes_and_a_refusal_starts_no_cooldown(two):
    a, b = two
    assert [a.limits.check(1, 7), b.limits.check(2, 7), a.limits.check(3, 7)] == [None, None, None]
    refusal = b.limits.check(4, 7)
    assert refusal.reason == "guild_rate" and 58 < refusal.retry_after <= 60
    assert a.limits.check(4, 8) is None, "user 4 was not put on cooldown by the refusal"
    assert a.limits.check(5, None) is None, "direct messages are counted apart from servers"


def test_the_cap_is_a_sliding_window_and_the_cooldown_ends(pg_database_url):
    state = shared(pg_database_url, user_cooldown=1, guild_limit=2, guild_window=1.5)
    try:
        assert state.limits.check(1, 7) is None
        time.sleep(0.6)
        assert state.limits.check(2, 7) is None
        refusal = state.limits.check(3, 7)
        assert refusal.reason == "guild_rate" and 0.5 < refusal.retry_after < 1.0, "until the oldest leaves the window"
        time.sleep(refusal.retry_after + 0.1)
        assert state.limits.check(3, 7) is None, "the oldest question left the window"
        assert state.limits.check(4, 7).reason == "guild_rate", "the second is still in it"
        assert state.limits.check(1, 8) is None, "user 1's cooldown of 1 s is over"
    finally:
        state.close()


def test_zero_disables_the_shared_limits(pg_database_url):
    state = shared(pg_database_url)
    try:
        assert all(state.limits.check(1, 1) is None for _ in range(20))
    finally:
        state.close()


def race(states, checks: list[tuple[int, int]]) -> list:
    """Every check at once from its own thread, spread over the given states; their results in order."""
    results: list = [None] * len(checks)
    start = threading.Barrier(len(checks))

    def go(i: int, user: int, guild: int) -> None:
        start.wait()
        results[i] = states[i % len(states)].limits.check(user, guild)

    threads = [threading.Thread(target=go, args=(i, u, g)) for i, (u, g) in enumerate(checks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_racing_questions_of_one_user_let_exactly_one_through(two):
    results = race(two, [(77, 5)] * 12)
    assert sum(r is None for r in results) == 1, results
    assert all(r.reason == "cooldown" and 0 < r.retry_after <= 30 for r in results if r is not None)


def test_racing_questions_of_one_server_let_exactly_the_cap_through(two):
    results = race(two, [(100 + i, 6) for i in range(12)])
    assert sum(r is None for r in results) == 3, results
    assert all(r.reason == "guild_rate" and 0 < r.retry_after <= 60 for r in results if r is not None)
    refused = [100 + i for i, r in enumerate(results) if r is not None]
    assert all(two[0].limits.check(u, 1000 + u) is None for u in refused), "refused by the cap: no cooldown started"


# ----- bindings: the same behaviour as the SQLite ones ---------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def bindings_pair(request, tmp_path):
    """Two handles on the same bindings, as a restart (SQLite) or a second process (PostgreSQL) has."""
    if request.param == "sqlite":
        path = tmp_path / "answers.sqlite3"
        first, second = ArticleBindings(path), ArticleBindings(path)
        yield first, second
        first.close()
        second.close()
    else:
        url = request.getfixturevalue("pg_database_url")
        a, b = shared(url), shared(url)
        yield a.bindings, b.bindings
        a.close()
        b.close()


def test_bindings_resolve_by_strength_on_either_backend(bindings_pair):
    bindings, other = bindings_pair

    async def go():
        assert await bindings.resolve(1) is None
        await bindings.bind(1, 9, "a", user_id=5)
        await bindings.remember_thread(2, 9, "b")
        await bindings.remember_thread(2, 9, "c")  # never changes a remembered article
        thread_of_bound = await other.resolve(2, parent_id=1)
        await bindings.remember_thread(3, 9, "b")
        remembered = await other.resolve(3, parent_id=4)
        await other.bind(2, 9, "d", user_id=5)  # an explicit binding of the thread wins
        own = await bindings.resolve(2, parent_id=1)
        own_row = await bindings.own(2)
        cleared = await other.clear(1)
        cleared_again = await bindings.clear(1)
        after = await bindings.resolve(5, parent_id=1)
        return thread_of_bound, remembered, own, own_row, cleared, cleared_again, after

    thread_of_bound, remembered, own, own_row, cleared, cleared_again, after = asyncio.run(go())
    assert thread_of_bound == Binding(1, "a", "set")
    assert remembered == Binding(3, "b", "thread")
    assert own == own_row == Binding(2, "d", "set")
    assert cleared == Binding(1, "a", "set") and cleared_again is None and after is None
    other.forget(2, "d")  # a "set" row is never forgotten
    other.forget(3, "b")
    assert bindings.resolve_now(3) is None and bindings.resolve_now(2) == Binding(2, "d", "set")


# ----- the database going away --------------------------------------------------------------------------------


def test_database_down_at_start_names_the_url_without_the_password(pg_server, pg_database_url):
    pg_server.pause()
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            shared(pg_database_url)
    finally:
        pg_server.resume()
    message = str(caught.value)
    assert "\n" not in message and pg_server.password not in message
    assert redacted(pg_database_url) in message  # postgresql://verbatim:***@127.0.0.1:<port>/<database>


def test_every_part_fails_clearly_while_down_and_works_again_once_back(pg_server, pg_database_url, retriever):
    state = shared(pg_database_url, user_cooldown=30, guild_limit=100, guild_window=60)
    answer = retriever.ask("Qui est Emmett Shear ?")
    before = state.answers.add(answer, guild_id=1, channel_id=2, asker_id=3, asker_name="Ada")
    assert state.limits.check(1, 1) is None and state.bindings.resolve_now(2) is None  # connections kept idle
    pg_server.pause()
    try:
        calls = [lambda: state.answers.reserve_id(), lambda: state.answers.get(before),
                 lambda: state.answers.add(answer, guild_id=1, channel_id=2, asker_id=3, asker_name="Ada"),
                 lambda: state.answers.set_feedback(before, 3, 1), lambda: state.limits.check(2, 1),
                 lambda: state.bindings.resolve_now(2)]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as caught:
                call()
            assert time.monotonic() - started < 3, "the caller learns it at once, not after a long wait"
            assert pg_server.password not in str(caught.value)
        with pytest.raises((DatabaseUnavailable, asyncio.TimeoutError)):
            asyncio.run(state.bindings.resolve(2))
    finally:
        pg_server.resume()
    # The very first call after the server is back works: the dead connections kept idle are dropped.
    assert state.answers.get(before).answer == answer
    assert state.limits.check(2, 1) is None
    assert state.limits.check(1, 1).reason == "cooldown", "what was stored before the outage is still there"
    state.close()


def test_a_restart_while_idle_costs_no_failed_call(pg_server, pg_database_url):
    state = shared(pg_database_url, user_cooldown=30)
    assert state.limits.check(1, 1) is None  # leaves a connection idle
    pg_server.pause()
    pg_server.resume()
    assert state.limits.check(2, 1) is None, "the kept connection died with the server: retried on a new one"
    state.close()


# ----- the bot's keeper over the shared store --------------------------------------------------------------


def test_the_keeper_stores_what_it_delivered_once_the_database_is_back(pg_server, pg_database_url, retriever,
                                                                        tmp_path):
    from bot.discord_app.answers_keeper import AnswersKeeper, StoreBusy

    answer = retriever.ask("Who is Satya Nadella?")
    state = shared(pg_database_url)
    keeper = AnswersKeeper(tmp_path / "answers.sqlite3", store=state.answers)
    try:
        number = asyncio.run(keeper.new_id())
        pg_server.pause()
        try:
            keeper.save_answer(number, answer, guild_id=1, channel_id=2, asker_id=3, asker_name="a")
            keeper.save_vote(number, 9, 1)
            assert not keeper.flush(1.5), "not stored while the database is down"
            assert keeper.pending(number).stored.answer == answer, "served from memory meanwhile"
            with pytest.raises(StoreBusy):
                asyncio.run(keeper.new_id())
        finally:
            pg_server.resume()
        assert keeper.flush(15), "stored once the database is back (retried in the background)"
        assert state.answers.get(number).answer == answer and state.answers.feedback(number) == {9: 1}
        assert not (tmp_path / "answers.sqlite3").exists(), "no SQLite file beside the shared store"
    finally:
        keeper.close()
        state.close()


def test_writes_the_database_never_took_are_kept_for_the_next_start(pg_server, pg_database_url, retriever, tmp_path):
    from bot.discord_app.answers_keeper import AnswersKeeper

    answer = retriever.ask("Qui est Emmett Shear ?")
    state = shared(pg_database_url)
    keeper = AnswersKeeper(tmp_path / "answers.sqlite3", store=state.answers)
    number = state.answers.reserve_id()
    pg_server.pause()
    try:
        keeper.save_answer(number, answer, guild_id=None, channel_id=7, asker_id=8, asker_name="b")
        keeper.close(0.5)
        state.close()
        assert keeper.unsaved_path.exists()
    finally:
        pg_server.resume()
    state = shared(pg_database_url)
    again = AnswersKeeper(tmp_path / "answers.sqlite3", store=state.answers)
    try:
        assert again.flush(15)
        assert state.answers.get(number).answer == answer and not again.unsaved_path.exists()
    finally:
        again.close()
        state.close()
