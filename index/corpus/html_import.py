"""Turns a saved HTML article page, of any site, into a Document.

trafilatura finds the article (main text, headings, title, author, date, canonical URL, site name) and
leaves out the chrome around it; `html_metadata` adds what it does not read (language, updated date,
time of day) and `html_comments` the reader comments, one block each.
"""
from __future__ import annotations

import dataclasses
import itertools
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import trafilatura

from ..errors import CorpusError
from .byline import MAX_LEADING, leading_bylines
from .document import Block, Document
from .html_comments import extract_comments
from .html_metadata import guess_language, page_language, published_timestamp, updated_date
from .ids import canonical_url, id_from_url, slug
from .text_clean import clean_text, one_line

# Chrome that trafilatura's heuristics may keep when a site puts it inside the article container:
# paywall teasers, subscription prompts, cookie/consent dialogs, share bars, newsletter boxes.
def _class_or_id_starts(*words: str) -> str:
    lower = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_', 'abcdefghijklmnopqrstuvwxyz-')"
    return " or ".join(f"contains(concat(' ', {lower.format('@class')}), ' {w}') or starts-with({lower.format('@id')}, '{w}')"
                       for w in words)


# A class or id *starting* with one of these words ("cookie-banner", "share-buttons", "paywall"), so that a
# WordPress `tag-cookies` class on the article itself never prunes it; the article containers are spared.
PRUNE_XPATH = [f"//*[not(self::html or self::body or self::main or self::article) and "
               f"({_class_or_id_starts('paywall', 'premium', 'subscribe', 'abonn', 'cookie', 'consent', 'gdpr', 'rgpd', 'share', 'sharing', 'partage', 'social', 'newsletter', 'related', 'a-lire', 'lire-aussi', 'read-more', 'sponsor', 'outbrain', 'taboola')})]",
               "//*[@role='dialog' or @aria-modal='true']"]
# Below this, what trafilatura's fallbacks return from a page is a menu or a cookie notice, not an article.
MIN_ARTICLE_WORDS = 25
_BODY_TAGS = {"p", "item", "quote", "head", "list", "div", "code"}


def import_html(html: str, url: str = "", doc_id: str | None = None, source: str = "", provenance: str = "",
                guid: str = "", defaults: dict | None = None, fragment: bool = False) -> Document:
    """`url` is where the page came from; the page's own canonical URL wins over it. `defaults` (from a
    feed entry) fill fields the page leaves empty: title, author, date, updated, language. `fragment`
    is for a feed entry's content: already the article alone, so trafilatura is asked to keep all of it."""
    defaults = defaults or {}
    if not html.strip():
        raise CorpusError("the page is empty")
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as e:
        raise CorpusError(f"the page is not readable HTML: {e}") from None
    xml = None
    for mode in ({"favor_recall": True},) if fragment else ({"favor_precision": True}, {}):
        xml = trafilatura.extract(html, url=url or None, output_format="xml", with_metadata=True,
                                  include_comments=False, include_tables=False, prune_xpath=PRUNE_XPATH, **mode)
        if xml:
            break
    root = lxml.etree.fromstring(xml.encode("utf-8")) if xml else None
    main = root.find("main") if root is not None else None
    def pick(found: str, key: str) -> str:  # a feed entry's metadata wins over its bare content's
        return (defaults.get(key) or found) if fragment else (found or defaults.get(key, ""))

    title = one_line(pick(root.get("title", "") if root is not None else "", "title"))
    meta = root.attrib if root is not None else {}
    author = one_line(pick(meta.get("author", ""), "author"))
    date = pick(published_timestamp(tree, meta.get("date", "")), "date")
    updated = pick(updated_date(tree), "updated")
    body = _body_blocks(main, title) if main is not None else []
    body = _with_lead(tree, _without_bylines(body, author, (date, updated)))
    if sum(len(b.text.split()) for b in body) < (1 if fragment else MIN_ARTICLE_WORDS):
        raise CorpusError("no article text found in the page (is it an article page?)")
    if not title:
        raise CorpusError("the page has no title")
    canonical = meta.get("url") or url
    if canonical and urlsplit(canonical).scheme not in ("http", "https"):
        canonical = url if urlsplit(url).scheme in ("http", "https") else ""
    canonical = canonical_url(canonical) if canonical else ""
    if updated[:16] == date[:16]:
        updated = ""
    language = page_language(tree) or defaults.get("language", "") or guess_language(
        " ".join(b.text for b in body)) or "fr"
    source = source or meta.get("sitename") or meta.get("hostname") or (urlsplit(canonical).hostname or "")
    blocks = [Block("title", title)] + body + extract_comments(tree)
    if doc_id is None:
        doc_id = id_from_url(canonical) if canonical else slug(f"{source} {date[:10]} {title}")
    return Document(id=doc_id, title=title, blocks=tuple(blocks), date=date, source=source, language=language,
                    url=canonical, provenance=provenance, author=author,
                    updated=updated, guid=guid)


# The lead paragraph (French "chapô", English "standfirst") often sits outside the container trafilatura
# takes as the article body; it is the article's own first paragraph, so it is put back when it is missing.
_LEAD_XPATH = "//*[self::p or self::div or self::h2 or self::span][{}]".format(" or ".join(
    f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')"
    for c in ("chapo", "chapeau", "chapo-article", "standfirst", "article__desc", "article-desc", "article__lead",
              "article-lead", "article__chapo", "lede", "lead", "dek")))


def _without_bylines(body: list[Block], author: str, dates: tuple[str, ...]) -> list[Block]:
    """The body without the byline paragraphs it opens with (index.corpus.byline), renumbered."""
    opening = [b.text for b in itertools.takewhile(lambda b: b.section is None, body[:MAX_LEADING])]
    dropped = leading_bylines(opening, author, dates)
    if not dropped:
        return body
    return [dataclasses.replace(b, number=b.number - dropped) if b.section is None else b for b in body[dropped:]]


def _with_lead(tree, body: list[Block]) -> list[Block]:
    if not body:
        return body
    text = " ".join(b.text for b in body)
    for el in tree.xpath(_LEAD_XPATH):
        if any(a.tag in ("aside", "nav", "footer") for a in el.iterancestors()):
            continue
        lead = clean_text(el.text_content())
        if len(lead.split()) >= 8 and lead not in text and one_line(lead) not in one_line(text):
            lead_block = Block("paragraph", lead, section=None, number=1)
            shifted = [dataclasses.replace(b, number=b.number + 1) if b.section is None else b for b in body]
            return [lead_block] + shifted
        return body
    return body


def _body_blocks(main, title: str) -> list[Block]:
    """Headings become sections; paragraphs, list items and quotes become numbered paragraphs."""
    blocks: list[Block] = []
    section: str | None = None
    number = 0
    for el in _leaves(main):
        text = clean_text(_xml_text(el))
        if not text:
            continue
        if el.tag == "head":
            if text != title:
                section, number = one_line(text), 0
            continue
        if not blocks and text == title:
            continue
        number += 1
        blocks.append(Block("paragraph", text, section=section, number=number))
    return blocks


def _leaves(el):
    """Text-bearing elements in reading order: a list or a quote yields its items or paragraphs."""
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag in ("list", "quote", "div") and any(isinstance(c.tag, str) and c.tag in _BODY_TAGS for c in child):
            yield from _leaves(child)
        elif child.tag in ("p", "item", "quote", "head", "code", "list", "div"):
            yield child


def _xml_text(el) -> str:
    parts: list[str] = []

    def walk(node) -> None:
        if node.tag == "lb":
            parts.append("\n")
        else:
            parts.append(node.text or "")
            for child in node:
                if isinstance(child.tag, str):
                    walk(child)
                parts.append(child.tail or "")

    walk(el)
    return "".join(parts)
