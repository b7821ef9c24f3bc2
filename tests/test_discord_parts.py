"""The bot's parts on their own: limits, the answers store, configuration, the worker, command hashing."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.discord_app.answers_store import AnswersStore, answer_from_json, answer_to_json
from bot.discord_app.config import BotConfig, read_dotenv
from bot.discord_app.limits import GuildRateCap, Limits, UserCooldown
from index.errors import ConfigError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ----- limits -------------------------------------------------------------------------------------------


def test_user_cooldown_says_how_long_to_wait():
    clock = Clock()
    cd = UserCooldown(10, clock)
    assert cd.retry_after(1) == 0
    clock.now += 4
    assert cd.retry_after(1) == pytest.approx(6)
    assert cd.retry_after(2) == 0, "other users are not affected"
    clock.now += 6
    assert cd.retry_after(1) == 0


def test_guild_cap_is_a_sliding_window():
    clock = Clock()
    cap = GuildRateCap(3, 60, clock)
    for _ in range(3):
        assert cap.retry_after(7) == 0
        clock.now += 10
    assert cap.retry_after(7) == pytest.approx(30)
    assert cap.retry_after(8) == 0
    clock.now += 30
    assert cap.retry_after(7) == 0


def test_a_question_refused_by_the_guild_cap_does_not_start_a_cooldown():
    clock = Clock()
    limits = Limits(user_cooldown=5, guild_limit=1, guild_window=60, clock=clock)
    assert limits.check(1, 99) is None
    refusal = limits.check(2, 99)
    assert refusal.reason == "guild_rate" and refusal.seconds == 60
    assert limits.check(2, 100) is None, "user 2 was not put on cooldown by the refusal"
    assert limits.check(2, 100).reason == "cooldown"


def test_zero_disables_limits():
    limits = Limits(0, 0, 0)
    assert all(limits.check(1, 1) is None for _ in range(100))


# ----- store --------------------------------------------------------------------------------------------


def test_store_round_trips_real_answers_and_survives_reopening(tmp_path, retriever):
    answer = retriever.ask("Qui est Emmett Shear ?")
    assert answer_from_json(answer_to_json(answer)) == answer
    path = tmp_path / "answers.sqlite3"
    store = AnswersStore(path)
    first = store.add(answer, guild_id=5, channel_id=10, asker_id=42, asker_name="Ada")
    other = store.add(retriever.ask("Who is Satya Nadella?"), guild_id=5, channel_id=11, asker_id=43, asker_name="Bob")
    store.set_feedback(first, 42, 1)
    store.set_feedback(first, 42, -1)
    store.close()

    store = AnswersStore(path)
    got = store.get(first)
    assert got.answer == answer and got.asker_name == "Ada" and got.channel_id == 10
    assert store.latest_in_channel(10).id == first
    assert store.latest_in_channel(999) is None
    assert store.feedback(first) == {42: -1}
    assert [i for i, _ in store.recent(channel_id=10, guild_id=5)] == [first, other], "this channel first"
    assert [i for i, _ in store.recent(channel_id=10, guild_id=5, query="Satya")] == [other]
    assert [i for i, _ in store.recent(channel_id=10, guild_id=None)] == [first], "no guild: this channel only"
    assert store.count() == 2


# ----- configuration ----------------------------------------------------------------------------------


def test_missing_token_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        BotConfig.from_env({}, dotenv=tmp_path / ".env")


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nexport DISCORD_TOKEN='from-file'\nVERBATIM_DISCORD_USER_COOLDOWN=3\n\nBROKEN\n")
    assert read_dotenv(dotenv)["DISCORD_TOKEN"] == "from-file"
    assert BotConfig.from_env({}, dotenv=dotenv).token == "from-file"
    config = BotConfig.from_env({"DISCORD_TOKEN": "from-env"}, dotenv=dotenv)
    assert config.token == "from-env" and config.user_cooldown == 3


def test_config_values_and_allow_lists():
    config = BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_GUILD_RATE": "5/30",
                                 "VERBATIM_DISCORD_ALLOWED_GUILDS": "1, 2", "VERBATIM_DISCORD_ALLOWED_CHANNELS": "",
                                 "VERBATIM_DISCORD_SYNC_GUILD": "77"}, dotenv=None)
    assert (config.guild_limit, config.guild_window, config.sync_guild) == (5, 30.0, 77)
    assert config.allows(1, 123) and not config.allows(3, 123) and not config.allows(None, 123)
    with pytest.raises(ConfigError, match="GUILD_RATE"):
        BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_GUILD_RATE": "lots"}, dotenv=None)
    with pytest.raises(ConfigError, match="ALLOWED_GUILDS"):
        BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_ALLOWED_GUILDS": "abc"}, dotenv=None)


def test_api_override_refuses_anything_but_loopback():
    from discord.http import Route

    from bot.discord_app.gateway import use_api_base

    before = Route.BASE
    for url in ("https://discord.com/api/v10", "http://10.0.0.1:80/api/v10", "http://example.org/api"):
        with pytest.raises(ConfigError, match="loopback"):
            use_api_base(url)
    assert Route.BASE == before


def test_privileged_intent_only_with_answer_channels():
    from bot.discord_app.client import intents_for

    plain = BotConfig.from_env({"DISCORD_TOKEN": "t"}, dotenv=None)
    assert not intents_for(plain).message_content and intents_for(plain).guild_messages
    channels = BotConfig.from_env({"DISCORD_TOKEN": "t", "VERBATIM_DISCORD_ANSWER_CHANNELS": "12"}, dotenv=None)
    assert intents_for(channels).message_content


# ----- command hash -------------------------------------------------------------------------------------


def _hash(tmp_path: Path, max_chars: int, env: dict | None = None) -> str:
    from bot.discord_app.client import VerbatimBot
    from bot.discord_app.cog import AskCog
    from bot.discord_app.translations import FrenchDescriptions

    async def go() -> str:
        config = BotConfig.from_env({"DISCORD_TOKEN": "t", **(env or {})}, dotenv=None)
        bot = VerbatimBot(config, data_dir=tmp_path, max_question_chars=max_chars, open_retriever=lambda: None)
        await bot.tree.set_translator(FrenchDescriptions())
        await bot.add_cog(AskCog(bot))
        digest = await bot.commands_hash()
        bot.answers.close(0.1)
        return digest

    return asyncio.run(go())


def test_command_hash_changes_only_with_the_commands_or_target(tmp_path):
    base = _hash(tmp_path / "a", 1000)
    assert _hash(tmp_path / "b", 1000) == base
    assert _hash(tmp_path / "c", 500) != base, "the question cap is part of the command"
    assert _hash(tmp_path / "d", 1000, {"VERBATIM_DISCORD_SYNC_GUILD": "5"}) != base


# ----- worker -------------------------------------------------------------------------------------------


def test_worker_answers_concurrent_questions_like_one_at_a_time(retriever):
    from bot.discord_app.worker import RetrieverWorker

    questions = ["Qui est Emmett Shear ?", "Who is Satya Nadella?", "Pourquoi Greg Brockman a démissionné ?",
                 "What are TPUs?"] * 3
    expected = [tuple(h.passage.id for h in retriever.ask(q).hits) for q in questions]

    async def go():
        worker = RetrieverWorker(lambda: retriever)
        await worker.start()
        got = await asyncio.gather(*(worker.ask(q) for q in questions), worker.ask("   "), return_exceptions=True)
        worker.close()
        return worker, got

    worker, got = asyncio.run(go())
    assert [tuple(h.passage.id for h in a.hits) for a in got[:-1]] == expected
    assert isinstance(got[-1], Exception), "a bad question fails alone"
    assert worker.answered == len(questions)
    assert worker.batches == 1, "questions queued together are answered in one batch"


def test_an_answer_is_only_shown_where_it_was_asked(tmp_path, retriever):
    from bot.discord_app.cog import visible_in

    store = AnswersStore(tmp_path / "a.sqlite3")
    answer = retriever.ask("Qui est Emmett Shear ?")
    in_guild = store.get(store.add(answer, guild_id=5, channel_id=10, asker_id=1, asker_name="a"))
    in_dm = store.get(store.add(answer, guild_id=None, channel_id=20, asker_id=1, asker_name="a"))
    assert visible_in(in_guild, 5, 11) and not visible_in(in_guild, 6, 10) and not visible_in(in_guild, None, 10)
    assert visible_in(in_dm, None, 20) and not visible_in(in_dm, None, 21)


class AskManyOver:
    """The real retriever, plus an `ask_many` that records the batch sizes it is given."""

    def __init__(self, retriever):
        self.retriever, self.batches = retriever, []

    @property
    def build_id(self):
        return self.retriever.build_id

    def ask(self, question, scope="all", article=None):
        return self.retriever.ask(question, scope=scope, article=article)

    def ask_many(self, questions, scope="all", article=None):
        self.batches.append((len(questions), scope) if article is None else (len(questions), scope, article))
        return [self.retriever.ask(q, scope=scope, article=article) for q in questions]


def test_worker_hands_queued_questions_over_in_batches_by_scope(retriever):
    from bot.discord_app.worker import RetrieverWorker

    wrapped = AskManyOver(retriever)
    questions = [("Qui est Emmett Shear ?", "all"), ("Who is Satya Nadella?", "comments")] * 5

    async def go():
        worker = RetrieverWorker(lambda: wrapped)
        await worker.start()
        got = await asyncio.gather(*(worker.ask(q, s) for q, s in questions), worker.ask("\x00", "all"),
                                   return_exceptions=True)
        worker.close()
        return got

    got = asyncio.run(go())
    assert isinstance(got[-1], Exception)
    assert [a.question for a in got[:-1]] == [q for q, _ in questions]
    assert [a.scope for a in got[:-1]] == [s for _, s in questions]
    # One hand-over; per scope one ask_many; the "all" batch holds the bad question, fails, and is redone singly.
    assert sorted(wrapped.batches) == [(5, "comments"), (6, "all")]


def test_worker_batches_by_article_too(two_article_retriever):
    from bot.discord_app.worker import RetrieverWorker
    from index.errors import UnknownArticle

    from .conftest import SECOND_ARTICLE_ID, SEED_ARTICLE_ID

    wrapped = AskManyOver(two_article_retriever)
    questions = [("Qui est Emmett Shear ?", SECOND_ARTICLE_ID), ("Qui est Emmett Shear ?", None),
                 ("Combien de vélos ?", SEED_ARTICLE_ID)] * 2

    async def go():
        worker = RetrieverWorker(lambda: wrapped)
        await worker.start()
        got = await asyncio.gather(*(worker.ask(q, "all", a) for q, a in questions), worker.ask("Qui ?", "all", "nope"),
                                   return_exceptions=True)
        worker.close()
        return got

    got = asyncio.run(go())
    assert isinstance(got[-1], UnknownArticle)
    for (_, article), answer in zip(questions, got):
        docs = {h.passage.location.doc_id for h in answer.hits}
        assert docs == {article} if article else answer.article_id is not None
    assert (2, "all", SECOND_ARTICLE_ID) in wrapped.batches and (2, "all", SEED_ARTICLE_ID) in wrapped.batches
