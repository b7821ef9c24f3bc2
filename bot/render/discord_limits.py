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


def _scan(text: str, stop: int) -> list[tuple[int, _State]]:
    """States at every whitespace position < stop (a cut there keeps text[:i])."""
    states: list[tuple[int, _State]] = []
    s = _State()
    i = 0
    n = min(len(text), stop)
    while i < n:
        ch = text[i]
        if text.startswith("```", i):
            s.fence = not s.fence
            i += 3
            continue
        if s.fence:
            if ch.isspace():
                states.append((i, s.copy()))
            i += 1
            continue
        if ch == "\\" and i + 1 < len(text) and not text[i + 1].isspace():
            i += 2  # an escaped character is literal; never cut between the backslash and it
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
        if ch.isspace():
            states.append((i, s.copy()))
        i += 1
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
    # A cut at whitespace i keeps text[:i].rstrip(); scanning to budget+1 includes i == budget.
    cuts = [(text[:i].rstrip(), st) for i, st in _scan(text, budget + 1) if text[:i].strip()]
    clean = [prefix for prefix, st in cuts if st.all_closed()]
    if clean and len(clean[-1]) >= budget // 2:
        return clean[-1] + ELLIPSIS
    for prefix, st in reversed(cuts):
        closing = st.closers()
        if len(prefix) + len(ELLIPSIS) + len(closing) <= limit:
            return prefix + ELLIPSIS + closing
    # One word longer than the limit: nothing to do but cut it (the only cut inside a word).
    return text[:budget] + ELLIPSIS


def embed_chars(embed: dict) -> int:
    """Characters of an embed that count towards Discord's 6000 total."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += len(f.get("name", "")) + len(f.get("value", ""))
    return total
