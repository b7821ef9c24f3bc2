"""The batch contract of `verbatim ask -`: one output per input line, in order, whatever the bytes.

Input is fed as raw bytes (a shell pipe carries bytes, not text): blank lines, invalid UTF-8 and
Latin-1 text each get their own error at their own place, and the lines after them are still answered.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from index.errors import BadQuestion
from index.questions import clean_question

from .conftest import CORPUS_DIR, PROJECT_ROOT


def run_cli_bytes(*args: str | bytes, data_dir, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """The real command line, stdin and argv as bytes, output decoded as UTF-8 (what the contract promises)."""
    env = dict(os.environ, VERBATIM_DATA_DIR=str(data_dir), VERBATIM_CORPUS_DIR=str(CORPUS_DIR))
    env.pop("VERBATIM_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, env=env,
                            timeout=120, cwd=PROJECT_ROOT)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8"),
                                       result.stderr.decode("utf-8", "replace"))


def rows_of(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_blank_line_gets_its_own_error_object_in_place(built_settings):
    stdin = "Qui est Emmett Shear ?\n\n   \nQui est Jakub Pachocki ?\n".encode()
    result = run_cli_bytes("ask", "--json", "-", data_dir=built_settings.data_dir, stdin=stdin)
    rows = rows_of(result)
    assert len(rows) == 4, result.stdout
    assert "Twitch" in rows[0]["passages"][0]["text"] and "error" not in rows[0]
    for blank, line in ((rows[1], 2), (rows[2], 3)):
        assert f"line {line}" in blank["error"] and "empty" in blank["error"]
        assert blank["passages"] == [] and blank["answered"] is False
    assert rows[3]["question"] == "Qui est Jakub Pachocki ?" and rows[3]["passages"]
    assert result.returncode == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", [
    pytest.param(b"\xff\xfe garbage \x80\n", id="invalid-utf8"),
    pytest.param("Qu'a fait l'\u00e9quipe de Sam Altman ?\n".encode("latin-1"), id="latin-1"),
])
def test_an_undecodable_line_is_an_error_object_and_later_lines_are_answered(built_settings, bad):
    stdin = "Qui est Emmett Shear ?\n".encode() + bad + "Qui est Jakub Pachocki ?\n".encode()
    result = run_cli_bytes("ask", "--json", "-", data_dir=built_settings.data_dir, stdin=stdin)
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    rows = rows_of(result)
    assert len(rows) == 3, (result.stdout, result.stderr)
    assert "error" not in rows[0] and rows[0]["passages"]
    assert "line 2" in rows[1]["error"] and "UTF-8" in rows[1]["error"] and rows[1]["passages"] == []
    assert isinstance(rows[1]["question"], str)  # what could be read, with a replacement character
    assert rows[2]["question"] == "Qui est Jakub Pachocki ?" and rows[2]["passages"]
    assert result.returncode == 1


def test_crlf_lines_and_a_last_line_without_newline_are_questions(built_settings):
    stdin = "Qui est Emmett Shear ?\r\nQui est Jakub Pachocki ?".encode()
    result = run_cli_bytes("ask", "--json", "-", data_dir=built_settings.data_dir, stdin=stdin)
    rows = rows_of(result)
    assert [r["question"] for r in rows] == ["Qui est Emmett Shear ?", "Qui est Jakub Pachocki ?"]
    assert result.returncode == 0, result.stderr


def test_human_batch_mode_gives_one_block_per_line(built_settings):
    stdin = b"Qui est Emmett Shear ?\n\n\xe9t\xe9\nWho is Emmett Shear?\n"
    result = run_cli_bytes("ask", "-", data_dir=built_settings.data_dir, stdin=stdin)
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert len(blocks) == 4, result.stdout
    assert blocks[0].startswith("D’après l’article") and "Twitch" in blocks[0]
    assert blocks[1].startswith("verbatim: error: line 2") and "empty" in blocks[1]
    assert blocks[2].startswith("verbatim: error: line 3") and "UTF-8" in blocks[2]
    assert blocks[3].startswith("From the article")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_an_invalid_utf8_byte_in_a_command_line_question_is_one_clear_line(built_settings):
    for args in (("ask", b"Qui est \xff ?"), ("ask", "--json", b"Qui est \xe9mmett ?")):
        result = run_cli_bytes(*args, data_dir=built_settings.data_dir)
        assert result.returncode == 1, result.stdout
        assert result.stderr.count("\n") == 1 and "UTF-8" in result.stderr, result.stderr
        assert "unexpected" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("question", ["Qui est \ud800 ?", "\udcff", "Emmett \udfff Shear"])
def test_a_lone_surrogate_is_refused_clearly(question):
    with pytest.raises(BadQuestion, match="not valid text") as refused:
        clean_question(question, 1000)
    str(refused.value).encode("utf-8")  # the message itself is printable anywhere: it does not echo the surrogate


def test_a_valid_astral_character_is_still_accepted():
    assert clean_question("Qui a posté 🙂 ?", 1000) == "Qui a posté 🙂 ?"


def test_a_write_the_file_system_refuses_is_one_clear_line_not_an_unexpected_error(tmp_path):
    """Any command writing to a read-only place (here `corpus import` into a read-only corpus)."""
    from .conftest import SEED_PAGE, run_cli
    from .test_store_disk import _mount_tmpfs, _umount

    disk = tmp_path / "ro"
    if not _mount_tmpfs(disk, "1m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        (disk / "corpus").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        result = run_cli("corpus", "import", str(SEED_PAGE), "--id", "x", data_dir=tmp_path / "d",
                         corpus_dir=disk / "corpus")
    finally:
        _umount(disk)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Read-only file system" in result.stderr
    assert "unexpected" not in result.stderr and str(disk / "corpus") in result.stderr
