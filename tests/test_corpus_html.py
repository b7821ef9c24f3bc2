"""HTML article pages of several layouts: article text and metadata by trafilatura, comments one each,
chrome left out, every word kept verbatim, every passage an exact substring of the stored text."""
from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from index.chunking import ChunkerParams, chunk_document
from index.corpus import markdown_format
from index.corpus.charset import decode
from index.corpus.html_import import import_html
from index.errors import CorpusError

PAGES = Path(__file__).parent / "data" / "pages"

# file: (title, author, date, updated, language, url, source, chrome that must not be in the article)
EXPECTED = {
    "wordpress_en_comments.html": (
        "Council votes to keep the night buses running", "Priya Raman", "2024-03-14T08:30:00+00:00",
        "2024-03-15T17:05:00+00:00", "en", "https://harbourgazette.co.uk/2024/03/14/council-keeps-night-buses/",
        "The Harbour Gazette",
        ["We use cookies", "Accept all", "Share on", "WhatsApp", "Related stories", "Coastline Buses warns",
         "Leave a Reply", "thoughts on", "Reply", "says:", "All rights reserved"]),
    "quotidien_fr_paywall.html": (
        "Rennes : la métropole gèle le prix de l’eau pour 2025", "Gwenaëlle Le Bihan", "2024-11-28T18:42:00+01:00",
        "2024-11-29T07:15:00+01:00", "fr",
        "https://www.courrier-ouest-bretagne.fr/rennes/2024/11/28/la-metropole-gele-le-prix-de-l-eau.html",
        "Le Courrier de l’Ouest-Bretagne",
        ["cookies", "Continuer sans accepter", "réservé aux abonnés", "Abonnez-vous", "Je m’abonne",
         "Partager sur", "Copier le lien", "À lire aussi", "Sécheresse", "chaque matin", "Mentions légales"]),
    "forum_fr_microdata.html": (
        "Le Conseil d’État valide la fermeture des centres de tri le dimanche", "Karim Benali",
        "2024-06-05T11:20:00+02:00", "", "fr",
        "https://actu-lyon-metropole.fr/societe/conseil-etat-centres-de-tri-dimanche", "Actu Lyon Métropole",
        ["cookies", "Partager", "LinkedIn", "réactions", "Réaction de", "tous droits réservés"]),
    "blog_en_article_comments.html": (
        "Why our library stopped charging late fees", "Sam Whitaker", "2024-09-02", "", "en",
        "https://blog.northfieldlibrary.org/posts/why-we-stopped-late-fees", "Northfield Library Blog",
        ["Tweet", "You might also like", "Summer reading", "Comments (3)", "Report", "Mill Lane"]),
    "jsonld_fr_comments.html": (
        "Grenoble teste la rue scolaire devant six écoles", "Mathilde Roux", "2024-04-15T07:05:00+02:00", "", "fr",
        "https://alpes-infos.fr/grenoble/rues-scolaires-six-ecoles", "Alpes Infos",
        ["traceurs", "Tout accepter", "Partager", "Imprimer", "service externe", "Savoie"]),
    "courier_en_byline.html": (
        "Riverside bridge to close for nine months of repairs", "Jane Doe; John Smith", "2024-03-02T18:30:00+00:00",
        "2024-03-03T10:02:00+00:00", "en",
        "https://www.riversidecourier.com/news/2024/03/02/riverside-bridge-to-close-for-repairs",
        "The Riverside Courier",
        ["cookies", "Agree", "Share", "More from News", "weight limit", "All rights reserved",
         "Staff Reporters", "Updated 3 March"]),  # the byline paragraphs repeat the metadata (index.corpus.byline)
    "vignoble_fr_windows1252.html": (
        "Bourgogne : les vendanges 2024 avancées d’une semaine", "Hélène Moreau", "2024-08-29", "", "fr",
        "http://www.gazette-vignoble.fr/actualites/vendanges-2024-avancees.php", "gazette-vignoble.fr",
        ["S’abonner", "Petites annonces", "Cotes des vins", "Reproduction interdite"]),
}

# file: [(number, reply_to, author, text)]
COMMENTS = {
    "wordpress_en_comments.html": [
        (1, None, "Dave from Quayside", "Good news, but two years is not very long. What happens in 2026 if the fare "
                                        "cap doesn’t do the trick?"),
        (2, 1, "Janet W.", "Then they will have the same argument again, like every year.\n\nAt least the N4 is safe for now."),
        (3, 2, "Dave from Quayside", "Fair point, Janet."),
        (4, None, "M. Okafor", "The N9 should go to the station. I have been saying this since 2019."),
    ],
    "forum_fr_microdata.html": [
        (1, None, "Lucie69", "Le dimanche c’était le seul jour où je pouvais y aller avec la voiture de mon frère."),
        (2, 1, "Bernard R.", "Les déchèteries mobiles passeront le samedi, c’est écrit dans l’article."),
        (3, None, "Nadia", "Trois pour cent, vraiment ? Près de chez moi il y a la queue tous les dimanches matin."
                           "\n\nJ’aimerais voir les chiffres par centre."),
    ],
    "blog_en_article_comments.html": [
        (1, None, "Helen P.", "This is great. My son had a £4 fine from 2019 and was too embarrassed to go back."),
        (2, 1, "Northfield Library", "Thank you Helen! We hope to see him soon."),
        (3, None, "grumpy_reader", "What about the books that are never returned at all?\n\nThose still cost money."),
    ],
    "jsonld_fr_comments.html": [
        (1, None, "Papa de Léo", "Enfin ! Le matin c’est dangereux devant l’école Jean-Macé."),
        (2, 1, "Riverain38", "Et les riverains, ils sortent leur voiture comment ?\n\nPersonne ne nous a demandé notre avis."),
        (3, None, "Inès G.", "À Lyon ça marche très bien depuis deux ans."),
    ],
}


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_text(name: str) -> str:
    return decode((PAGES / name).read_bytes())


def visible_text(name: str) -> str:
    """Everything a reader of the page could read (and JSON-LD comment texts), whitespace squashed."""
    html = page_text(name)
    tree = lxml.html.document_fromstring(html)
    scripts = " ".join(s.text_content() for s in tree.xpath("//script[@type='application/ld+json']"))
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    import json
    ld_texts = " ".join(re.findall(r'"text":"((?:[^"\\]|\\.)*)"', scripts))
    return squash(tree.text_content() + " " + json.loads(f'"{ld_texts}"'))


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def imported(request):
    return request.param, import_html(page_text(request.param))


def test_metadata(imported):
    name, doc = imported
    title, author, date, updated, language, url, source, _ = EXPECTED[name]
    assert (doc.title, doc.author, doc.date, doc.updated, doc.language, doc.url, doc.source) == \
        (title, author, date, updated, language, url, source)


def test_id_is_a_slug_of_the_canonical_url(imported):
    name, doc = imported
    host = re.sub(r"^www\.", "", EXPECTED[name][5].split("/")[2]).replace(".", "-")
    assert doc.id.startswith(host + "-") and re.fullmatch(r"[a-z0-9-]+", doc.id)
    assert import_html(page_text(name)).id == doc.id  # stable


def test_chrome_is_left_out(imported):
    name, doc = imported
    article = "\n".join(b.text for b in doc.blocks if b.role != "comment")
    for chrome in EXPECTED[name][7]:
        assert chrome not in article, chrome
    for number, _, _, text in COMMENTS.get(name, []):
        assert text.split("\n")[0] not in article  # comments are not mixed into the article


def test_every_block_is_verbatim_page_text(imported):
    name, doc = imported
    page = visible_text(name)
    for block in doc.blocks:
        for para in block.text.split("\n\n"):
            assert squash(para) in page, para


def test_comments_one_each_with_author_and_reply_to(imported):
    name, doc = imported
    got = [(c.number, c.reply_to, c.author, c.text) for c in doc.comments]
    assert got == COMMENTS.get(name, [])


def test_markdown_round_trip_and_passages_are_exact_substrings(imported, e5_embedder):
    name, doc = imported
    stored = markdown_format.loads(markdown_format.dumps(doc))
    assert stored == doc
    for max_tokens in (500, 24):  # whole blocks, and blocks split on sentences
        passages = chunk_document(stored, ChunkerParams(max_tokens=max_tokens), e5_embedder.count_tokens)
        assert passages and {p.location.kind for p in passages} >= {"article"}
        for p in passages:
            assert stored.text[p.location.start:p.location.end] == p.text
            assert p.text in stored.text


def test_windows_1252_page_decodes():
    raw = (PAGES / "vignoble_fr_windows1252.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc = import_html(decode(raw))
    text = doc.text
    for word in ("d’une semaine", "œnotourisme", "1 450 €", "« tenable »", "Étienne Lafarge"):
        assert word in text, word
    # the same bytes declared ISO-8859-1 by an HTTP header are read as browsers read them (windows-1252)
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252" />'
    no_meta = raw.replace(meta.encode(), b"")
    assert decode(no_meta, "ISO-8859-1") == decode(raw).replace(meta, "")
    assert "d’une semaine" in import_html(decode(no_meta, "iso-8859-1")).text


def test_a_page_without_article_text_is_refused():
    with pytest.raises(CorpusError, match="no article text"):
        import_html(page_text("menu_only.html"))
    with pytest.raises(CorpusError, match="empty"):
        import_html("   \n")


def test_comment_headings_round_trip_authors_with_quotes():
    from index.corpus.document import Block, Document

    doc = Document(id="x", title="T", language="en", blocks=(
        Block("title", "T"), Block("paragraph", "Body text.", number=1),
        Block("comment", "Hi.", number=1, author='Jo "the" Reader'),
        Block("comment", "Yes.", number=2, reply_to=1, author="Ann")))
    text = markdown_format.dumps(doc)
    assert '### Comment 2 (reply to comment 1) by "Ann"' in text
    assert markdown_format.loads(text) == doc


def test_a_comments_wrapper_with_its_own_notice_is_not_a_comment():
    """schema.org `UserComments` used as the list's wrapper: its notice is not comment 1 of a reply chain."""
    html = page_text("forum_fr_microdata.html").replace(
        "<h2>3 réactions</h2>", "<h2>3 réactions</h2><p>Les commentaires sont modérés.</p>")
    doc = import_html(html)
    assert [(c.number, c.reply_to, c.author) for c in doc.comments] == [(1, None, "Lucie69"), (2, 1, "Bernard R."),
                                                                       (3, None, "Nadia")]


def test_wordpress_pingbacks_are_not_comments():
    html = page_text("wordpress_en_comments.html").replace(
        '<li id="comment-920"', '<li id="comment-915" class="pingback"><div class="comment-body">Pingback: '
        '<a href="https://example.org/">Weekly roundup</a></div></li>\n<li id="comment-920"')
    assert [c.author for c in import_html(html).comments] == ["Dave from Quayside", "Janet W.", "Dave from Quayside",
                                                              "M. Okafor"]


def test_a_lead_outside_the_body_container_is_kept_first():
    doc = import_html(page_text("quotidien_fr_paywall.html"))
    paragraphs = [b for b in doc.blocks if b.role == "paragraph"]
    assert paragraphs[0].text.startswith("Le conseil métropolitain a voté jeudi soir le gel du tarif")
    assert [b.number for b in paragraphs if b.section is None] == [1, 2, 3]
    assert doc.text.count("Le conseil métropolitain a voté jeudi soir") == 1
