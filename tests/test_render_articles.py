"""Quotes that name and link their article: text fragments, citations, /articles and article choices.

Pure renderers, property-tested: every payload within Discord's limits (and the stand-in's independent
checker), every link within 2048 characters, every text fragment decoding back to the passage's words,
nothing that can ping.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import example, given
from hypothesis import strategies as st

from bot.render.discord_articles import (ARTICLES_PER_PAGE, _article_line, article_choice, articles_page, find_article,
                                        matching_articles)
from bot.render.discord_payloads import answer_payload, citation_line, sources_payload
from bot.render.text import answer_json, answer_text
from bot.render.text_fragment import URL_MAX, directive, encode, passage_link
from index.model import Answer, ArticleInfo, Hit, Location, Passage
from tests.test_render_discord import FAST, assert_within_limits, texts

URLS = st.one_of(
    st.just(""), st.just("https://news.example/2024/03/05/lyon"), st.just("javascript:alert(1)"),
    st.just("https://e.example/a (b) [c]?q=1&r=<2>#old"), st.just("ftp://e.example/x"),
    st.text(alphabet="abc/-_%é", min_size=0, max_size=2500).map(lambda p: "https://e.example/" + p),
)
DATES = st.one_of(st.just(""), st.just("2024-03-05T08:30"), st.just("2023-11-20"), st.just("hier"),
                  st.dates().map(str))
TITLES = st.one_of(texts(max_tokens=40), st.just("@everyone **Titre** [x](https://e.example) <@&123456789012345678>"))


def link_urls(markdown: str) -> list[str]:
    return re.findall(r"\]\((https?://[^)\s]*)\)", markdown)


def fragment_parts(link: str) -> list[str]:
    _, _, directive_text = link.partition("#:~:text=")
    return directive_text.split(",") if directive_text else []


@st.composite
def located_hits(draw, rank: int) -> Hit:
    text = draw(texts(200)) or "x"
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    kind = draw(st.sampled_from(["article", "comment"]))
    loc = Location(doc_id=draw(st.sampled_from(["a", "b", "c" * 150])), kind=kind, section="S", paragraph=1,
                   comment=3, start=0, end=len(text), doc_title=draw(TITLES), role="paragraph",
                   doc_date=draw(DATES), doc_url=draw(URLS))
    return Hit(rank, 0.5, Passage(rank, text, loc), (start, end))


@st.composite
def located_answers(draw) -> Answer:
    n = draw(st.integers(0, 10))
    hs = tuple(draw(located_hits(i + 1)) for i in range(n))
    answered = draw(st.booleans()) and n > 0
    quoted = hs[: draw(st.integers(1, n))] if answered else ()
    article = hs[0].passage.location.doc_id if hs else None
    return Answer(question=draw(texts(max_tokens=100)) or "?", language=draw(st.sampled_from(["fr", "en"])),
                  answered=answered, hits=hs, quoted=quoted, build_id="b", article_id=article)


# ----- text fragments ---------------------------------------------------------------------------------------


@FAST
@given(texts(300), URLS)
@example("Le conseil d’administration n’a plus confiance, en sa capacité - à diriger & OpenAI.",
         "https://news.example/a")
def test_fragment_decodes_back_to_the_first_and_last_words_of_the_passage(text, url):
    link = passage_link(url, text)
    if link is None:
        return
    assert len(link) <= URL_MAX and link.startswith(("http://", "https://")) and not re.search(r"[\s()<>]", link)
    parts = fragment_parts(link)
    lines = [line.split() for line in text.splitlines() if line.split()]
    if not parts:
        return
    for part in parts:
        assert not re.search(r"[-&,]", part), "the directive's own syntax is escaped"
        assert re.fullmatch(r"(?:[A-Za-z0-9_.~]|%[0-9A-F]{2})+", part), "only unreserved characters stay as is"
    start = unquote(parts[0]).split(" ")
    assert start == lines[0][: len(start)]
    if len(parts) == 2:
        end = unquote(parts[1]).split(" ")
        assert end == lines[-1][-len(end):]


def test_fragment_examples():
    assert encode("a-b, c&d é") == "a%2Db%2C%20c%26d%20%C3%A9"
    assert directive("Tweet supprimé.") == "text=Tweet%20supprim%C3%A9."
    assert directive("un deux trois quatre cinq six sept huit neuf dix") == (
        "text=un%20deux%20trois%20quatre,sept%20huit%20neuf%20dix")
    assert directive("Premier paragraphe ici.\n\nSecond, et dernier.", 2) == "text=Premier%20paragraphe,et%20dernier."
    assert passage_link("javascript:alert(1)", "x") is None
    assert passage_link("https://e.example/" + "a" * 2100, "x") is None
    assert passage_link("https://e.example/a#top", "mot") == "https://e.example/a#:~:text=mot"


# ----- citations and payloads -------------------------------------------------------------------------------------


@FAST
@given(located_answers(), st.integers(1, 10**12), st.booleans(), st.sampled_from(["", "Ce salon était associé…"]))
def test_answer_payload_with_articles_respects_every_limit(answer, answer_id, several, notice):
    payload = answer_payload(answer, answer_id, name_articles=several, notice=notice)
    assert_within_limits(payload)
    for embed in payload.embeds:
        for url in link_urls(embed["description"]):
            assert len(url) <= URL_MAX
        # Quotes stay verbatim (an embed never pings); the article titles the bot adds are made inert.
        citations = [line for line in embed["description"].splitlines() if line.startswith("— ")]
        assert not any("@everyone" in c or "<@&" in c for c in citations)


@FAST
@given(located_answers(), st.booleans())
def test_sources_payload_with_articles_respects_every_limit(answer, several):
    payload = sources_payload(answer, 1, "asker", name_articles=several)
    assert_within_limits(payload)
    for embed in payload.embeds:
        assert "url" not in embed or (len(embed["url"]) <= URL_MAX and embed["url"].startswith("http"))


@FAST
@given(located_answers())
def test_text_and_json_name_every_article(answer):
    row = answer_json(answer, name_articles=True)
    assert [p["article"]["id"] for p in row["passages"]] == [h.passage.location.doc_id for h in answer.hits]
    assert (row["article"] or {}).get("id") == answer.article_id
    answer_text(answer, name_articles=True)


def test_citation_names_the_article_and_links_to_the_passage():
    loc = Location("a", "article", "Convaincre", 2, None, 0, 10, doc_title="Lyon prête des vélos",
                   doc_date="2024-03-05T08:30", doc_url="https://news.example/lyon")
    hit = Hit(1, 0.9, Passage(1, "Un vélo-cargo neuf coûte cher.", loc), (0, 10))
    assert citation_line(hit, "fr", True, 400) == (
        "— *Article · Convaincre ¶2* · [Lyon prête des vélos (5 mars 2024)]"
        "(https://news.example/lyon#:~:text=Un%20v%C3%A9lo%2Dcargo%20neuf%20co%C3%BBte%20cher.)")
    assert citation_line(hit, "en", True, 20) == "— *Article · Convaincre ¶2* · Lyon prête des vélos (5 March 2024)"
    assert citation_line(hit, "fr", False, 400).startswith("— *[Article · Convaincre ¶2](https://news.example/lyon#:~:")
    no_url = Hit(1, 0.9, Passage(1, "x", Location("a", "article", "S", 1, None, 0, 1)), (0, 1))
    assert citation_line(no_url, "fr", False, 400) == "— *Article · S ¶1*", "a single article renders as before"


# ----- /articles and article choices ----------------------------------------------------------------------------


articles_lists = st.lists(st.builds(ArticleInfo, id=st.text(min_size=1, max_size=150), title=TITLES, date=DATES,
                                    url=URLS, source=st.text(max_size=20), passages=st.integers(1, 500),
                                    comments=st.integers(0, 500)), max_size=300)


@FAST
@given(articles_lists, st.sampled_from(["2026-12-01T19:50:41+00:00", "", "garbage"]), st.sampled_from(["fr", "en"]),
       st.integers(-3, 40), st.one_of(st.none(), st.text(max_size=80)))
def test_every_articles_page_fits_and_cannot_ping(articles, built_at, lang, page, search):
    shown = articles_page(articles, built_at, lang, page, search)
    payload = shown.payload
    assert_within_limits(payload)
    text = payload.content + "".join(e["title"] + e["description"] + e.get("footer", {}).get("text", "")
                                     for e in payload.embeds)
    assert "@everyone" not in text and "<@&" not in text and "@here" not in text
    for url in link_urls(text):
        assert len(url) <= URL_MAX
    assert 1 <= shown.page <= shown.pages and len(shown.search) <= 50 and "\n" not in shown.search
    listed = [line for e in payload.embeds for line in e["description"].splitlines() if line.startswith("• ")]
    assert len(listed) <= ARTICLES_PER_PAGE


@FAST
@given(articles_lists, st.sampled_from(["fr", "en"]))
def test_the_pages_together_list_every_article_once_newest_first(articles, lang):
    first = articles_page(articles, "", lang)
    listed = []
    for page in range(1, first.pages + 1):
        shown = articles_page(articles, "", lang, page)
        assert shown.page == page and shown.pages == first.pages
        listed += [line for e in shown.payload.embeds for line in e["description"].splitlines() if line.startswith("• ")]
    assert len(listed) == len(articles)
    for line, article in zip(listed, articles):  # in order; a link may be left out where a page runs long
        assert line in (_article_line(article, lang), _article_line(article, lang, linked=False))


def test_articles_payload_lists_titles_dates_links_and_the_build_time():
    arts = [ArticleInfo("b", "Lyon prête", "2024-03-05T08:30", "https://news.example/lyon", "Q", 7, 2),
            ArticleInfo("a", "Microsoft [recrute]", "2023-11-20T09:57", "", "NI", 30, 18)]
    shown = articles_page(arts, "2026-12-01T19:50:41+00:00", "fr")
    (embed,) = shown.payload.embeds
    assert (shown.page, shown.pages) == (1, 1) and "footer" not in embed
    assert embed["title"] == "Les articles que je connais (2)"
    assert embed["description"].splitlines() == [
        "Index construit pour la dernière fois le <t:1796154641:f>.", "",
        "• [Lyon prête](https://news.example/lyon) — 5 mars 2024",
        "• Microsoft \\[recrute\\] — 20 novembre 2023"]


NEWSROOM = [ArticleInfo(f"a{n:02d}", f"Vélo {n}" if n % 10 == 3 else f"Sujet {n}", f"2024-{12 - n // 3:02d}-01", "",
                        "Q", 3, 0) for n in range(23)]  # newest first, as the catalogue gives them


def test_a_long_list_goes_by_pages_of_ten_and_a_page_past_the_end_shows_the_last():
    pages = [articles_page(NEWSROOM, "", "en", n) for n in (1, 2, 3, 99, 0)]
    titles = [[line[2:].split(" — ")[0] for line in p.payload.embeds[0]["description"].splitlines()[2:]] for p in pages]
    assert titles[0] == [f"Sujet {n}" if n % 10 != 3 else f"Vélo {n}" for n in range(10)]
    assert len(titles[1]) == 10 and titles[2] == ["Sujet 20", "Sujet 21", "Sujet 22"]
    assert [(p.page, p.pages) for p in pages] == [(1, 3), (2, 3), (3, 3), (3, 3), (1, 3)]
    assert titles[3] == titles[2] and titles[4] == titles[0]
    assert pages[1].payload.embeds[0]["footer"]["text"].startswith("Page 2 of 3")
    assert pages[0].payload.embeds[0]["title"] == "Articles I know (23)"


def test_a_search_narrows_the_list_and_an_empty_result_says_so():
    found = articles_page(NEWSROOM, "", "fr", 1, "  VELO \n ")
    (embed,) = found.payload.embeds
    assert found.search == "VELO" and (found.page, found.pages) == (1, 1)
    assert embed["title"] == "Les articles qui correspondent à « VELO » (2 sur 23)"
    assert [line[2:].split(" — ")[0] for line in embed["description"].splitlines()[2:]] == ["Vélo 3", "Vélo 13"]
    none = articles_page(NEWSROOM, "", "en", 1, "@everyone **tram**")
    assert none.payload.embeds == () and none.payload.content.startswith("No article matches “@\u200beveryone")
    assert "\\*\\*tram\\*\\*" in none.payload.content
    assert articles_page([], "", "en", 1, "tram").payload.content.startswith("I know no article yet.")


@FAST
@given(articles_lists.filter(bool), st.sampled_from(["fr", "en"]))
def test_choices_fit_and_resolve_back(articles, lang):
    ids = {}
    for a in articles:
        ids.setdefault(a.id, a)
    for article in ids.values():
        name, value = article_choice(article, lang)
        assert 1 <= len(name) <= 100 and 1 <= len(value) <= 100
        found = find_article(value, list(ids.values()))
        assert found is not None and found.id == article.id
    assert len(matching_articles("", articles)) == min(25, len(articles))


def test_typed_words_match_word_starts_and_ligatures():
    """A date shown by /articles picks its article, not one whose day ends with the same digit; "oeuvre"
    finds "œuvre" as French keyboards type it."""
    first = ArticleInfo("v1", "Conseil municipal", "2024-03-01", "", "", 1, 0)
    eleventh = ArticleInfo("v11", "Conseil municipal", "2024-03-11", "", "", 1, 0)
    art = ArticleInfo("fest", "Festival : œuvres et Ærø", "2024-06-02", "", "", 1, 0)
    arts = [eleventh, first, art]
    assert find_article("1 mars 2024", arts) is first and find_article("11 mars 2024", arts) is eleventh
    assert find_article("March 1, 2024", arts) is first
    assert matching_articles("mars 2024", arts) == [eleventh, first]
    assert find_article("oeuvres", arts) is art and find_article("AERO", arts) is art
    listed = articles_page(arts, "", "fr", search="oeuvre").payload.embeds[0]["description"]
    assert "œuvres" in listed and "Conseil" not in listed


def test_matching_keeps_the_newest_first_order():
    arts = [ArticleInfo("n", "Nouveau vélo", "2024-01-02", "", "", 1, 0),
            ArticleInfo("o", "Ancien vélo", "2023-01-02", "", "", 1, 0),
            ArticleInfo("x", "Autre sujet", "2022-01-02", "", "", 1, 0)]
    assert [a.id for a in matching_articles("VÉLO", arts)] == ["n", "o"]
    assert find_article("ancien VÉLO", arts).id == "o" and find_article("nope", arts) is None


def test_typed_article_names_match_without_accents_apostrophes_or_case_and_by_date():
    lyon = ArticleInfo("ville-velos", "Lyon prête des vélos cargo", "2024-03-05T08:30", "", "Q", 7, 2)
    ete = ArticleInfo("meteo", "Émissions : l’été à Montréal", "2023-11-20", "", "Q", 5, 0)
    arts = [lyon, ete]
    for typed, expected in (("lyon prete", [lyon]), ("EMISSIONS", [ete]), ("l'ete", [ete]), ("montreal", [ete]),
                            ("20 novembre", [ete]), ("5 mars 2024", [lyon]), ("velos", [lyon]), ("vél", [lyon]),
                            ("zzz", []), ("mars 2024", [lyon]), ("ars", [])):
        assert matching_articles(typed, arts) == expected, typed
    assert find_article("Lyon", arts) is lyon  # sent without picking a choice: the one article it matches
    assert find_article("2", arts) is None  # several match: not a guess
    assert find_article("lyon prête des vélos cargo", arts) is lyon
