"""The one whitespace rule every HTML importer applies, so a stored block survives the Markdown round trip.

Inside a line, runs of spaces and tabs become one space (a browser shows them so); lines are trimmed and
blank lines dropped. No-break spaces inside a line are kept: French typography puts them before colons.
"""
from __future__ import annotations

import re

_SPACES = re.compile(r"[ \t\r\f\v\u2028\u2029]+")


def clean_text(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(text: str) -> str:
    return " ".join(clean_text(text).split("\n"))
