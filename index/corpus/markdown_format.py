"""The corpus file format: Markdown with a front matter, one file per article.

    ---
    id: nextinpact-2023-11-20-microsoft-sam-altman
    title: "Intelligence artificielle : …"
    kicker: "Ctrl, Alt(man), supprime"
    date: 2023-11-20T09:57
    source: Next INpact
    language: fr
    ---

    Lead paragraph (before any heading).

    ## Section heading

    Paragraph, kept verbatim (text is raw, not Markdown-escaped).

    ## Commentaires

    ### Commentaire 15 (réponse au commentaire 7)

    SebGF a dit:

    > Ca va finir en biopic sur Netflix tout ça à force.

    En deux biopics, …

Paragraphs are separated by blank lines. Front-matter values are plain text or JSON strings.
Optional front-matter keys: author, updated, guid, content_hash (see `Document`). A comment heading may
name its author: `### Comment 3 (reply to comment 1) by "Janet W."` (`par "…"` in French).
"""
from __future__ import annotations

import json
import re

from ..errors import CorpusError
from .document import BLOCK_SEPARATOR, Block, Document, split_paragraphs

COMMENTS_HEADINGS = ("Commentaires", "Comments")
_COMMENT = re.compile(r"^### (?:Commentaire|Comment) (\d+)(?: \((?:réponse au commentaire|reply to comment) (\d+)\))?"
                      r"(?: (?:par|by) (\"(?:[^\"\\]|\\.)*\"))?\s*$")
_FRONT_KEYS = ("id", "title", "kicker", "date", "date_text", "source", "language", "url", "provenance",
               "author", "updated", "guid", "content_hash")


def dumps(doc: Document) -> str:
    lines = ["---"]
    for key in _FRONT_KEYS:
        value = getattr(doc, key)
        if value:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    lines += ["---", ""]
    section: object = None
    in_comments = False
    for block in doc.blocks:
        if block.role in ("title", "kicker"):
            continue
        if block.role == "paragraph":
            if block.section != section:
                section = block.section
                lines += [f"## {section}", ""]
            lines += [block.text, ""]
            continue
        if not in_comments:
            in_comments = True
            lines += [f"## {COMMENTS_HEADINGS[0] if doc.language == 'fr' else COMMENTS_HEADINGS[1]}", ""]
        lines += [_comment_heading(block, doc.language), ""]
        for para in block.text.split(BLOCK_SEPARATOR):
            if block.quote is not None and para in block.quote.split(BLOCK_SEPARATOR):
                para = "\n".join("> " + line if line else ">" for line in para.split("\n"))
            lines += [para, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _comment_heading(block: Block, language: str) -> str:
    author = json.dumps(block.author, ensure_ascii=False) if block.author else ""
    if language == "fr":
        reply = f" (réponse au commentaire {block.reply_to})" if block.reply_to else ""
        return f"### Commentaire {block.number}{reply}" + (f" par {author}" if author else "")
    reply = f" (reply to comment {block.reply_to})" if block.reply_to else ""
    return f"### Comment {block.number}{reply}" + (f" by {author}" if author else "")


def loads(text: str, origin: str = "<string>") -> Document:
    front, body = _split_front_matter(text, origin)
    if not front.get("id") or not front.get("title"):
        raise CorpusError(f"{origin}: the front matter needs at least an id and a title")
    blocks: list[Block] = [Block("title", front["title"])]
    if front.get("kicker"):
        blocks.append(Block("kicker", front["kicker"]))
    section: str | None = None
    number = 0
    comment: dict | None = None
    for para in split_paragraphs(body.split("\n")):
        if para.startswith("## ") and "\n" not in para:
            heading = para[3:].strip()
            if comment is not None:
                blocks.append(_finish_comment(comment))
                comment = None
            if heading in COMMENTS_HEADINGS:
                section = COMMENTS_HEADINGS[0]
            else:
                section, number = heading, 0
            continue
        match = _COMMENT.match(para)
        if match:
            if comment is not None:
                blocks.append(_finish_comment(comment))
            comment = {"number": int(match[1]), "reply_to": int(match[2]) if match[2] else None, "paras": [], "quote": [],
                       "author": json.loads(match[3]) if match[3] else None}
            continue
        if comment is not None:
            if para.startswith(">"):
                para = "\n".join(re.sub(r"^> ?", "", line) for line in para.split("\n"))
                comment["quote"].append(para)
            comment["paras"].append(para)
        elif section == COMMENTS_HEADINGS[0]:
            raise CorpusError(f"{origin}: text under the comments heading must follow a '### Commentaire N' line")
        else:
            number += 1
            blocks.append(Block("paragraph", para, section=section, number=number))
    if comment is not None:
        blocks.append(_finish_comment(comment))
    extra = {k: v for k, v in front.items() if k not in _FRONT_KEYS}
    known = {k: front[k] for k in _FRONT_KEYS if k in front and k not in ("id", "title")}
    return Document(id=front["id"], title=front["title"], blocks=tuple(blocks), meta=extra, **known)


def _finish_comment(c: dict) -> Block:
    if not c["paras"]:
        raise CorpusError(f"comment {c['number']} is empty")
    author = None
    quote = BLOCK_SEPARATOR.join(c["quote"]) or None
    first = c["paras"][0]
    said = re.match(r"^(.{1,60}?) a dit ?:$", first)
    if quote and said:
        author = said[1]
    return Block("comment", BLOCK_SEPARATOR.join(c["paras"]), number=c["number"], reply_to=c["reply_to"],
                 quote=quote, quote_author=author, author=c.get("author"))


def _split_front_matter(text: str, origin: str) -> tuple[dict[str, str], str]:
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise CorpusError(f"{origin}: missing front matter (the file must start with a '---' line)")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise CorpusError(f"{origin}: the front matter is not closed by a '---' line")
    front: dict[str, str] = {}
    for line in text[4:end].split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise CorpusError(f"{origin}: front-matter line {line!r} is not 'key: value'")
        value = value.strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise CorpusError(f"{origin}: front-matter value of {key.strip()!r} is not a valid quoted string") from None
        front[key.strip()] = value
    return front, text[end + 5:]
