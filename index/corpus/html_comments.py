"""Reader comments from an article page, one Block each, numbered in page order, replies pointing at
their parent (`reply_to`).

trafilatura returns a page's comments as one undivided text, so they are read here from the markup
sites commonly use, tried in this order (the first that finds comments wins):
WordPress-style lists (`ol.commentlist`/`.comment-list`, replies in `ul.children`), schema.org
`Comment`/`UserComments` microdata, JSON-LD `comment` arrays, and `<article>` elements inside a comments
section (`#comments`, `.comments`…), nesting meaning reply.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import lxml.html

from .document import BLOCK_SEPARATOR, Block
from .html_metadata import json_ld
from .text_clean import clean_text, one_line


def _has_class(*names: str) -> str:
    return " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {n} ')" for n in names)


_WP_LISTS = f"//*[(self::ol or self::ul) and ({_has_class('commentlist', 'comment-list', 'comments-list')})]"
_WP_CHILDREN = f"./*[(self::ol or self::ul) and ({_has_class('children', 'replies', 'comment-replies')})]"
_CONTENT = ("comment-content", "comment-text", "comment-body-text", "comment__content", "comment__body",
            "comment-message", "content", "text", "body", "message")
_AUTHOR = ("fn", "comment-author-name", "comment__author", "author-name", "username", "user-name", "author",
           "comment-author", "nickname", "pseudo")
_NOT_TEXT = ("reply", "comment-meta", "comment-metadata", "comment-actions", "comment-footer", "says", "vote",
             "comment-reply-link")
_SECTION = ("//*[(self::section or self::div or self::aside or self::ol or self::ul) and ("
            "@id='comments' or @id='commentaires' or @id='reactions' or "
            f"{_has_class('comments', 'comments-area', 'comment-section', 'comments-section', 'commentaires', 'reactions', 'discussion')})]")
_SAYS = ("says:", "says", "dit :", "dit:", "a dit :", "a écrit :", "wrote:")


@dataclass
class _Comment:
    author: str | None
    paragraphs: list[str]
    parent: int | None  # index in the list of found comments
    replies: list[int] = field(default_factory=list)


def extract_comments(tree: lxml.html.HtmlElement) -> list[Block]:
    for finder in (_wordpress, _microdata, _json_ld_comments, _article_elements):
        found = finder(tree)
        if any(c.paragraphs for c in found):
            return _numbered(found)
    return []


def _numbered(found: list[_Comment]) -> list[Block]:
    numbers: dict[int, int] = {}
    blocks: list[Block] = []
    for i, comment in enumerate(found):
        if not comment.paragraphs:
            continue
        numbers[i] = len(blocks) + 1
        parent = comment.parent
        while parent is not None and parent not in numbers:  # a deleted (empty) parent: attach to its own parent
            parent = found[parent].parent
        blocks.append(Block("comment", BLOCK_SEPARATOR.join(comment.paragraphs), number=numbers[i],
                            reply_to=numbers.get(parent) if parent is not None else None,
                            author=comment.author or None))
    return blocks


# WordPress and its many imitators -------------------------------------------------------------------

def _wordpress(tree) -> list[_Comment]:
    found: list[_Comment] = []
    lists = tree.xpath(_WP_LISTS)
    outer = [ul for ul in lists if not any(a in lists for a in ul.iterancestors())]
    for ul in outer:
        _walk_wordpress(ul, None, found)
    return found


def _walk_wordpress(container, parent: int | None, found: list[_Comment]) -> None:
    for li in container.xpath(f"./li[not({_has_class('pingback', 'trackback')})]"):
        nested = li.xpath(_WP_CHILDREN)
        found.append(_Comment(_author(li, nested), _paragraphs(li, nested), parent))
        me = len(found) - 1
        for child_list in nested:
            _walk_wordpress(child_list, me, found)


# schema.org microdata -------------------------------------------------------------------------------

def _microdata(tree) -> list[_Comment]:
    nodes = tree.xpath("//*[contains(@itemtype, 'schema.org/Comment') or contains(@itemtype, 'schema.org/UserComments')]")
    nodes = [n for n in nodes if not _is_container(n, nodes)]
    index = {node: i for i, node in enumerate(nodes)}
    found = []
    for node in nodes:
        parent = next((index[a] for a in node.iterancestors() if a in index), None)
        others = [n for n in nodes if n is not node]
        author = None
        for el in node.xpath(".//*[@itemprop='author' or @itemprop='creator']"):
            if _inside(el, node, others):
                continue
            names = el.xpath(".//*[@itemprop='name']")
            author = _name(names[0] if names else el)
            break
        texts = [el for el in node.xpath(".//*[@itemprop='text' or @itemprop='commentText']")
                 if not _inside(el, node, others)]
        paragraphs = _paragraphs_of(texts[0], others) if texts else _paragraphs(node, others)
        found.append(_Comment(author, paragraphs, parent))
    return found


def _is_container(node, nodes) -> bool:
    """A `UserComments` (or `Comment`) element wrapping the list, not a comment: it holds other comment
    elements and has neither an author nor a text of its own."""
    inner = [n for n in nodes if n is not node and node in n.iterancestors()]
    if not inner:
        return False
    own = [el for el in node.xpath(".//*[@itemprop='author' or @itemprop='creator' or @itemprop='text' "
                                   "or @itemprop='commentText']") if not _inside(el, node, inner)]
    return not own


# JSON-LD --------------------------------------------------------------------------------------------

def _json_ld_comments(tree) -> list[_Comment]:
    found: list[_Comment] = []
    for data in json_ld(tree):
        _walk_json(data, None, found)
    return found


def _walk_json(data, parent: int | None, found: list[_Comment]) -> None:
    if isinstance(data, list):
        for item in data:
            _walk_json(item, parent, found)
        return
    if not isinstance(data, dict):
        return
    kind = data.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "Comment" in kinds or "UserComments" in kinds:
        author = data.get("author") or data.get("creator")
        if isinstance(author, list):
            author = author[0] if author else None
        if isinstance(author, dict):
            author = author.get("name")
        text = data.get("text") or data.get("commentText") or ""
        paragraphs = [p for p in (clean_text(part) for part in str(text).split("\n\n")) if p]
        found.append(_Comment(one_line(author) if isinstance(author, str) else None, paragraphs, parent))
        parent = len(found) - 1
        for key in ("comment", "comments", "hasPart"):
            _walk_json(data.get(key), parent, found)
        return
    for key in ("comment", "comments", "@graph", "mainEntity", "hasPart"):
        _walk_json(data.get(key), parent, found)


# <article> elements inside a comments section -------------------------------------------------------

def _article_elements(tree) -> list[_Comment]:
    sections = tree.xpath(_SECTION)
    sections = [s for s in sections if not any(a in sections for a in s.iterancestors())]
    found: list[_Comment] = []
    for section in sections:
        nodes = section.xpath(".//article")
        index = {node: len(found) + i for i, node in enumerate(nodes)}
        for node in nodes:
            parent = next((index[a] for a in node.iterancestors() if a in index), None)
            others = [n for n in nodes if n is not node]
            found.append(_Comment(_author(node, others), _paragraphs(node, others), parent))
    return found


# shared helpers -------------------------------------------------------------------------------------

def _inside(el, root, others) -> bool:
    """True when `el` belongs to another comment nested in `root` (a reply), not to `root` itself."""
    for ancestor in el.iterancestors():
        if ancestor is root:
            return False
        if ancestor in others:
            return True
    return False


def _author(node, others) -> str | None:
    for name in _AUTHOR:
        for el in node.xpath(f".//*[{_has_class(name)}]"):
            if not _inside(el, node, others) and _name(el):
                return _name(el)
    for el in node.xpath(".//*[@rel='author' or @itemprop='author']"):
        if not _inside(el, node, others) and _name(el):
            return _name(el)
    return None


def _name(el) -> str | None:
    name = one_line(el.text_content())
    for says in _SAYS:
        if name.lower().endswith(says):
            name = name[: -len(says)].strip()
    return name[:80] or None


def _paragraphs(node, others) -> list[str]:
    for name in _CONTENT:
        for el in node.xpath(f".//*[{_has_class(name)}]"):
            if not _inside(el, node, others) and el not in others:
                paragraphs = _paragraphs_of(el, others)
                if paragraphs:
                    return paragraphs
    return _paragraphs_of(node, others, skip_chrome=True)


def _paragraphs_of(el, others, skip_chrome: bool = False) -> list[str]:
    """The comment's text, one entry per `<p>` (or per block of lines when it has none); replies excluded."""
    def wanted(p) -> bool:
        if _inside(p, el, others) or p in others:
            return False
        if skip_chrome:
            for a in p.iterancestors():
                if a is el:
                    break
                if a.tag in ("header", "footer", "form", "nav") or set((a.get("class") or "").split()) & set(_NOT_TEXT):
                    return False
        return True

    paras = [p for p in el.xpath(".//p") if wanted(p)]
    if paras:
        return [t for t in (clean_text(_text_with_breaks(p)) for p in paras) if t]
    if skip_chrome:
        return []
    text = clean_text(_text_with_breaks(el))
    return [text] if text else []


def _text_with_breaks(el) -> str:
    """`text_content()`, with `<br>` as a line break and scripts left out."""
    parts: list[str] = []

    def walk(node) -> None:
        if node.tag == "br":
            parts.append("\n")
        elif node.tag not in ("script", "style") and isinstance(node.tag, str):
            parts.append(node.text or "")
            for child in node:
                walk(child)
                parts.append(child.tail or "")

    walk(el)
    return "".join(parts)
