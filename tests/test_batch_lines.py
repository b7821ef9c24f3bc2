"""`verbatim ask -` reads one item per input line, whatever the bytes (bot/batch.py)."""
from __future__ import annotations

import io

from bot.batch import MAX_LINE_BYTES, read_batch


def test_a_line_at_the_limit_is_read_and_one_byte_more_is_refused_in_the_line_format():
    at_limit = b"q" * MAX_LINE_BYTES + b"\n"
    over = b"x" * (MAX_LINE_BYTES + 1) + b"\n"
    lines = list(read_batch(io.BytesIO(at_limit + over + b"Qui ?\n")))
    assert [line.number for line in lines] == [1, 2, 3]
    assert lines[0].error is None and len(lines[0].question) == MAX_LINE_BYTES
    assert lines[1].error == f"line 2: longer than {MAX_LINE_BYTES} bytes"
    assert lines[2].question == "Qui ?" and lines[2].error is None


def test_a_crlf_line_at_the_limit_is_read_and_a_long_line_does_not_swallow_the_next():
    lines = list(read_batch(io.BytesIO(b"q" * MAX_LINE_BYTES + b"\r\n" + b"x" * (MAX_LINE_BYTES + 5) + b"\nA ?\nB ?\n")))
    assert [(line.number, line.error is None) for line in lines] == [(1, True), (2, False), (3, True), (4, True)]
    assert [line.question for line in lines[2:]] == ["A ?", "B ?"]
