"""Pure renderers for the terminal and JSON: excerpts never alter a word; citations read naturally."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bot.render.citation import cite
from bot.render.quote import ELLIPSIS, excerpt
from index.model import Hit, Location, Passage

WORDS = st.lists(st.text(alphabet="abcdeéàxyz’«»", min_size=1, max_size=12), min_size=1, max_size=120)


def make_hit(text: str, highlight: tuple[int, int]) -> Hit:
    loc = Location(doc_id="d", kind="article", section="S", paragraph=1, comment=None, start=0, end=len(text))
    return Hit(rank=1, score=1.0, passage=Passage(id=0, text=text, location=loc), highlight=highlight)


@settings(max_examples=300, deadline=None)
@given(WORDS, st.data(), st.integers(min_value=20, max_value=400))
def test_excerpt_is_verbatim_bounded_and_cut_between_words(words, data, max_chars):
    text = " ".join(words)
    boundaries = [0] + [i + 1 for i, c in enumerate(text) if c == " "] + [len(text) + 1]
    a = data.draw(st.integers(0, len(boundaries) - 2))
    b = data.draw(st.integers(a + 1, len(boundaries) - 1))
    highlight = (boundaries[a], boundaries[b] - 1)
    ex = excerpt(make_hit(text, highlight), max_chars)
    assert len(ex.plain()) <= max_chars
    for part in (ex.before, ex.sentence, ex.after):
        for piece in part.split(ELLIPSIS):
            assert piece.strip() in text  # nothing altered, only cut
    if highlight[1] - highlight[0] < max_chars:
        assert ex.sentence == text[highlight[0]:highlight[1]]
    body = ex.plain().replace(ELLIPSIS, " ").split()
    assert all(word in words for word in body)  # never cut inside a word


def test_sentence_one_shorter_than_the_limit_keeps_the_limit():
    text = "abc defgh ijklmnopqrstuvwxyz"  # the sentence leaves room for 1 character: no "… " fits
    ex = excerpt(make_hit(text, (4, 4 + 19)), 20)
    assert len(ex.plain()) <= 20 and ex.sentence == text[4:23]


def test_short_passage_is_quoted_whole():
    text = "Elles n’ont finalement pas abouti. Le Conseil est toujours en place."
    ex = excerpt(make_hit(text, (0, 34)), 600)
    assert (ex.before, ex.sentence, ex.after) == ("", "Elles n’ont finalement pas abouti.", text[34:])
    assert ex.marked("**", "**") == "**Elles n’ont finalement pas abouti.** Le Conseil est toujours en place."


def test_citations_in_both_languages():
    para = Location("d", "article", "Guerre des TPU", 2, None, 0, 1)
    reply = Location("d", "comment", None, None, 15, 0, 1, reply_to=7, role="comment")
    intro = Location("d", "article", None, 1, None, 0, 1)
    title = Location("d", "article", None, None, None, 0, 1, role="title")
    assert cite(para, "fr") == cite(para, "en") == "Article · Guerre des TPU ¶2"
    assert cite(reply, "fr") == "Commentaire 15 (réponse au 7)"
    assert cite(reply, "en") == "Comment 15 (reply to 7)"
    assert cite(intro, "fr") == "Article · Introduction ¶1"
    assert (cite(title, "fr"), cite(title, "en")) == ("Article · Titre", "Article · Title")
