"""Guesses whether a question is French or English, so the words around the quotes match it."""
from __future__ import annotations

import re

from .model import Lang

_FR = set("le la les un une des du de et est sont qui que quoi quel quelle quels quelles pourquoi comment combien "
          "où a-t-il ont a ce cette ces dans pour par sur avec il elle ils elles on je nous vous son sa ses leur "
          "pas ne plus au aux qu est-ce".split())
_EN = set("the a an and is are was were who what which why how when where did does do of to in on for with "
          "he she they it his her their from by about has have had not".split())
_WORD = re.compile(r"[a-zA-ZÀ-ÿ'’-]+")


def detect_language(text: str, default: Lang = "fr") -> Lang:
    tokens = [w.lower() for w in _WORD.findall(text)]
    fr = sum(t in _FR for t in tokens) + 2 * bool(re.search(r"[éèêàùçœ]|['’](?=[aeiouyhéè])", text.lower()))
    en = sum(t in _EN for t in tokens)
    if fr == en:
        return default
    return "fr" if fr > en else "en"
