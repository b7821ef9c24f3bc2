"""End to end: the real `verbatim run` process against the loopback Discord stand-in.

One bot process serves the whole module (tests run in file order; the restart comes last). The
stand-in checks every payload against Discord's limits and the no-ping rule; `no_violations`
fails any test during which the bot sent something Discord would refuse.
Figures (concurrency, stalls) are printed, not asserted: run with `-s` to see them.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS_DIR
from tests.standin import DiscordStandIn
from tests.standin.bot_process import BotProcess, PROJECT_ROOT, bot_env, connected_bot, copy_of_data, running_standin, wait_connected

USER_COOLDOWN = 20  # seconds; every scenario but the cooldown one uses fresh users
MAX_QUESTION = 1000  # index/defaults.toml max_question_chars


# ----- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(built_settings, tmp_path_factory) -> Path:
    """A private copy of the session's built index: this module rebuilds it."""
    return copy_of_data(built_settings.data_dir, tmp_path_factory.mktemp("discord"))


@pytest.fixture(scope="module")
def standin():
    with running_standin("fr") as server:
        yield server


@pytest.fixture(scope="module")
def bot(standin, data_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("bot-cwd")
    env = bot_env(standin, data_dir, CORPUS_DIR,
                  VERBATIM_DISCORD_USER_COOLDOWN=str(USER_COOLDOWN),
                  VERBATIM_DISCORD_GUILD_RATE="100000/60",
                  VERBATIM_DISCORD_REFRESH_SECONDS="1")
    with connected_bot(standin, env, work) as proc:
        yield proc


@pytest.fixture(autouse=True)
def no_violations(request):
    """Every test fails if, meanwhile, the bot sent a payload Discord would refuse or that could ping."""
    if "standin" not in request.fixturenames:
        yield
        return
    server: DiscordStandIn = request.getfixturevalue("standin")
    before = len(server.violations)
    yield
    assert server.violations[before:] == []


# ----- helpers ---------------------------------------------------------------------------------------------


def ask(standin, question: str, *, locale: str = "fr", user: dict | None = None, **options) -> tuple:
    it = standin.slash("ask", {"question": question, **options}, user=user, locale=locale)
    return it, standin.wait_answered(it, timeout=60)


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def answer_id(message: dict) -> int:
    ids = [int(m.group(1)) for b in buttons(message) if (m := re.fullmatch(r"verbatim:sources:(\d+)", b))]
    assert len(ids) == 1, f"no Sources button in {message}"
    return ids[0]


def all_text(message: dict) -> str:
    parts = [message.get("content") or ""]
    for e in message.get("embeds", []):
        parts += [e.get("title", ""), e.get("description", ""), (e.get("footer") or {}).get("text", "")]
        parts += [f["name"] + " " + f["value"] for f in e.get("fields", [])]
    return "\n".join(parts)


def stored(data_dir: Path, answer: int, wait: float = 10.0) -> dict:
    """The stored row of an answer. An answer is delivered first and stored by the bot's writer thread
    (bot/discord_app/answers_keeper.py), so the row may land a moment after the reply: poll for it."""
    deadline = time.monotonic() + wait
    while True:
        with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
            row = db.execute("SELECT question, answered, build_id, answer_json, channel_id, asker_id FROM answers"
                             " WHERE id = ?", (answer,)).fetchone()
        if row or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert row, f"answer {answer} is not in the store {wait:.0f} s after it was delivered"
    q, answered, build, blob, channel, asker = row
    return {"question": q, "answered": bool(answered), "build_id": build, "answer": json.loads(blob),
            "channel_id": channel, "asker_id": asker}


def votes(data_dir: Path, answer: int) -> dict[int, int]:
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
        return dict(db.execute("SELECT user_id, vote FROM feedback WHERE answer_id = ?", (answer,)).fetchall())


def eventually(read, expected, wait: float = 10.0):
    """What `read()` gives once it equals `expected`, or its last value after `wait` s: the bot's writer
    thread stores answers and votes a moment after the reply that reports them."""
    deadline = time.monotonic() + wait
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def as_written(markdown: str) -> str:
    """What a reader sees of quoted text: bold markers gone, escaped characters literal."""
    return re.sub(r"\\([\\*_~|`\[])", r"\1", markdown.replace("**", ""))


def is_quoted_answer(message: dict) -> bool:
    (embed,) = message["embeds"]
    return "\n> " in embed["description"] and "\n— *" in embed["description"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ----- connecting ------------------------------------------------------------------------------------------


def test_connects_without_privileged_intent_and_syncs_to_the_test_guild(standin, bot):
    assert not standin.message_content_intent, "mentions must work without the message-content intent"
    assert len(standin.command_syncs) == 1
    where, commands = standin.command_syncs[0]
    assert where == f"guild:{standin.guild_id}"
    ask_cmd = next(c for c in commands if c["name"] == "ask")
    question = next(o for o in ask_cmd["options"] if o["name"] == "question")
    assert question["max_length"] == MAX_QUESTION
    scope = next(o for o in ask_cmd["options"] if o["name"] == "scope")
    assert {c["value"] for c in scope["choices"]} == {"all", "article", "comments"}
    source = next(c for c in commands if c["name"] == "source")
    assert source["options"][0]["autocomplete"] is True
    # A French client sees French descriptions; names stay the same everywhere.
    assert ask_cmd["description_localizations"]["fr"].startswith("Posez une question")
    assert {c["name_localizations"]["fr"] for c in scope["choices"]} == {"tout", "article", "commentaires"}
    assert "name_localizations" not in ask_cmd or not ask_cmd["name_localizations"]


# ----- asking ----------------------------------------------------------------------------------------------


def test_ask_in_french_defers_then_quotes_with_citations_and_buttons(standin, bot, data_dir):
    it, msg = ask(standin, "Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?", locale="fr")
    assert it.callback["type"] == 5, "the bot must defer first (Discord's 3-second window)"
    assert not it.ephemeral
    assert is_quoted_answer(msg)
    (embed,) = msg["embeds"]
    assert embed["description"].startswith("D’après l’article :")
    assert "Réponse n°" in embed["footer"]["text"]
    assert re.search(r"— \*(Article · .+ ¶\d+|Commentaire \d+)", embed["description"])
    assert "**" in embed["description"], "the best sentence is in bold"
    aid = answer_id(msg)
    assert buttons(msg) == [f"verbatim:sources:{aid}", f"verbatim:vote:{aid}:up", f"verbatim:vote:{aid}:down"]
    row = stored(data_dir, aid)
    assert row["answered"] and row["question"].startswith("Qui a annoncé")
    # Every quote is verbatim: strip the markup and it is a substring of a stored passage.
    passages = [h["passage"]["text"] for h in row["answer"]["quoted"]]
    for block in embed["description"].split("\n\n"):
        quote = as_written(" ".join(ln[2:] for ln in block.splitlines() if ln.startswith("> ")))
        for piece in re.split(r"…", quote):
            piece = piece.strip()
            assert not piece or any(piece in p for p in passages), piece


def test_ask_in_english_answers_in_english(standin, bot, data_dir):
    it, msg = ask(standin, "Who became the interim CEO of OpenAI after Sam Altman was fired?", locale="en-US")
    assert is_quoted_answer(msg)
    (embed,) = msg["embeds"]
    assert embed["description"].startswith("From the article:")
    assert embed["footer"]["text"].startswith("Answer #")
    assert "Commentaire" not in embed["description"], "citations follow the question's language"
    assert stored(data_dir, answer_id(msg))["answer"]["language"] == "en"


def test_ask_scope_comments_quotes_only_comments(standin, bot, data_dir):
    _, msg = ask(standin, "What do readers think of Sam Altman?", locale="en-US", user=standin.new_user(),
                 scope="comments")
    row = stored(data_dir, answer_id(msg))
    assert row["answer"]["scope"] == "comments" and row["answer"]["hits"]
    assert all(h["passage"]["location"]["kind"] == "comment" for h in row["answer"]["hits"])
    if row["answered"]:
        citations = re.findall(r"— \*(.+?)\*", msg["embeds"][0]["description"])
        assert citations and all(c.startswith("Comment ") for c in citations)


def test_question_not_in_the_article_gets_the_honest_reply_and_the_closest_passage(standin, bot, data_dir):
    it, msg = ask(standin, "What is the best recipe for a chocolate cake with strawberries?", locale="en-US")
    aid = answer_id(msg)
    assert stored(data_dir, aid)["answered"] is False
    (embed,) = msg["embeds"]
    assert "not in the article" in embed["description"] and "> " not in embed["description"]
    sources = standin.wait_answered(standin.click(msg, f"verbatim:sources:{aid}"))
    assert sources["flags"] & 64
    assert len(sources["embeds"]) == 1 and "Closest passage" in all_text(sources)


def test_mention_is_answered_without_message_content_intent(standin, bot, data_dir):
    user = standin.new_user("mentioner")
    mid = standin.post_message(f"<@{standin.app_id}> Qui dirige le nouveau laboratoire de Microsoft ?", user=user)
    reply = standin.wait_reply(mid)
    assert is_quoted_answer(reply)
    sent = standin.replies_to(mid)[0].body
    assert sent["allowed_mentions"] == {"parse": [], "replied_user": False}
    row = stored(data_dir, answer_id(reply))
    assert row["question"] == "Qui dirige le nouveau laboratoire de Microsoft ?"
    assert row["asker_id"] == int(user["id"])


def test_a_mention_reads_other_mentions_and_emoji_as_the_asker_saw_them(standin, bot, data_dir):
    other = standin.new_user("Bérénice")
    mid = standin.post_message(f"<@{standin.app_id}> <@{other['id']}> demande : qui dirige le nouveau laboratoire "
                               f"de Microsoft <:pouce:123456789012345678> <@&223456789012345678> ?", mentions=[other])
    row = stored(data_dir, answer_id(standin.wait_reply(mid)))
    assert row["question"] == "@Bérénice demande : qui dirige le nouveau laboratoire de Microsoft :pouce: ?", row


def test_a_slash_question_reads_channel_mentions_by_name_and_leaves_unknown_ones_out(standin, bot, data_dir):
    general = standin.channel_id("general")
    msg = standin.wait_answered(standin.slash("ask", {"question": f"Vu dans <#{general}> : qui dirige le nouveau "
                                                                  f"laboratoire de Microsoft <@&223456789012345678> ?"}))
    row = stored(data_dir, answer_id(msg))
    assert row["question"] == "Vu dans #general : qui dirige le nouveau laboratoire de Microsoft ?", row


def test_a_question_deleted_while_the_bot_thinks_still_gets_its_answer_in_the_channel(standin, bot, data_dir):
    standin.delay("POST", r"^/channels/\d+/typing$", 1.0)  # the bot is "typing" when the asker deletes the question
    mid = standin.post_message(f"<@{standin.app_id}> Qui dirige le nouveau laboratoire de Microsoft ?")
    standin.delete_user_message(mid)
    (sent,) = standin.wait_for(lambda: standin.replies_to(mid), timeout=60, what="the answer")
    assert "message_reference" not in sent.message and sent.body["replied_to_deleted"]["fail_if_not_exists"] is False
    assert is_quoted_answer(sent.message)


def test_a_reply_that_pings_the_bot_is_a_question_too(standin, bot, data_dir):
    """Replying to the bot with the ping on puts it in the message's mentions, not in its text."""
    mid = standin.post_message("Et qui dirige le nouveau laboratoire de Microsoft ?")  # mentions the bot, no <@id>
    row = stored(data_dir, answer_id(standin.wait_reply(mid)))
    assert row["question"] == "Et qui dirige le nouveau laboratoire de Microsoft ?"


def test_a_direct_message_is_a_question_without_a_mention(standin, bot, data_dir):
    mid = standin.post_dm("Qui dirige le nouveau laboratoire de Microsoft ?")
    reply = standin.wait_reply(mid)
    assert is_quoted_answer(reply) and reply["channel_id"] in standin.dm_channels.values()
    assert stored(data_dir, answer_id(reply))["question"] == "Qui dirige le nouveau laboratoire de Microsoft ?"


def test_a_failing_typing_indicator_does_not_cost_the_answer(standin, bot):
    standin.fail("POST", r"^/channels/\d+/typing$", 403)
    mid = standin.post_message(f"<@{standin.app_id}> Qui dirige le nouveau laboratoire de Microsoft ?")
    assert is_quoted_answer(standin.wait_reply(mid))


def test_message_not_for_the_bot_is_ignored(standin, bot):
    quiet = standin.post_message("Qui dirige OpenAI ?", mention_bot=False)
    asked = standin.post_message(f"<@{standin.app_id}> Qui dirige OpenAI ?")
    standin.wait_reply(asked)  # the bot handles messages in order: the first one is done by now
    time.sleep(0.5)
    assert standin.replies_to(quiet) == []


# ----- /source ---------------------------------------------------------------------------------------------


def test_source_without_id_shows_the_latest_answer_in_the_channel(standin, bot, data_dir):
    _, msg = ask(standin, "Que reproche le conseil d'administration à Sam Altman ?", user=standin.new_user())
    aid = answer_id(msg)
    it = standin.slash("source", {}, channel="general")
    src = standin.wait_answered(it)
    assert it.callback["type"] == 4 and src["flags"] & 64, "sources are ephemeral by default"
    assert f"n° {aid}" in src["content"]
    row = stored(data_dir, aid)
    assert len(src["embeds"]) == len(row["answer"]["quoted"])
    for embed, hit in zip(src["embeds"], row["answer"]["quoted"]):
        assert as_written(embed["description"]) == hit["passage"]["text"], "the passage, in full"
        assert "**" in embed["description"]
        assert embed["fields"][0]["value"] == f"{hit['score']:.3f}"
    assert row["build_id"] in src["embeds"][-1]["footer"]["text"]
    assert buttons(src) == [f"verbatim:share:{aid}"]


def test_source_with_an_id_and_autocomplete(standin, bot):
    _, first = ask(standin, "Qui est Emmett Shear ?", user=standin.new_user())
    _, second = ask(standin, "Combien de salariés d'OpenAI ont signé la lettre ?", user=standin.new_user())
    first_id, second_id = answer_id(first), answer_id(second)
    choices = standin.wait_answered(standin.autocomplete("source", {"answer": "Emmett"}, "answer"))["choices"]
    assert {"name": f"#{first_id} · Qui est Emmett Shear ?", "value": str(first_id)} in choices
    assert all(c["value"] != str(second_id) for c in choices)
    src = standin.wait_answered(standin.slash("source", {"answer": str(first_id)}))
    assert f"n° {first_id} : Qui est Emmett Shear ?" in src["content"]
    unknown = standin.wait_answered(standin.slash("source", {"answer": "999999"}))
    assert "999999" in unknown["content"] and unknown["flags"] & 64


def test_sources_button_then_share_in_channel(standin, bot):
    _, msg = ask(standin, "Que dit Satya Nadella dans son tweet ?", user=standin.new_user())
    aid = answer_id(msg)
    src = standin.wait_answered(standin.click(msg, f"verbatim:sources:{aid}"))
    assert src["flags"] & 64 and src["embeds"]
    sharer = standin.new_user("sharer")
    shared_it = standin.click(src, f"verbatim:share:{aid}", user=sharer)
    shared = standin.wait_answered(shared_it)
    assert not shared["flags"] & 64, "shared sources are public"
    assert "sharer" in shared["content"] and shared["embeds"] == src["embeds"]


def test_sources_of_an_answer_whose_article_left_the_index_name_that_article(standin, bot, data_dir):
    """With one article in the index, Sources do not name it; an older answer that quotes an article since
    removed names its own, or a reader would take those quotes for the remaining article's."""
    _, msg = ask(standin, "Qui est Emmett Shear ?", user=standin.new_user())
    aid = answer_id(msg)
    src = standin.wait_answered(standin.click(msg, f"verbatim:sources:{aid}"))
    assert not any(f["name"] == "Article" for e in src["embeds"] for f in e.get("fields", []))
    row = stored(data_dir, aid)
    gone = row["answer"]
    for hit in gone["hits"] + gone.get("quoted", []):
        hit["passage"]["location"].update(doc_id="removed-article", doc_title="Un article retiré", doc_date="")
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:  # as if answered before a removal
        db.execute("UPDATE answers SET answer_json = ? WHERE id = ?", (json.dumps(gone), aid))
    src = standin.wait_answered(standin.click(msg, f"verbatim:sources:{aid}"))
    assert src["embeds"] and all(e["fields"][0] == {"name": "Article", "value": "Un article retiré", "inline": False}
                                 for e in src["embeds"])


def test_feedback_buttons_store_one_vote_per_user(standin, bot, data_dir):
    _, msg = ask(standin, "Pourquoi Microsoft serait gagnant ?", user=standin.new_user())
    aid = answer_id(msg)
    voter = standin.new_user("voter")
    thanks = standin.wait_answered(standin.click(msg, f"verbatim:vote:{aid}:up", user=voter))
    assert thanks["flags"] & 64 and "Merci" in thanks["content"]
    expected = {int(voter["id"]): 1}
    assert eventually(lambda: votes(data_dir, aid), expected) == expected
    standin.wait_answered(standin.click(msg, f"verbatim:vote:{aid}:down", user=voter))
    other = standin.new_user("other")
    standin.wait_answered(standin.click(msg, f"verbatim:vote:{aid}:down", user=other))
    expected = {int(voter["id"]): -1, int(other["id"]): -1}
    assert eventually(lambda: votes(data_dir, aid), expected) == expected


# ----- abuse ------------------------------------------------------------------------------------------------


def test_cooldown_hit_gets_a_polite_retry_time(standin, bot):
    user = standin.new_user("eager")
    _, first = ask(standin, "Qui est Greg Brockman ?", user=user)
    assert is_quoted_answer(first)
    it, second = ask(standin, "Et Mira Murati ?", user=user)
    assert it.callback["type"] == 4 and second["flags"] & 64, "refused at once, privately"
    seconds = int(re.search(r"Réessayez dans (\d+) s", second["content"]).group(1))
    assert 1 <= seconds <= USER_COOLDOWN
    mid = standin.post_message(f"<@{standin.app_id}> Et Mira Murati ?", user=user)
    assert "Réessayez dans" in standin.wait_reply(mid)["content"]


def test_over_long_question_gets_a_clear_reply(standin, bot):
    long_question = "Pourquoi " + "vraiment " * 120 + "?"
    assert len(long_question) > MAX_QUESTION
    # Discord's client enforces max_length; a raw API call could still bypass it.
    it, msg = ask(standin, long_question, user=standin.new_user())
    assert it.callback["type"] == 4 and msg["flags"] & 64
    assert f"{len(long_question.strip())} caractères" in msg["content"] and str(MAX_QUESTION) in msg["content"]
    mid = standin.post_message(f"<@{standin.app_id}> {long_question}")
    assert "too long" in standin.wait_reply(mid)["content"] or "trop longue" in standin.wait_reply(mid)["content"]


def test_a_question_with_no_language_of_its_own_is_answered_in_the_askers(standin, bot, data_dir):
    """ "Emmett Shear?" has no French or English word: the locale decides, as for every other reply."""
    for locale, lead in (("en-US", "From the article:"), ("de", "From the article:"), ("fr", "D’après l’article")):
        _, msg = ask(standin, "Emmett Shear?", locale=locale, user=standin.new_user())
        assert is_quoted_answer(msg) and msg["embeds"][0]["description"].startswith(lead), (locale, msg)
    _, msg = ask(standin, "Who is Emmett Shear?", locale="fr", user=standin.new_user())
    assert msg["embeds"][0]["description"].startswith("From the article:"), "a question's own language still wins"


def test_a_question_with_no_words_is_refused_privately_at_once_in_the_askers_language(standin, bot):
    for question, locale, words in (("?", "fr", "Posez-moi une question"), ("🤔🤔🤔", "en-US", "Ask me"),
                                    ("\u200b\u200b", "fr", "Posez-moi une question")):
        it, msg = ask(standin, question, locale=locale, user=standin.new_user())
        assert it.callback["type"] == 4 and msg["flags"] & 64, "refused at once, privately: no thinking…"
        assert words in msg["content"] and "the question has no words" not in msg["content"], msg


def test_source_with_something_that_is_not_an_answer_number(standin, bot):
    """Refused as not an answer number, and shown inert (the stand-in fails the test on an unescaped @everyone):
    "1 2" or "12abc3" are not answer #12, "-1" is not #1."""
    for typed in ("@everyone", "1 2", "12abc3", "-1", "**gras**"):
        reply = standin.wait_answered(standin.slash("source", {"answer": typed}))
        assert reply["flags"] & 64 and "Je n'ai pas de réponse" in reply["content"], (typed, reply)
        assert "**gras**" not in reply["content"]


def test_the_thanks_for_a_vote_are_in_the_voters_language(standin, bot):
    _, msg = ask(standin, "Qui est Emmett Shear ?", user=standin.new_user())
    aid = answer_id(msg)
    time.sleep(1)  # stored by now: the thanks come from the stored answer's path
    thanks = standin.wait_answered(standin.click(msg, f"verbatim:vote:{aid}:up", user=standin.new_user("en"),
                                                 locale="en-US"))
    assert thanks["flags"] & 64 and "Merci" not in thanks["content"], thanks


def test_everyone_and_role_ping_injection_pings_nobody(standin, bot):
    role = f"<@&{standin.role_id}>"
    question = f"@everyone @here {role} Qui est Sam Altman ?"
    it, msg = ask(standin, question, user=standin.new_user())
    text = all_text(msg)
    assert "@everyone" not in text and "@here" not in text and role not in text
    assert "everyone" in text, "the question is still shown, made inert"
    edit = it.edits[-1]
    assert edit["allowed_mentions"]["parse"] == []
    mid = standin.post_message(f"<@{standin.app_id}> {question}", mention_roles=[standin.role_id])
    reply = standin.wait_reply(mid)
    assert "@everyone" not in all_text(reply) and role not in all_text(reply)
    assert standin.replies_to(mid)[0].body["allowed_mentions"] == {"parse": [], "replied_user": False}
    src = standin.wait_answered(standin.slash("source", {"answer": str(answer_id(msg))}))
    assert "@everyone" not in all_text(src) and role not in all_text(src)


def test_markdown_injection_is_shown_literally(standin, bot):
    question = "**Gras** __souligné__ [lien](https://evil.example) `code` ||spoiler|| Qui est Satya Nadella ?"
    _, msg = ask(standin, question, user=standin.new_user())
    title = msg["embeds"][0]["title"]
    assert title.startswith(r"\*\*Gras\*\* \_\_souligné\_\_ \[lien\](https://evil.example)")
    assert r"\`code\` \|\|spoiler\|\|" in title
    # A heading or quote at the start of a line is neutralised too.
    _, msg2 = ask(standin, "# Titre\n> citation Qui est Greg Brockman ?", user=standin.new_user())
    assert msg2["embeds"][0]["title"].startswith(r"\# Titre \> citation")


# ----- load -------------------------------------------------------------------------------------------------


QUESTIONS = [
    "Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?",
    "Who is Emmett Shear?",
    "Pourquoi Greg Brockman a-t-il démissionné ?",
    "What did Satya Nadella announce?",
    "Que reproche le conseil d'administration à Sam Altman ?",
    "How many OpenAI employees threatened to leave?",
    "Qu'est-ce que les TPU de Google ?",
    "Is Microsoft the winner in this story?",
]


def test_200_concurrent_questions_are_all_answered_and_loop_stalls_measured(standin, bot, data_dir):
    n = 200
    before = sqlite3.connect(data_dir / "discord" / "answers.sqlite3").execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    beats_before = len(standin.heartbeats)
    t0_wall = time.time()
    requests = [("ask", {"question": QUESTIONS[i % len(QUESTIONS)]}, standin.new_user(f"u{i}")) for i in range(n)]
    its = standin.slash_many(requests)
    standin.wait_for(lambda: all(it.answered for it in its), timeout=240, what="200 answers")
    t1_wall = time.time()

    finals = [it.final() for it in its]
    assert all(it.callback["type"] == 5 for it in its)
    assert all(is_quoted_answer(m) for m in finals), "every question got a quoted answer (none failed)"
    ids = {answer_id(m) for m in finals}
    assert len(ids) == n, "none lost, none answered twice"
    count = lambda: sqlite3.connect(data_dir / "discord" / "answers.sqlite3").execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    assert eventually(count, before + n) - before == n

    answer_s = [it.answered_at - it.sent_at for it in its]
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
        took = [row[0] for row in db.execute("SELECT took_ms FROM answers ORDER BY id DESC LIMIT ?", (n,))]
    defer_s = [it.callback_at - it.sent_at for it in its]
    status = bot.wait_status(lambda s: s["at"] > t1_wall + 0.5)
    window = [(at, ms, cpu) for at, ms, cpu in status["stalls"] if t0_wall - 0.2 <= at <= t1_wall + 0.2]
    worst = max(window, key=lambda w: w[1], default=(t0_wall, 0.0, 0.0))
    gaps = [b - a for a, b in zip(standin.heartbeats[beats_before:], standin.heartbeats[beats_before + 1:])]
    print(f"\n[discord concurrency] {n} questions, {len(ids)} answered in {t1_wall - t0_wall:.1f} s; "
          f"answer time p50 {statistics.median(answer_s):.2f} s, p95 {percentile(answer_s, 95):.2f} s, "
          f"max {max(answer_s):.2f} s (retriever time per question p50 {statistics.median(took):.0f} ms, "
          f"total {sum(took) / 1000:.1f} s); defer (ack) p95 {percentile(defer_s, 95) * 1000:.0f} ms, "
          f"max {max(defer_s) * 1000:.0f} ms, over 3 s: {sum(d > 3 for d in defer_s)}; "
          f"largest event-loop stall {worst[1]:.0f} ms at +{worst[0] - t0_wall:.1f} s, of which the loop "
          f"thread ran {worst[2]:.0f} ms (bot monitor; {len(window)} stalls ≥20 ms); "
          f"heartbeat gap max {max(gaps, default=0) * 1000:.0f} ms for a {1000} ms interval; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


# ----- live rebuild -----------------------------------------------------------------------------------------


def _index_build(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "index", "build", *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_rebuild_while_questions_arrive_switches_build_without_a_failed_answer(standin, bot, data_dir):
    old_build = bot.status()["build_id"]
    build = _index_build(bot.env)
    asked = []
    try:
        # Questions keep coming, two at a time, while the build runs and until the bot has switched.
        while build.poll() is None or bot.status().get("build_id") == old_build:
            assert len(asked) < 400, "the bot never switched to the new build"
            pair = [standin.slash("ask", {"question": QUESTIONS[(len(asked) + k) % len(QUESTIONS)]},
                                  user=standin.new_user()) for k in range(2)]
            asked += pair
            standin.wait_for(lambda: all(it.answered for it in pair), timeout=60, what="answers during the rebuild")
            time.sleep(0.5)  # leave the build some CPU: 2 cores are shared by the bot, the build and the tests
        for _ in range(2):  # and a few after the switch
            asked.append(standin.slash("ask", {"question": QUESTIONS[0]}, user=standin.new_user()))
        output = build.communicate(timeout=10)[0]
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, output
    standin.wait_for(lambda: all(it.answered for it in asked), timeout=120, what="answers during the rebuild")
    finals = [it.final() for it in asked]
    assert all(is_quoted_answer(m) for m in finals), "no failed answer during the rebuild"
    builds = [stored(data_dir, answer_id(m))["build_id"] for m in finals]
    new_build = bot.status()["build_id"]
    assert new_build != old_build and builds[0] == old_build and builds[-1] == new_build
    print(f"\n[discord rebuild] {len(asked)} questions during the rebuild, all answered; "
          f"{builds.count(old_build)} by the old build, {builds.count(new_build)} by the new one")


def test_interrupted_or_failed_build_leaves_the_bot_serving_the_current_one(standin, bot, tmp_path):
    serving = bot.status()["build_id"]
    # Copies of the article under their own titles: texts the embedding cache has never seen (the title
    # is part of every embedded passage), so this build takes many seconds and is killed mid-way.
    big = tmp_path / "big"
    big.mkdir()
    [md] = CORPUS_DIR.glob("*.md")
    text = md.read_text("utf-8")
    for i in range(12):
        (big / f"copy{i}.md").write_text(
            text.replace('id: "', f'id: "copy{i}-', 1).replace('title: "', f'title: "Copie {i} · ', 1), "utf-8")
    build = _index_build(bot.env, "--corpus", str(big))
    time.sleep(3)  # model loaded, embedding under way
    build.send_signal(signal.SIGKILL)
    assert build.wait(10) == -signal.SIGKILL, "the build was killed before it finished"
    failed = subprocess.run([sys.executable, "-m", "bot.cli", "index", "build", "--corpus", str(tmp_path)],
                            cwd=PROJECT_ROOT, env=bot.env, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0, "a build of an empty corpus fails"
    time.sleep(1.5)  # more than the bot's refresh period
    it, msg = ask(standin, QUESTIONS[1], locale="en-US", user=standin.new_user())
    assert is_quoted_answer(msg)
    assert bot.status()["build_id"] == serving


# ----- restart ----------------------------------------------------------------------------------------------


def test_restart_keeps_sources_and_buttons_and_skips_command_sync(standin, bot, data_dir):
    _, msg = ask(standin, "Qui est Mira Murati ?", user=standin.new_user())
    aid = answer_id(msg)
    before = standin.wait_answered(standin.slash("source", {"answer": str(aid)}))
    syncs = len(standin.command_syncs)
    assert health(bot).returncode == 0, health(bot).stdout

    assert bot.stop() == 0, "SIGTERM shuts down cleanly"
    assert "stopped" in bot.log()
    assert bot.status()["ready"] is False
    assert health(bot).returncode == 1, "the container health check sees the bot is gone"
    bot.start()
    wait_connected(standin, bot, sessions=standin.sessions + 1)

    assert len(standin.command_syncs) == syncs, "unchanged commands are not synced again"
    assert "application commands unchanged" in bot.log()
    after = standin.wait_answered(standin.slash("source", {"answer": str(aid)}))
    assert after["embeds"] == before["embeds"] and after["content"] == before["content"]
    # A button on a message sent before the restart still works.
    clicked = standin.wait_answered(standin.click(msg, f"verbatim:sources:{aid}"))
    assert clicked["embeds"] == before["embeds"]


def test_every_interaction_was_acknowledged_once(standin, bot):
    """None lost: every interaction the stand-in sent got exactly one callback (twice is a violation)."""
    missing = [it.id for it in standin.interactions.values() if it.callback is None]
    assert missing == []
    late = [it for it in standin.interactions.values() if it.callback_at - it.sent_at > 3]
    print(f"\n[discord acks] {len(standin.interactions)} interactions, {len(late)} acknowledged after 3 s")


def health(bot: BotProcess) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.discord_app.health"], cwd=bot.workdir, env=bot.env,
                          capture_output=True, text=True, timeout=60)


def test_no_token_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERBATIM_", "DISCORD_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_a_rejected_token_is_a_clear_error(tmp_path):
    server = DiscordStandIn().start()
    try:
        env = bot_env(server, tmp_path / "data", CORPUS_DIR, DISCORD_TOKEN="not-the-token")
        result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert result.returncode == 2
    assert "Discord rejected the token" in result.stderr and "Traceback" not in result.stderr
    assert server.violations == ["GET /users/@me with a wrong Authorization header"]
