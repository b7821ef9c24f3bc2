"""End to end, second configuration: an answer channel (message-content intent) and a channel allow-list.

A separate bot process from test_discord_e2e.py, because these settings change how it connects.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import CORPUS_DIR
from tests.standin import DiscordStandIn
from tests.standin.bot_process import bot_env, connected_bot, copy_of_data, running_standin


@pytest.fixture(scope="module")
def standin():
    with running_standin("en-US") as server:
        yield server


@pytest.fixture(scope="module")
def bot(standin, built_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("discord-channels")
    env = bot_env(standin, copy_of_data(built_settings.data_dir, root), CORPUS_DIR,
                  VERBATIM_DISCORD_ANSWER_CHANNELS=standin.channels["random"],
                  VERBATIM_DISCORD_ALLOWED_CHANNELS=f"{standin.channels['general']},{standin.channels['random']}",
                  VERBATIM_DISCORD_USER_COOLDOWN="0",
                  VERBATIM_DISCORD_SYNC_GUILD="")  # no test guild: commands are synced globally
    with connected_bot(standin, env, root) as proc:
        yield proc


@pytest.fixture(autouse=True)
def no_violations(standin):
    before = len(standin.violations)
    yield
    assert standin.violations[before:] == []


def test_answer_channels_ask_for_the_message_content_intent(standin, bot):
    assert standin.message_content_intent


def test_without_a_test_guild_commands_are_synced_globally(standin, bot):
    assert [where for where, _ in standin.command_syncs] == ["global"]


def test_a_question_in_an_answer_channel_is_answered_without_a_mention(standin, bot):
    chatter = standin.post_message("bonjour à tous", channel="random", mention_bot=False)
    question = standin.post_message("Who is Emmett Shear?", channel="random", mention_bot=False)
    reply = standin.wait_reply(question)
    assert "\n> " in reply["embeds"][0]["description"]
    time.sleep(0.5)
    assert standin.replies_to(chatter) == [], "only questions are answered"


def test_a_question_mark_alone_in_an_answer_channel_is_not_a_question(standin, bot):
    """"?" or "😂?" in a busy channel asks nothing: no public reply, and no share of the server's questions."""
    marks = [standin.post_message(text, channel="random", mention_bot=False) for text in ("?", "😂?", "?? !?")]
    after = standin.post_message("Qui est Emmett Shear ?", channel="random", mention_bot=False)
    standin.wait_reply(after)
    time.sleep(0.5)
    assert all(standin.replies_to(m) == [] for m in marks)


def test_outside_answer_channels_a_question_needs_a_mention(standin, bot):
    unmentioned = standin.post_message("Who is Emmett Shear?", channel="general", mention_bot=False)
    mentioned = standin.post_message(f"<@{standin.app_id}> Who is Emmett Shear?", channel="general")
    standin.wait_reply(mentioned)
    time.sleep(0.5)
    assert standin.replies_to(unmentioned) == []


def test_channels_outside_the_allow_list_get_no_answer(standin, bot):
    ignored = standin.post_message(f"<@{standin.app_id}> Who is Emmett Shear?", channel="closed")
    it = standin.slash("ask", {"question": "Who is Emmett Shear?"}, channel="closed", locale="en-US")
    refusal = standin.wait_answered(it)
    assert it.callback["type"] == 4 and refusal["flags"] & 64 and "don't answer questions here" in refusal["content"]
    source = standin.wait_answered(standin.slash("source", {}, channel="closed", locale="en-US"))
    assert source["flags"] & 64 and "don't answer questions here" in source["content"]
    time.sleep(0.5)
    assert standin.replies_to(ignored) == []


def test_threads_of_allowed_channels_are_allowed_and_threads_of_others_are_not(standin, bot):
    standin.create_thread("allowed-thread", parent="general")
    standin.create_thread("closed-thread", parent="closed")
    asked = standin.post_message(f"<@{standin.app_id}> Who is Emmett Shear?", channel="allowed-thread")
    assert "\n> " in standin.wait_reply(asked)["embeds"][0]["description"]
    it = standin.slash("ask", {"question": "Who is Emmett Shear?"}, channel="allowed-thread", locale="en-US")
    assert "don't answer questions here" not in str(standin.wait_answered(it))
    ignored = standin.post_message(f"<@{standin.app_id}> Who is Emmett Shear?", channel="closed-thread")
    refused = standin.wait_answered(standin.slash("ask", {"question": "Who is Emmett Shear?"}, channel="closed-thread",
                                                  locale="en-US"))
    assert refused["flags"] & 64 and "don't answer questions here" in refused["content"]
    time.sleep(0.5)
    assert standin.replies_to(ignored) == []


def test_answer_channels_without_the_intent_enabled_is_a_clear_error(built_settings, tmp_path):
    server = DiscordStandIn(message_content_enabled=False).start()
    try:
        shutil.copytree(built_settings.data_dir, tmp_path / "data", symlinks=True)
        env = bot_env(server, tmp_path / "data", CORPUS_DIR, VERBATIM_DISCORD_ANSWER_CHANNELS=server.channels["random"])
        result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Message Content intent" in result.stderr and "Traceback" not in result.stderr
    assert server.sessions == 0 and len(server.identifies) == 1
