"""Questions of a batch (`verbatim ask -`), read as bytes: exactly one item per input line, in order.

Stdin is read as bytes, not text, so that one badly encoded line (Latin-1, a stray byte) becomes that
line's error instead of a decoding failure that ends the batch; blank lines are kept as items too, so
the outputs always line up with the inputs.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from typing import BinaryIO, Iterator

# A question is at most a few thousand characters (max_question_chars); a line this long is refused
# without holding all of it in memory.
MAX_LINE_BYTES = 1 << 20


@dataclass(frozen=True)
class BatchLine:
    number: int  # 1-based, as an editor shows it
    question: str  # the line's text; an undecodable line's with U+FFFD where bytes could not be read
    error: str | None = None  # why the line cannot be asked at all, before any model work


def read_batch(stream: BinaryIO) -> Iterator[BatchLine]:
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 2)  # a line of MAX_LINE_BYTES and its \n or \r\n is not too long
        if not raw:
            return
        number += 1
        if len(raw.removesuffix(b"\n").removesuffix(b"\r")) > MAX_LINE_BYTES:
            while not raw.endswith(b"\n") and (raw := stream.readline(MAX_LINE_BYTES)):
                pass  # skip the rest of an over-long line (not the next one)
            yield BatchLine(number, "", f"line {number}: longer than {MAX_LINE_BYTES} bytes")
            continue
        raw = raw.removesuffix(b"\n").removesuffix(b"\r")
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)  # files saved by Windows editors start with one
        try:
            yield BatchLine(number, raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            yield BatchLine(number, raw.decode("utf-8", "replace"), f"line {number}: {not_utf8(raw, e)}")


def argv_text(arg: str) -> str:
    """A command-line argument as text; raises ValueError (with a message) when its bytes were not UTF-8.

    Python decodes argv with surrogateescape, so undecodable bytes arrive as lone surrogates.
    """
    try:
        arg.encode("utf-8")
        return arg
    except UnicodeEncodeError:
        pass
    try:
        raw = os.fsencode(arg)
    except UnicodeEncodeError:
        return arg  # a surrogate that no byte makes: clean_question refuses it
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(not_utf8(raw, e)) from None


def not_utf8(raw: bytes, error: UnicodeDecodeError) -> str:
    return (f"not valid UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start + 1}); "
            "use UTF-8, e.g. convert Latin-1 with `iconv -f latin1 -t utf-8`")
