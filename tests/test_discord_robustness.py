"""End to end, the hostile pass: bad input, a failing Discord, a locked or deleted store, a shutdown.

The real `verbatim run` against the loopback stand-in, which here also injects failures (429 with
`retry_after`, 5xx, a first response past Discord's 3 s window) and sends malformed events and
payloads. One bot process serves the module; the drained shutdown comes last.
"""
from __future__ import annotations

import re
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.language import detect_language

from tests.conftest import CORPUS_DIR
from tests.standin import objects as o
from tests.standin.bot_process import BotProcess, bot_env, connected_bot, copy_of_data, running_standin, wait_connected

EPHEMERAL = 64
QUESTIONS = [
    "Qui a annoncé l'arrivée de Sam Altman chez Microsoft ?",
    "Who is Emmett Shear?",
    "Pourquoi Greg Brockman a-t-il démissionné ?",
    "What did Satya Nadella announce?",
    "Que reproche le conseil d'administration à Sam Altman ?",
    "How many OpenAI employees threatened to leave?",
]
BAD_REQUEST_FR = "je n'ai pas pu lire cette demande"


@pytest.fixture(scope="module")
def data_dir(built_settings, tmp_path_factory) -> Path:
    return copy_of_data(built_settings.data_dir, tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def standin():
    with running_standin("fr") as server:
        yield server


@pytest.fixture(scope="module")
def bot(standin, data_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("robust-cwd")
    env = bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DISCORD_USER_COOLDOWN="0",
                  VERBATIM_DISCORD_GUILD_RATE="0/60")
    with connected_bot(standin, env, work) as proc:
        yield proc


@pytest.fixture(autouse=True)
def clean_standin(standin):
    before = len(standin.violations)
    yield
    standin.failures.clear()
    standin.ack_window = None
    assert standin.violations[before:] == []


def is_quoted_answer(message: dict) -> bool:
    embeds = message.get("embeds") or []
    return len(embeds) == 1 and "\n> " in embeds[0].get("description", "")


def answer_id(message: dict) -> int:
    for row in message.get("components", []):
        for c in row["components"]:
            if m := re.fullmatch(r"verbatim:sources:(\d+)", c.get("custom_id", "")):
                return int(m.group(1))
    raise AssertionError(f"no Sources button in {message}")


def stored_ids(data_dir: Path) -> set[int]:
    path = data_dir / "discord" / "answers.sqlite3"
    if not path.exists():  # connecting would create it
        return set()
    try:
        with sqlite3.connect(path, timeout=10) as db:
            return {row[0] for row in db.execute("SELECT id FROM answers")}
    except sqlite3.OperationalError:  # being recreated right now
        return set()


def tracebacks(bot: BotProcess, since: int) -> int:
    return bot.log()[since:].count("Traceback")


def ask(standin, question: str, **kw):
    return standin.slash("ask", {"question": question}, user=standin.new_user(), **kw)


# ----- malformed gateway events and payloads ------------------------------------------------------------


def test_a_malformed_gateway_event_is_dropped_and_the_bot_lives(standin, bot):
    since = len(bot.log())
    broken = standin.message_payload(f"<@{standin.app_id}> Qui est Emmett Shear ?")
    broken["guild_id"] = "abc"
    standin.dispatch_raw("MESSAGE_CREATE", broken)
    it = standin.send_raw_interaction(2, standin._command_data("ask", {"question": "Qui est Emmett Shear ?"}),
                                      user=standin.new_user(), mutate=lambda p: p.update(guild_id="abc"))
    reply = standin.wait_answered(it, timeout=30)
    assert it.callback["type"] == 4 and reply["flags"] & EPHEMERAL and BAD_REQUEST_FR in reply["content"]
    normal = ask(standin, QUESTIONS[1], locale="en-US")
    assert is_quoted_answer(standin.wait_answered(normal, timeout=60))
    assert bot.alive()
    log = bot.log()[since:]
    assert log.count("dropped a malformed") == 2 and tracebacks(bot, since) == 0, log[-3000:]


def _malformed(standin) -> dict[str, object]:
    ask_data = standin._command_data("ask", {"question": "Qui est Emmett Shear ?"})
    wrong_type = {**ask_data, "options": [{"name": "question", "type": 3, "value": 12345}]}
    wrong_kind = {**ask_data, "options": [{"name": "question", "type": 4, "value": 7}]}
    unknown = {"id": o.snowflake(), "name": "nope", "type": 1, "options": [], "guild_id": standin.guild_id}
    user = standin.new_user
    return {
        "option of the wrong type": standin.send_raw_interaction(2, wrong_type, user=user()),
        "option declared as another type": standin.send_raw_interaction(2, wrong_kind, user=user()),
        "no user": standin.send_raw_interaction(2, ask_data, mutate=lambda p: p.pop("member")),
        "unknown command": standin.send_raw_interaction(2, unknown, user=user()),
        "unknown interaction type": standin.send_raw_interaction(42, {"custom_id": "x"}, user=user()),
        "modal nobody opened": standin.send_raw_interaction(5, {"custom_id": "m", "components": []}, user=user()),
    }


def test_malformed_slash_payloads_get_a_polite_ephemeral_reply(standin, bot):
    since = len(bot.log())
    sent = _malformed(standin)
    for what, it in sent.items():
        reply = standin.wait_answered(it, timeout=30)
        assert reply["flags"] & EPHEMERAL, what
        assert BAD_REQUEST_FR in reply["content"], (what, reply["content"])
    # A click on a button that is not on the message (forged custom id) is answered too.
    msg = standin.wait_answered(ask(standin, QUESTIONS[0]), timeout=60)
    forged = standin.send_raw_interaction(3, {"custom_id": "verbatim:sources:1", "component_type": 2},
                                          user=standin.new_user(), message={**msg, "components": []})
    assert BAD_REQUEST_FR in standin.wait_answered(forged, timeout=30)["content"]
    assert bot.alive() and tracebacks(bot, since) == 0, bot.log()[since:][-3000:]


def test_a_lone_surrogate_is_refused_clearly(standin, bot):
    it = ask(standin, "Qui est \ud800 Sam Altman ?")
    reply = standin.wait_answered(it, timeout=30)
    assert reply["flags"] & EPHEMERAL and "caractères illisibles" in reply["content"]
    mid = standin.post_message(f"<@{standin.app_id}> Who is \udfff Sam Altman?")
    assert "caractères illisibles" in standin.wait_reply(mid, timeout=30)["content"], "in the server's language"


# ----- Discord failing -------------------------------------------------------------------------------------


EDIT_ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"


def test_a_rate_limited_edit_falls_back_to_a_follow_up(standin, bot):
    standin.fail("PATCH", EDIT_ORIGINAL, 429, times=6, retry_after=0.3)
    it = ask(standin, QUESTIONS[2])
    standin.wait_for(lambda: it.followups, timeout=60, what="a follow-up")
    assert it.callback["type"] == 5 and not it.edits
    assert is_quoted_answer(it.followups[0])


def test_an_edit_failing_with_5xx_ten_times_falls_back_to_a_follow_up(standin, bot):
    standin.fail("PATCH", EDIT_ORIGINAL, 500, times=10)
    it = ask(standin, QUESTIONS[3], locale="en-US")
    t0 = time.monotonic()
    standin.wait_for(lambda: it.followups, timeout=60, what="a follow-up")
    assert is_quoted_answer(it.followups[0])
    print(f"\n[delivery] follow-up {time.monotonic() - t0:.1f} s after the question (edit kept failing with 500)")


def _edit_outcome(standin, bot, it, since: int) -> None:
    """Until the bot has decided about its failed edit: a follow-up sent, or the edit found in place."""
    standin.wait_for(lambda: it.followups or "but the edit is there" in bot.log()[since:], timeout=60,
                     what="a follow-up or the edit found in place")
    time.sleep(1.5)  # a follow-up sent after all would be here by now


def _original_fetched(standin, since: int) -> bool:
    return any(m == "GET" and re.fullmatch(EDIT_ORIGINAL, p) for m, p, _ in standin.requests[since:])


@pytest.mark.parametrize("failure", [
    {"status": 500, "times": 10},  # Discord applied each try, and answered 500 (discord.py retried)
    {"status": 504, "hang": 7.0},  # applied, and answered after the bot stopped waiting
], ids=["5xx", "timeout"])
def test_an_edit_that_landed_but_seemed_to_fail_is_not_sent_again(standin, bot, failure):
    standin.fail("PATCH", EDIT_ORIGINAL, applied=True, **failure)
    since, requests = len(bot.log()), len(standin.requests)
    it = ask(standin, QUESTIONS[1], locale="en-US")
    _edit_outcome(standin, bot, it, since)
    assert it.edits and is_quoted_answer(it.original), "the edit took effect"
    assert it.followups == [], "the answer is not shown twice"
    assert _original_fetched(standin, requests), "the bot looked at @original before deciding"


def test_an_edit_that_failed_with_5xx_without_landing_still_gets_its_follow_up(standin, bot):
    standin.fail("PATCH", EDIT_ORIGINAL, 503, times=10)
    requests = len(standin.requests)
    it = ask(standin, QUESTIONS[5], locale="en-US")
    standin.wait_for(lambda: it.followups, timeout=60, what="a follow-up")
    assert is_quoted_answer(it.followups[0]) and not it.edits
    assert _original_fetched(standin, requests)


def test_when_the_interaction_cannot_carry_the_answer_it_goes_to_the_channel(standin, bot):
    standin.fail("PATCH", EDIT_ORIGINAL, 502, times=10)
    standin.fail("POST", FOLLOWUP, 500, times=10)
    user = standin.new_user("unlucky")
    before = len(standin.sent)
    it = standin.slash("ask", {"question": QUESTIONS[4]}, user=user)
    sent = standin.wait_for(lambda: standin.sent[before:], timeout=60, what="a channel message")[0]
    assert is_quoted_answer(sent.message) and f"<@{user['id']}>" in sent.body["content"]
    assert sent.body["allowed_mentions"]["parse"] == [], "naming the asker never pings"
    assert it.callback["type"] == 5


def test_a_first_response_that_would_land_after_3_s_is_given_up_for_a_channel_message(standin, bot):
    standin.ack_window = 3.0
    standin.fail("POST", r"^/interactions/\d+/[^/]+/callback$", 429, times=1, retry_after=4.0)
    before = len(standin.sent)
    it = ask(standin, QUESTIONS[5], locale="en-US")
    sent = standin.wait_for(lambda: standin.sent[before:], timeout=60, what="a channel message")[0]
    assert is_quoted_answer(sent.message)
    assert it.callback is None and standin.expired == [], "no pointless retry after the window"


# ----- the answers store ------------------------------------------------------------------------------------


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO feedback (answer_id, user_id, vote, at) VALUES (0, 0, 1, 0)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def test_a_store_locked_by_another_process_costs_no_answer_and_blocks_nothing(standin, bot, data_dir):
    old = standin.wait_answered(ask(standin, QUESTIONS[0]), timeout=60)
    old_id = answer_id(old)
    standin.wait_for(lambda: old_id in stored_ids(data_dir), timeout=20, what="the old answer stored")
    path = data_dir / "discord" / "answers.sqlite3"
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), "12"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        asked = [ask(standin, q) for q in QUESTIONS[:3]]
        standin.wait_for(lambda: all(it.answered for it in asked), timeout=60, what="answers while locked")
        finals = [it.final() for it in asked]
        assert all(is_quoted_answer(m) for m in finals), "every answer delivered"
        new_ids = {answer_id(m) for m in finals}
        assert len(new_ids) == 3
        # Unrelated interactions meanwhile: still answered within Discord's 3 s window.
        unrelated = [standin.slash("source", {"answer": str(old_id)}), standin.click(old, f"verbatim:vote:{old_id}:up"),
                     standin.autocomplete("source", {"answer": ""}, "answer")]
        standin.wait_for(lambda: all(it.answered for it in unrelated), timeout=30, what="unrelated replies")
        late = [it.callback_at - it.sent_at for it in unrelated if it.callback_at - it.sent_at > 3]
        assert late == [], f"acknowledged after 3 s: {late}"
        assert unrelated[0].final()["embeds"], "/source of a stored answer works while the file is locked"
        # An answer delivered but not stored yet: its sources come from the bot's memory meanwhile.
        pending = standin.wait_answered(standin.click(finals[0], f"verbatim:sources:{answer_id(finals[0])}"))
        assert pending["flags"] & EPHEMERAL and pending["embeds"], "sources of an answer not stored yet"
        assert answer_id(finals[0]) not in stored_ids(data_dir), "it really was not stored yet"
        voter = standin.new_user("early voter")
        thanks = standin.wait_answered(standin.click(finals[1], f"verbatim:vote:{answer_id(finals[1])}:up", user=voter))
        assert "Merci" in thanks["content"], "a vote on an answer not stored yet is kept, stored after it"
        assert time.monotonic() - locked_at < 12, "the checks ran while the file was still locked"
        assert locker.wait(30) == 0
    finally:
        if locker.poll() is None:
            locker.kill()
    standin.wait_for(lambda: new_ids <= stored_ids(data_dir), timeout=30, what="answers stored after the lock")
    with sqlite3.connect(data_dir / "discord" / "answers.sqlite3") as db:
        votes = db.execute("SELECT answer_id, vote FROM feedback WHERE user_id = ?", (int(voter["id"]),)).fetchall()
    assert votes == [(answer_id(finals[1]), 1)]
    assert "not stored yet" in bot.log() and "stored after" in bot.log()


def test_a_database_deleted_while_running_is_recreated(standin, bot, data_dir):
    path = data_dir / "discord" / "answers.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    msg = standin.wait_answered(ask(standin, QUESTIONS[1], locale="en-US"), timeout=60)
    aid = answer_id(msg)
    standin.wait_for(lambda: path.exists() and aid in stored_ids(data_dir), timeout=20, what="a recreated store")
    assert "was deleted while the bot ran; recreating it" in bot.log()
    src = standin.wait_answered(standin.slash("source", {"answer": str(aid)}))
    assert src["embeds"], "the recreated store serves /source"


def test_the_bots_files_are_owner_only(standin, bot, data_dir):
    discord_dir = data_dir / "discord"
    assert stat.S_IMODE(discord_dir.stat().st_mode) == 0o700
    for name in ("answers.sqlite3", "answers.sqlite3-wal", "answers.sqlite3-shm", "status.json", "commands.sha256"):
        mode = stat.S_IMODE((discord_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {mode:o}"


# ----- shutdown (last: it ends the bot) ---------------------------------------------------------------------


def test_sigterm_with_50_answers_in_flight_answers_or_tells_each_and_exits_0(standin, bot, data_dir):
    requests = [("ask", {"question": QUESTIONS[i % len(QUESTIONS)]}, standin.new_user(f"s{i}")) for i in range(50)]
    its = standin.slash_many(requests, locale="fr")
    standin.wait_for(lambda: all(it.callback for it in its), timeout=30, what="50 deferrals")
    assert all(it.callback["type"] == 5 for it in its)
    in_flight = sum(not it.answered for it in its)
    t0 = time.monotonic()
    bot.proc.send_signal(15)
    time.sleep(0.1)
    try:
        late = ask(standin, "Qui est Mira Murati ?")
    except RuntimeError as e:  # the bot had already left the gateway: nothing was left to finish (checked below)
        assert "no bot session" in str(e)
        late = None
    code = bot.proc.wait(30)
    took = time.monotonic() - t0
    assert code == 0, bot.log()[-3000:]
    assert took < 10, f"the shutdown took {took:.1f} s: Docker would have killed it"
    finals = [it.final() for it in its]
    silent = [it.id for it in its if not it.answered]
    assert silent == [], "every asker was answered or told"
    answered = [m for m in finals if is_quoted_answer(m)]
    # Told in the question's own language: the set mixes French and English questions.
    phrase = {q: ("Please ask again in a minute" if detect_language(q) == "en" else "Reposez la question dans une minute")
              for q in QUESTIONS}
    told = [m for (_, opts, _), m in zip(requests, finals) if phrase[opts["question"]] in (m.get("content") or "")]
    odd = [m for m in finals if not is_quoted_answer(m) and m not in told]
    assert len(answered) + len(told) == 50, f"neither answered nor told: {odd[:3]}"
    assert {answer_id(m) for m in answered} <= stored_ids(data_dir), "every answer delivered is stored"
    if late is not None:  # else the bot had told or answered everyone and left before it arrived: Discord
        # would then give the late asker its own "did not respond", as for any bot that is gone
        assert late.answered and "Je redémarre" in late.final()["content"] and late.final()["flags"] & EPHEMERAL
    assert "stopped" in bot.log()
    print(f"\n[discord shutdown] {in_flight} of 50 in flight at SIGTERM: {len(answered)} answered, "
          f"{len(told)} told to ask again; exit 0 after {took:.1f} s; a question during shutdown "
          f"{'told to come back' if late is not None else 'came after the bot had left'}")


def test_with_no_grace_the_answers_in_flight_are_told_to_ask_again(standin, data_dir, tmp_path):
    """What cannot finish in time gets its "thinking…" reply edited to "restarting, ask again", in the asker's
    language; nothing is left silent."""
    env = bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DISCORD_USER_COOLDOWN="0",
                  VERBATIM_DISCORD_GUILD_RATE="0/60", VERBATIM_DISCORD_SHUTDOWN_GRACE="0")
    proc = BotProcess(env, tmp_path, tmp_path / "bot.log").start()
    try:
        wait_connected(standin, proc, sessions=standin.sessions + 1)
        requests = [("ask", {"question": QUESTIONS[i % len(QUESTIONS)]}, standin.new_user(f"g{i}")) for i in range(50)]
        its = standin.slash_many(requests, locale="en-US")
        standin.wait_for(lambda: all(it.callback for it in its), timeout=30, what="50 deferrals")
        proc.proc.send_signal(15)
        assert proc.proc.wait(30) == 0, proc.log()[-3000:]
    finally:
        if proc.alive():
            proc.proc.kill()
    assert [it.id for it in its if not it.answered] == [], "none left silent"
    finals = [it.final() for it in its]
    french = [i % len(QUESTIONS) % 2 == 0 for i in range(50)]  # QUESTIONS alternate French and English
    told_fr = [m for m, fr in zip(finals, french) if fr and "Reposez la question dans une minute" in (m.get("content") or "")]
    told_en = [m for m, fr in zip(finals, french) if not fr and "Please ask again in a minute" in (m.get("content") or "")]
    answered = [m for m in finals if is_quoted_answer(m)]
    assert told_fr and told_en, "the askers still waiting were told, each in their question's language"
    assert len(told_fr) + len(told_en) + len(answered) == 50
    assert all(not m["embeds"] and not m.get("components") for m in told_fr + told_en)
    print(f"\n[discord shutdown, no grace] {len(answered)} answered, {len(told_fr) + len(told_en)} told to ask again")


def test_a_reply_on_its_way_at_sigterm_is_finished_and_what_comes_meanwhile_is_told_to_come_back(
        standin, data_dir, tmp_path):
    """The bot leaves only once the replies already started are sent (here one Discord answers slowly), and a
    command, a click, an autocomplete or a mention arriving meanwhile is told "restarting", not failed or cut off."""
    env = bot_env(standin, data_dir, CORPUS_DIR, VERBATIM_DISCORD_USER_COOLDOWN="0",
                  VERBATIM_DISCORD_GUILD_RATE="0/60")
    proc = BotProcess(env, tmp_path, tmp_path / "bot.log").start()
    try:
        wait_connected(standin, proc, sessions=standin.sessions + 1)
        answer = standin.wait_answered(ask(standin, QUESTIONS[0]), timeout=60)
        sources = f"verbatim:sources:{answer_id(answer)}"
        standin.delay("POST", r"^/interactions/\d+/[^/]+/callback$", 1.5)
        slow = standin.slash("articles", {})
        standin.wait_for(lambda: slow.callback, timeout=30, what="the slow /articles reply")
        proc.proc.send_signal(15)
        time.sleep(0.3)
        late = [standin.slash("articles", {}), standin.click(answer, sources),
                standin.autocomplete("ask", {"question": "x", "article": ""}, "article")]
        mentioned = standin.post_message(f"<@{standin.app_id}> {QUESTIONS[2]}")
        assert proc.proc.wait(30) == 0, proc.log()[-3000:]
    finally:
        if proc.alive():
            proc.proc.kill()
    assert slow.callback["type"] == 4 and slow.final()["embeds"], "the slow reply was the article list"
    told = [it.final() for it in late[:2]]
    assert all("Je redémarre en ce moment" in m["content"] and m["flags"] & 64 for m in told), told
    assert late[2].final() == {"choices": []}
    assert "Je redémarre en ce moment" in standin.wait_reply(mentioned, timeout=1)["content"], "a mention is told too"
    log = proc.log()
    assert "Traceback" not in log and "Session is closed" not in log and "failed" not in log, log[-3000:]
