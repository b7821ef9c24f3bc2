"""Turns captured page text (a Next INpact article page, copied as text) into a Document.

Site chrome is dropped; every word of the article and of the comments is kept verbatim.
The trailing table of contents, when present, tells section headings from paragraphs.
"""
from __future__ import annotations

import re
import unicodedata

from ..errors import CorpusError
from .document import BLOCK_SEPARATOR, Block, Document, split_paragraphs

CHROME_LINES = {"Connexion", "Abonnez-vous", "Se connecter", "votre avatar", "Fermer",
                "Vous devez être abonné pour pouvoir commenter."}
_DATE = re.compile(r"^Le (\d{1,2}) (\w+) (\d{4}) à (\d{1,2})h(\d{2})$")
_COMMENTS = re.compile(r"^Commentaires \((\d+)\)$")
_MONTHS = {m: i for i, m in enumerate(["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                                       "septembre", "octobre", "novembre", "décembre"], start=1)}
_SAID = re.compile(r"^(.{1,60}?) a dit ?:$")


def import_page(page: str, doc_id: str | None = None, source: str = "Next INpact", provenance: str = "") -> Document:
    lines = [line.rstrip() for line in page.replace("\r\n", "\n").split("\n")]
    content = [i for i, line in enumerate(lines) if line.strip() and line.strip() not in CHROME_LINES]
    if len(content) < 3:
        raise CorpusError("the page text is too short to be an article (need a title, a date and a body)")
    title = lines[content[0]].strip()
    date_at = next((i for i in content if _DATE.match(lines[i].strip())), None)
    if date_at is None:
        raise CorpusError("no publication date line ('Le 20 novembre 2023 à 09h57') found in the page text")
    header = [lines[i].strip() for i in content if content[0] < i < date_at and lines[i].strip() != title]
    kicker = header[0] if header else ""
    comments_at = next((i for i in content if i > date_at and _COMMENTS.match(lines[i].strip())), len(lines))
    toc_at = next((i for i in content if i > comments_at and lines[i].strip() == title), len(lines))
    headings = {_bullet(lines[i]) for i in content if i > toc_at} - {"Fermer", ""}

    blocks: list[Block] = [Block("title", title)] + ([Block("kicker", kicker)] if kicker else [])
    section, number = None, 0
    for para in split_paragraphs(lines[date_at + 1:comments_at]):
        if para in headings or (not headings and _looks_like_heading(para)):
            section, number = para, 0
            continue
        number += 1
        blocks.append(Block("paragraph", para, section=section, number=number))
    blocks += _comments(lines[comments_at + 1:toc_at])

    day, month, year, hour, minute = _DATE.match(lines[date_at].strip()).groups()
    month_number = _MONTHS.get(month.lower())
    date = f"{year}-{month_number:02d}-{int(day):02d}T{int(hour):02d}:{minute}" if month_number else ""
    return Document(id=doc_id or _slug(f"{source} {date[:10]} {title}"), title=title, blocks=tuple(blocks),
                    kicker=kicker, date=date, date_text=lines[date_at].strip(), source=source, language="fr",
                    provenance=provenance)


def _comments(lines: list[str]) -> list[Block]:
    raw, current = [], []
    for line in lines:
        if line.strip() == "votre avatar":
            raw.append(current)
            current = []
        elif line.strip() not in CHROME_LINES:
            current.append(line)
    raw.append(current)
    blocks: list[Block] = []
    for chunk in raw:
        paras = split_paragraphs(chunk)
        if not paras:
            continue
        number = len(blocks) + 1
        reply_to = quote = author = None
        said = _SAID.match(paras[0])
        if said and len(paras) > 2:
            author, quote = said[1], paras[1]
            reply_to = next((b.number for b in reversed(blocks) if quote in b.text), None)
        blocks.append(Block("comment", BLOCK_SEPARATOR.join(paras), number=number, reply_to=reply_to,
                            quote=quote, quote_author=author))
    return blocks


def _bullet(line: str) -> str:
    return line.strip().lstrip("•·-*").strip()


def _looks_like_heading(para: str) -> bool:
    return "\n" not in para and len(para) < 90 and not para.endswith((".", ":", "»", "…", ","))


def _slug(text: str) -> str:  # kept here: the seed ids depend on it exactly
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:80].rstrip("-")
