"""Discord's documented message limits, and a trimmer that respects them without breaking the text.

Every renderer goes through `trim`, so a payload can only exceed a limit if a limit here is wrong.
Source: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
"""
from __future__ import annotations

from dataclasses import dataclass, field

CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
EMBEDS_TOTAL = 6000  # title + description + field names/values + footer text + author name, over all embeds
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256
BUTTON_LABEL = 80
CUSTOM_ID = 100
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
URL = 2048  # longest link or embed URL Discord accepts

ELLIPSIS = "…"

# Openers and closers a cut must not leave dangling. Markdown ones matter for rendering,
# quote marks for honesty (a quotation that opens must visibly close).
_QUOTE_PAIRS = {"«": "»", "“": "”"}


@dataclass
class _State:
    fence: bool = False
    code: bool = False
    bold: bool = False
    quotes: list[str] = field(default_factory=list)  # closers of the « or “ still open, innermost last
    straight: bool = False  # an odd number of " so far

    def markdown_closed(self) -> bool:
        return not (self.fence or self.code or self.bold)

    def all_closed(self) -> bool:
        return self.markdown_closed() and not self.quotes and not self.straight

    def copy(self) -> "_State":
        return _State(self.fence, self.code, self.bold, list(self.quotes), self.straight)

    def closers(self) -> str:
        """What to put after the ellipsis so nothing opened before the cut is left open."""
        if self.fence:
            return "\n```"
        out = ""
        if self.code:
            out += "`"
        if self.bold:
            out += "**"
        if self.straight:
            out += '"'
        return out + "".join(reversed(self.quotes))


def _scan(text: str, stop: int) -> list[tuple[int, bool, _State]]:
    """(i, text[i] is whitespace, state before text[i]) for every i < stop where a cut may fall.

    Positions inside a marker (between the stars of **, the backticks of ```) or between a backslash
    and the character it escapes are skipped: a cut there would change what the text says.
    """
    states: list[tuple[int, bool, _State]] = []
    s = _State()
    i = 0
    n = min(len(text), stop)
    while i < n:
        ch = text[i]
        states.append((i, ch.isspace(), s.copy()))
        if text.startswith("```", i):
            s.fence = not s.fence
            i += 3
            continue
        if s.fence:
            i += 1
            continue
        if ch == "\\" and i + 1 < len(text) and not text[i + 1].isspace():
            i += 2  # an escaped character is literal
            continue
        if ch == "`":
            s.code = not s.code
        elif not s.code:
            if text.startswith("**", i):
                s.bold = not s.bold
                i += 2
                continue
            if ch in _QUOTE_PAIRS:
                s.quotes.append(_QUOTE_PAIRS[ch])
            elif ch in _QUOTE_PAIRS.values():
                if ch in s.quotes:
                    del s.quotes[len(s.quotes) - 1 - s.quotes[::-1].index(ch)]
            elif ch == '"':
                s.straight = not s.straight
        i += 1
    if n < stop and i <= n:  # the whole text was scanned: its end is a cut point too
        states.append((n, True, s.copy()))
    return states


def trim(text: str, limit: int) -> str:
    """`text` if it fits, else its longest fitting prefix cut between words, ending with an ellipsis.

    The cut never falls inside a word. It prefers a point where no quote mark, bold span, inline
    code or code fence is open; otherwise whatever is open is closed right after the ellipsis.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[: max(limit, 0)]
    budget = limit - len(ELLIPSIS)
    scanned = _scan(text, budget + 1)
    # A cut at whitespace i keeps text[:i].rstrip().
    cuts = [(text[:i].rstrip(), st) for i, space, st in scanned if space and text[:i].strip()]
    clean = [prefix for prefix, st in cuts if st.all_closed()]
    if clean and len(clean[-1]) >= budget // 2:
        return clean[-1] + ELLIPSIS
    for prefix, st in reversed(cuts):
        closing = st.closers()
        if len(prefix) + len(ELLIPSIS) + len(closing) <= limit:
            return prefix + ELLIPSIS + closing
    if any(space for _, space, _ in scanned[1:]):
        return ELLIPSIS  # a limit this small leaves no room for a whole word and its closers
    # One word longer than the limit: the only case where a word is cut (never inside a marker).
    for i, _, st in reversed(scanned):
        if i + len(ELLIPSIS) + len(st.closers()) <= limit:
            return text[:i] + ELLIPSIS + st.closers()
    return ELLIPSIS


def embed_chars(embed: dict) -> int:
    """Characters of an embed that count towards Discord's 6000 total."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += len(f.get("name", "")) + len(f.get("value", ""))
    return total
