"""End to end: asking about one article or all of them in Discord (issue 8 §3), with the real `verbatim run`
against the loopback stand-in, over a real two-article index (the seed plus a small newer article with a URL).

One bot process for the module; every payload is checked by the stand-in (`no_violations`).
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import SECOND_ARTICLE_ID, SEED_ARTICLE_ID
from tests.standin.bot_process import bot_env, connected_bot, copy_of_data, running_standin
from tests.standin.objects import MANAGE_CHANNELS
from tests.test_discord_e2e import all_text, answer_id, stored

BIKES = "Combien de vélos-cargos la métropole va-t-elle prêter ?"
SHEAR = "Qui est Emmett Shear ?"
SEED_TITLE = "Intelligence artificielle : Microsoft récupère Sam Altman"
SECOND_TITLE = "Lyon prête des vélos-cargos électriques aux familles pendant un mois"
SECOND_URL = "https://news.example/2024/03/05/lyon-velos-cargo"


@pytest.fixture(scope="module")
def data_dir(two_article_settings, tmp_path_factory) -> Path:
    return copy_of_data(two_article_settings.data_dir, tmp_path_factory.mktemp("discord-articles"))


@pytest.fixture(scope="module")
def standin():
    with running_standin("fr") as server:
        yield server


@pytest.fixture(scope="module")
def bot(standin, data_dir, two_article_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("bot-articles-cwd")
    env = bot_env(standin, data_dir, two_article_settings.corpus_dir, VERBATIM_DISCORD_USER_COOLDOWN="0",
                  VERBATIM_DISCORD_GUILD_RATE="100000/60")
    with connected_bot(standin, env, work) as proc:
        yield proc


@pytest.fixture(autouse=True)
def no_violations(standin):
    before = len(standin.violations)
    yield
    assert standin.violations[before:] == []


def docs_of(data_dir: Path, message: dict) -> set[str]:
    row = stored(data_dir, answer_id(message))
    assert row["answer"]["hits"], row
    return {h["passage"]["location"]["doc_id"] for h in row["answer"]["hits"]}


def binding(data_dir: Path, channel_id: str):
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
        return db.execute("SELECT article_id, origin FROM article_bindings WHERE channel_id = ?",
                          (int(channel_id),)).fetchone()


def mention(standin, text: str, channel: str, user=None) -> dict:
    return standin.wait_reply(standin.post_message(f"<@{standin.app_id}> {text}", channel=channel, user=user))


# ----- commands ----------------------------------------------------------------------------------------------------


def test_commands_offer_articles_and_article_needs_manage_channels(standin, bot):
    ask = standin.commands["ask"]
    article_option = next(o for o in ask["options"] if o["name"] == "article")
    assert article_option["autocomplete"] is True and not article_option.get("required")
    group = standin.commands["article"]
    assert group["default_member_permissions"] == str(MANAGE_CHANNELS)
    assert {o["name"] for o in group["options"]} == {"set", "clear"}
    assert group["description_localizations"]["fr"].startswith("Choisir l’article")
    assert standin.commands["articles"]["default_member_permissions"] is None


def test_ask_autocomplete_lists_titles_newest_first(standin, bot):
    choices = standin.wait_answered(standin.autocomplete("ask", {"question": "x", "article": ""}, "article"))["choices"]
    assert [c["value"] for c in choices] == [SECOND_ARTICLE_ID, SEED_ARTICLE_ID]
    assert choices[0]["name"] == f"{SECOND_TITLE} · 5 mars 2024"
    assert choices[1]["name"].startswith(SEED_TITLE) and choices[1]["name"].endswith(" · 20 novembre 2023")
    typed = standin.wait_answered(standin.autocomplete("ask", {"question": "x", "article": "microsoft"}, "article"))
    assert [c["value"] for c in typed["choices"]] == [SEED_ARTICLE_ID]
    english = standin.wait_answered(standin.autocomplete("ask", {"question": "x", "article": ""}, "article",
                                                         locale="en-US"))
    assert english["choices"][0]["name"].endswith(" · 5 March 2024")


def test_ask_with_an_article_quotes_only_it_and_names_and_links_it(standin, bot, data_dir):
    it = standin.slash("ask", {"question": BIKES, "article": SEED_ARTICLE_ID})
    msg = standin.wait_answered(it)
    assert docs_of(data_dir, msg) == {SEED_ARTICLE_ID}
    it = standin.slash("ask", {"question": BIKES, "article": SECOND_ARTICLE_ID})
    msg = standin.wait_answered(it)
    assert docs_of(data_dir, msg) == {SECOND_ARTICLE_ID}
    description = msg["embeds"][0]["description"]
    assert f"[{SECOND_TITLE} (5 mars 2024)]({SECOND_URL}#:~:text=" in description
    # Without the option, the question finds its article and every quote says which it is.
    msg = standin.wait_answered(standin.slash("ask", {"question": SHEAR}))
    assert stored(data_dir, answer_id(msg))["answer"]["hits"][0]["passage"]["location"]["doc_id"] == SEED_ARTICLE_ID
    assert "(20 novembre 2023)" in msg["embeds"][0]["description"]


def test_ask_with_an_unknown_article_is_refused_politely(standin, bot):
    it = standin.slash("ask", {"question": BIKES, "article": "pas-un-article"})
    msg = standin.wait_answered(it)
    assert it.callback["type"] == 4 and msg["flags"] & 64
    assert "Je ne connais pas cet article" in msg["content"]


def test_sources_name_the_article_and_link_the_passage(standin, bot):
    msg = standin.wait_answered(standin.slash("ask", {"question": BIKES, "article": SECOND_ARTICLE_ID}))
    src = standin.wait_answered(standin.click(msg, f"verbatim:sources:{answer_id(msg)}"))
    assert all(e["url"].startswith(SECOND_URL + "#:~:text=") for e in src["embeds"])
    assert all(e["fields"][0] == {"name": "Article", "value": f"{SECOND_TITLE} (5 mars 2024)", "inline": False}
               for e in src["embeds"])


# ----- /article set and clear ---------------------------------------------------------------------------------------


def test_article_set_without_manage_channels_is_refused_politely(standin, bot, data_dir):
    since = len(bot.log())
    it = standin.slash("article", {"article": SECOND_ARTICLE_ID}, subcommand="set", channel="random")
    msg = standin.wait_answered(it)
    assert msg["flags"] & 64 and "seuls les membres qui peuvent gérer ce salon" in msg["content"]
    english = standin.wait_answered(standin.slash("article", {}, subcommand="clear", channel="random", locale="en-US"))
    assert english["flags"] & 64 and "only members who can manage this channel" in english["content"]
    assert binding(data_dir, standin.channel_id("random")) is None
    standin.wait_for(lambda: bot.log()[since:].count("refused (MissingPermissions)") == 2, timeout=10,
                     what="both refusals in the log")
    assert it.followups == [], "one reply, not a second 'could not read that request'"
    assert "malformed" not in bot.log()[since:]


def test_article_set_in_a_direct_message_says_it_works_in_a_server(standin, bot):
    """Discord hides guild-only commands in DMs; a raw client can still send one."""
    def direct_message(payload: dict) -> None:
        payload["user"] = payload.pop("member")["user"]
        for key in ("guild_id", "guild_locale"):
            payload.pop(key, None)
        payload["channel"] = {"id": payload["channel_id"], "type": 1}
        payload["context"] = 1

    for subcommand, locale, words in (("set", "fr", "pas en message privé"), ("clear", "en-US", "not in direct messages")):
        data = standin._command_data("article", {"article": SECOND_ARTICLE_ID} if subcommand == "set" else {},
                                     subcommand=subcommand)
        msg = standin.wait_answered(standin.send_raw_interaction(2, data, locale=locale, mutate=direct_message))
        assert msg["flags"] & 64 and words in msg["content"], msg


def test_bound_channel_questions_go_to_its_article_unless_they_name_another(standin, bot, data_dir):
    choices = standin.wait_answered(standin.autocomplete("article", {"article": "lyon"}, "article", subcommand="set",
                                                         permissions=MANAGE_CHANNELS, channel="random"))["choices"]
    assert [c["value"] for c in choices] == [SECOND_ARTICLE_ID]
    it = standin.slash("article", {"article": SECOND_ARTICLE_ID}, subcommand="set", channel="random",
                       permissions=MANAGE_CHANNELS)
    msg = standin.wait_answered(it)
    assert not msg["flags"] & 64 and SECOND_TITLE in msg["content"]
    assert binding(data_dir, standin.channel_id("random")) == (SECOND_ARTICLE_ID, "set")

    reply = mention(standin, SHEAR, "random")
    assert docs_of(data_dir, reply) == {SECOND_ARTICLE_ID}, "a mention in a bound channel goes to its article"
    asked = standin.wait_answered(standin.slash("ask", {"question": SHEAR}, channel="random"))
    assert docs_of(data_dir, asked) == {SECOND_ARTICLE_ID}
    named = standin.wait_answered(standin.slash("ask", {"question": SHEAR, "article": SEED_ARTICLE_ID},
                                                channel="random"))
    assert docs_of(data_dir, named) == {SEED_ARTICLE_ID}, "naming another article wins over the binding"
    # A mention has no article option: naming the other article in its words wins too, and changes no binding.
    in_words = mention(standin, "Dans l'article sur Sam Altman, qui est Emmett Shear ?", "random")
    assert docs_of(data_dir, in_words) == {SEED_ARTICLE_ID}
    assert binding(data_dir, standin.channel_id("random")) == (SECOND_ARTICLE_ID, "set")
    # A thread of a bound channel inherits its article.
    standin.create_thread("random-thread", parent="random")
    assert docs_of(data_dir, mention(standin, SHEAR, "random-thread")) == {SECOND_ARTICLE_ID}

    cleared = standin.wait_answered(standin.slash("article", {}, subcommand="clear", channel="random",
                                                  permissions=MANAGE_CHANNELS))
    assert "tous les articles" in cleared["content"]
    assert binding(data_dir, standin.channel_id("random")) is None
    reply = mention(standin, SHEAR, "random")
    assert stored(data_dir, answer_id(reply))["answer"]["hits"][0]["passage"]["location"]["doc_id"] == SEED_ARTICLE_ID
    again = standin.wait_answered(standin.slash("article", {}, subcommand="clear", channel="random",
                                                permissions=MANAGE_CHANNELS))
    assert again["flags"] & 64 and "Aucun article" in again["content"]


def test_a_stale_binding_answers_from_all_articles_and_says_so(standin, bot, data_dir):
    tid = standin.create_thread("stale")
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
        db.execute("INSERT INTO article_bindings (channel_id, guild_id, article_id, origin, set_by, set_at)"
                   " VALUES (?, ?, 'removed-article', 'set', 1, 0)", (int(tid), int(standin.guild_id)))
    reply = mention(standin, SHEAR, "stale")
    description = reply["embeds"][0]["description"]
    assert description.startswith("Ce salon était associé à un article qui n'est plus disponible")
    row = stored(data_dir, answer_id(reply))
    assert row["answer"]["hits"][0]["passage"]["location"]["doc_id"] == SEED_ARTICLE_ID
    english = mention(standin, "Who is Emmett Shear?", "stale")
    assert english["embeds"][0]["description"].startswith("This channel was set to an article that is no longer")


# ----- threads ---------------------------------------------------------------------------------------------------------


def test_a_thread_whose_article_left_the_index_says_so_then_keeps_the_new_one(standin, bot, data_dir):
    tid = standin.create_thread("gone")
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:  # remembered, then removed from the index
        db.execute("INSERT INTO article_bindings (channel_id, guild_id, article_id, origin, set_by, set_at)"
                   " VALUES (?, ?, 'removed-article', 'thread', 1, 0)", (int(tid), int(standin.guild_id)))
    reply = mention(standin, SHEAR, "gone")
    assert reply["embeds"][0]["description"].startswith("L'article dont parlait ce fil n'est plus disponible")
    assert binding(data_dir, tid) == (SEED_ARTICLE_ID, "thread")  # this answer's article, for the follow-ups
    follow_up = mention(standin, SHEAR, "gone")
    assert "n'est plus disponible" not in follow_up["embeds"][0]["description"]


def test_thread_follow_ups_keep_the_thread_article(standin, bot, data_dir):
    tid = standin.create_thread("velos")
    first = mention(standin, BIKES, "velos")
    assert stored(data_dir, answer_id(first))["answer"]["hits"][0]["passage"]["location"]["doc_id"] == SECOND_ARTICLE_ID
    assert binding(data_dir, tid) == (SECOND_ARTICLE_ID, "thread")
    follow_up = mention(standin, SHEAR, "velos")  # about the other article: the thread keeps its own
    assert docs_of(data_dir, follow_up) == {SECOND_ARTICLE_ID}
    named = mention(standin, "Dans « Microsoft récupère Sam Altman », qui est Emmett Shear ?", "velos")
    assert docs_of(data_dir, named) == {SEED_ARTICLE_ID}, "a follow-up naming the other article goes there"
    assert binding(data_dir, tid) == (SECOND_ARTICLE_ID, "thread"), "and the thread keeps its article"
    # Outside the thread the same question goes to the article it is about.
    outside = mention(standin, SHEAR, "general")
    assert stored(data_dir, answer_id(outside))["answer"]["hits"][0]["passage"]["location"]["doc_id"] == SEED_ARTICLE_ID


# ----- /articles ---------------------------------------------------------------------------------------------------


def test_articles_lists_titles_dates_links_and_the_build_time(standin, bot, data_dir):
    msg = standin.wait_answered(standin.slash("articles", {}))
    (embed,) = msg["embeds"]
    created = (data_dir / "current").resolve() / "manifest.json"
    import json

    stamp = int(datetime.fromisoformat(json.loads(created.read_text())["created_at"]).timestamp())
    lines = embed["description"].splitlines()
    assert embed["title"] == "Les articles que je connais (2)"
    assert lines[0] == f"Index construit pour la dernière fois le <t:{stamp}:f>."
    assert lines[2] == f"• [{SECOND_TITLE}]({SECOND_URL}) — 5 mars 2024"
    assert lines[3].startswith(f"• {SEED_TITLE}") and lines[3].endswith(" — 20 novembre 2023")
    assert "@" not in all_text(msg)
