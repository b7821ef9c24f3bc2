"""Bytes of a page or feed to text, honouring the charset it declares.

Order, as browsers do it: a byte-order mark, then the HTTP header, then a `<meta charset>` /
`http-equiv` tag (or the XML declaration), then UTF-8, then windows-1252. Labels that browsers read as
windows-1252 (ISO-8859-1, latin1, US-ASCII) are read as windows-1252: pages that say "ISO-8859-1" are
full of its curly quotes.
"""
from __future__ import annotations

import codecs
import re

from ..errors import CorpusError

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_AS_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819",
                    "ibm819", "iso-ir-100", "iso_8859-1", "windows-1252", "cp1252", "x-cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def charset_from_content_type(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", content_type or "", re.I)
    return match[1] if match else None


def declared_charset(data: bytes) -> str | None:
    head = data[:4096]
    match = _XML_DECL.match(head) or _META.search(head)
    return match[1].decode("ascii") if match else None


def decode(data: bytes, http_charset: str | None = None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    for label in (http_charset, declared_charset(data)):
        encoding = _codec(label)
        if encoding:
            return _decode_as(data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_as(data, "cp1252")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_as(data: bytes, encoding: str) -> str:
    if encoding == "cp1252":
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:  # the five bytes windows-1252 leaves undefined map to C1 controls, as in browsers
            return "".join(chr(b) if 0x80 <= b <= 0x9F and bytes([b]).decode("cp1252", "ignore") == "" else
                           bytes([b]).decode("cp1252") for b in data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise CorpusError(f"the page declares the charset {encoding} but is not valid {encoding}") from None
