"""Discord payload rendering: every documented limit holds for any answer, by construction (hypothesis).

The payloads are also run through the stand-in's independent checker (tests/standin/checks.py).
"""
from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.render import discord_limits as L
from bot.render.discord_limits import ELLIPSIS, embed_chars, trim
from bot.render.discord_payloads import (
    answer_choice,
    answer_payload,
    emphasised,
    escape_user_text,
    notice_payload,
    sources_payload,
)
from index.model import Answer, Hit, Location, Passage
from tests.standin import checks

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORD_CHARS = "abcdeéèçàxyzABCÉ0123456789'’-.,;:!?()"
MARKS = ["«", "»", "“", "”", '"', "**", "`", "```", "_", "~~", "||", "@everyone", "@here", "<@&123456789012345678>",
         "> ", "# ", "\\", "[x](https://e.example)"]

words = st.text(alphabet=WORD_CHARS, min_size=1, max_size=12)
long_words = st.text(alphabet=WORD_CHARS, min_size=30, max_size=300)
tokens = st.one_of(words, words, words, st.sampled_from(MARKS), long_words)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  "])


@st.composite
def texts(draw, max_tokens: int = 400) -> str:
    parts = draw(st.lists(st.tuples(tokens, separators), min_size=0, max_size=max_tokens))
    return "".join(t + s for t, s in parts).strip()


@st.composite
def hits(draw, rank: int, max_tokens: int = 400) -> Hit:
    text = draw(texts(max_tokens)) or "x"
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    kind = draw(st.sampled_from(["article", "comment"]))
    loc = Location(
        doc_id="doc", kind=kind, section=draw(st.one_of(st.none(), st.text(min_size=1, max_size=400))),
        paragraph=draw(st.integers(1, 999)), comment=draw(st.integers(1, 999)), start=0, end=len(text),
        reply_to=draw(st.one_of(st.none(), st.integers(1, 99))),
        role=draw(st.sampled_from(["paragraph", "title", "kicker", "comment"])),
    )
    return Hit(rank, draw(st.floats(-1, 1, allow_nan=False)), Passage(rank, text, loc), (start, end))


@st.composite
def answers(draw, max_tokens: int = 400) -> Answer:
    n = draw(st.integers(0, 12))
    hs = tuple(draw(hits(i + 1, max_tokens)) for i in range(n))
    answered = draw(st.booleans()) and n > 0
    quoted = hs[: draw(st.integers(1, n))] if answered else ()
    return Answer(question=draw(texts(max_tokens=600)) or "?", language=draw(st.sampled_from(["fr", "en"])),
                  answered=answered, hits=hs, quoted=quoted, build_id=draw(st.text(min_size=1, max_size=120)))


def assert_within_limits(payload) -> None:
    assert len(payload.content) <= L.CONTENT
    assert len(payload.embeds) <= L.EMBEDS_PER_MESSAGE
    assert sum(embed_chars(e) for e in payload.embeds) <= L.EMBEDS_TOTAL
    for e in payload.embeds:
        assert len(e.get("title", "")) <= L.EMBED_TITLE
        assert len(e.get("description", "")) <= L.EMBED_DESCRIPTION
        assert len(e.get("footer", {}).get("text", "")) <= L.FOOTER_TEXT
        assert len(e.get("fields", [])) <= L.EMBED_FIELDS
        for f in e.get("fields", []):
            assert 0 < len(f["name"]) <= L.FIELD_NAME and 0 < len(f["value"]) <= L.FIELD_VALUE
    body = {"content": payload.content, "embeds": list(payload.embeds),
            "allowed_mentions": {"parse": [], "replied_user": False}}
    assert checks.check_message(body, creating=True) == []


# ----- trim ------------------------------------------------------------------------------------------------


def _balanced_markdown(text: str) -> bool:
    fences = text.count("```")
    rest = text.replace("```", "")
    return fences % 2 == 0 and rest.count("`") % 2 == 0 and rest.replace("`", "").count("**") % 2 == 0


@FAST
@given(texts(), st.integers(0, 3000))
@example("un mot " * 10, 20)
@example("x" * 50, 10)
def test_trim_fits_and_keeps_a_prefix_cut_between_words(text, limit):
    out = trim(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
        return
    if limit <= len(ELLIPSIS):
        return
    kept = out[: out.rindex(ELLIPSIS)]
    assert text.startswith(kept)
    if any(c.isspace() for c in text[1: limit]):
        # never inside a word: the original continues with whitespace where the cut was made
        assert kept == "" or text[len(kept)].isspace()


@FAST
@given(st.lists(st.sampled_from(["mot", "«citation longue»", "**gras ici**", "`code x`", "```\nbloc de code\n```",
                                 "“autre citation”", "fin."]), min_size=1, max_size=200), st.integers(8, 600))
def test_trim_never_leaves_a_quote_bold_code_or_fence_open(pieces, limit):
    text = " ".join(pieces)
    out = trim(text, limit)
    assert len(out) <= limit
    assert _balanced_markdown(out)
    assert out.count("«") == out.count("»") and out.count("“") == out.count("”")


def test_trim_examples():
    assert trim("Le conseil a dit « non merci » hier soir", 31) == "Le conseil a dit « non merci »…"
    assert trim("a **très long passage en gras** fin", 20) == "a **très long…**"
    assert trim("voir ```\nprint(1)\nprint(2)\n``` après", 22).endswith("…\n```")
    assert trim("court", 10) == "court"


# ----- payloads --------------------------------------------------------------------------------------------


@FAST
@given(answers(), st.integers(1, 10**12))
def test_answer_payload_respects_every_limit(answer, answer_id):
    assert_within_limits(answer_payload(answer, answer_id))


@FAST
@given(answers(), st.integers(1, 10**12), texts(max_tokens=100), st.one_of(st.none(), texts(max_tokens=100)))
def test_sources_payload_respects_every_limit(answer, answer_id, asker, sharer):
    assert_within_limits(sources_payload(answer, answer_id, asker or "x", shared_by=sharer))


@FAST
@given(texts(max_tokens=1000))
def test_notice_and_choice_fit(text):
    assume(text.strip())
    assert_within_limits(notice_payload(text))
    name, value = answer_choice(123456789, text)
    assert 1 <= len(name) <= L.CHOICE_NAME and len(value) <= L.CHOICE_VALUE


@st.composite
def short_answered(draw) -> Answer:
    hs = tuple(draw(hits(i + 1, max_tokens=40)) for i in range(draw(st.integers(1, 5))))
    return Answer(question="q ?", language=draw(st.sampled_from(["fr", "en"])), answered=True, hits=hs,
                  quoted=hs[: draw(st.integers(1, len(hs)))], build_id="b")


@FAST
@given(short_answered())
def test_sources_show_whole_passages_when_they_fit(answer):
    assume(all(len(h.passage.text) < 600 for h in answer.quoted))
    payload = sources_payload(answer, 1, "asker")
    for embed, hit in zip(payload.embeds, answer.quoted):
        assert embed["description"] == emphasised(hit)


@FAST
@given(hits(1))
def test_passages_are_shown_as_written(hit):
    shown = emphasised(hit)
    assert re.sub(r"\\(.)", r"\1", shown.replace("**", "")) == hit.passage.text
    assert shown.count("**") == 2 or not hit.passage.text[hit.highlight[0]:hit.highlight[1]].strip()


def test_emphasis_keeps_spaces_outside_the_markers():
    loc = Location("d", "article", "S", 1, None, 0, 10)
    hit = Hit(1, 0.9, Passage(1, "Avant. La phrase. Après.", loc), (6, 18))
    assert emphasised(hit) == "Avant. **La phrase.** Après."
    starred = Hit(1, 0.9, Passage(1, "Un *mot* et [x](y)_z", loc), (0, 8))
    assert emphasised(starred) == r"**Un \*mot\*** et \[x](y)\_z"


# ----- escaping ---------------------------------------------------------------------------------------------


@FAST
@given(texts(max_tokens=200))
def test_escaped_user_text_cannot_ping_or_format(text):
    out = escape_user_text(text)
    assert "\n" not in out
    assert not re.search(r"@(everyone|here)", out)
    assert not re.search(r"<@[&!]?\d{17,20}>", out)
    for mark in ("**", "__", "||", "~~"):
        assert mark not in out.replace("\\" + mark[0], "")
    assert not out.startswith(("#", ">", "-"))


def test_escape_examples():
    assert escape_user_text("@everyone <@&123456789012345678> **x**") == (
        "@\u200beveryone \\<@\u200b&123456789012345678\\> \\*\\*x\\*\\*")
    assert escape_user_text("# titre\n> cité") == "\\# titre \\> cité"
    assert escape_user_text("[x](https://e.example) **gras**") == "\\[x\\](https://e.example) \\*\\*gras\\*\\*"
    # A numbered line is broken after its number: a backslash before the digit would show ("\\1. point").
    assert escape_user_text("1. point") == "1\\. point"
    assert escape_user_text("12.5 % de plus ?") == "12\\.5 % de plus ?"
    assert escape_user_text("Le 1. point") == "Le 1. point"


def test_the_sources_footer_shows_the_asker_name_as_typed():
    """Footers show text as is: escaping "_bob_" there would show its backslashes, and nothing there pings."""
    loc = Location("d", "article", "S", 1, None, 0, 6)
    hit = Hit(1, 0.9, Passage(1, "Texte.", loc), (0, 6))
    answer = Answer(question="q ?", language="fr", answered=True, hits=(hit,), quoted=(hit,), build_id="b")
    footer = sources_payload(answer, 7, "_bob_ *\n@everyone").embeds[-1]["footer"]["text"]
    assert "_bob_ * @everyone" in footer and "\\" not in footer
