#!/usr/bin/env python
"""What each kind of text a build embeds buys on the question sets (a script that prints figures, not a test).

A build embeds, per passage, the passage itself, each of its sentences (the sentence signal of the ranking,
and half of the dense abstention signal), and, once per corpus, every corpus word and the dictionary's English
headwords that may translate one (the English "second look", aligned at build time: index.ranking.alignment).
This builds the project corpus once, then answers every question set
with the build as it is and with parts taken away, in this process:

* no sentence vectors: each sentence row replaced by its passage's vector and `weight_sentence = 0`, as if
  sentences were never embedded (the sentence signal and the sentence half of the dense score vanish);
* no corpus-word vectors: `keywords.form_vectors = None` and no alignments built from them (no second look for
  English questions);
* neither.

It prints R@1, R@3, answered (answerable questions) and abstained (unanswerable ones) for each, and what
each kind costs in texts embedded per passage.

    python bench/embedded_texts_value.py
"""
from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.build import build_index  # noqa: E402
from index.evaluation import load_questions, metrics, outcome  # noqa: E402
from index.ranking import Ranker, Weights  # noqa: E402
from index.service import Retriever, _Loaded  # noqa: E402
from index.settings import Settings  # noqa: E402

SETS = [ROOT.parent.parent / "shared" / "eval" / "dev.jsonl", ROOT / "tests/data/heldout.jsonl",
        ROOT / "tests/data/heldout2.jsonl", ROOT / "tests/data/heldout3.jsonl", ROOT / "tests/data/unanswerable.jsonl"]


def variant(retriever: Retriever, base: _Loaded, sentences: bool, words: bool) -> None:
    stored = base.stored
    weights = Weights.from_settings(retriever.settings)
    if not sentences:
        n = stored.passage_index.ntotal
        passage_vectors = stored.passage_index.vectors(np.arange(n))
        stored = dataclasses.replace(stored, sentence_vectors=passage_vectors[stored.sentence_owner])
        weights = dataclasses.replace(weights, sentence=0.0)
    if not words:
        keywords = dataclasses.replace(stored.keywords, form_vectors=None, alignment_arrays=None)
        stored = dataclasses.replace(stored, keywords=keywords)
    retriever._loaded = _Loaded(stored, Ranker(stored, weights))


def score(retriever: Retriever, path: Path) -> str:
    questions = load_questions(path)
    outs = []
    for q in questions:
        a = retriever.ask(q.question)
        outs.append(outcome(q, [h.passage.text for h in a.hits], a.answered))
    m = metrics(outs)
    if m.answerable:
        return f"{m.r1:.2f} / {m.r3:.2f} / {m.answered:.2f}" + (f" / abst {m.abstained:.2f}" if m.unanswerable else "")
    return f"abstained {m.abstained:.2f} ({round(m.abstained * m.unanswerable)}/{m.unanswerable})"


def everyday(retriever: Retriever) -> str:
    """Answered share of the everyday-wording questions (all answerable, no gold), French and English apart."""
    from index.language import detect_language

    lines = (ROOT / "tests/data/everyday_wording.txt").read_text("utf-8").splitlines()
    questions = [q.strip() for q in lines if q.strip() and not q.startswith("#")]
    got = {"fr": [0, 0], "en": [0, 0]}
    for q in questions:
        tally = got[detect_language(q)]
        tally[0] += retriever.ask(q).answered
        tally[1] += 1
    return " / ".join(f"{lang} {a}/{n}" for lang, (a, n) in got.items())


def main() -> None:
    print("$ python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(env={}, corpus_dir=str(ROOT / "corpus"), data_dir=tmp)
        summary = build_index(settings)
        retriever = Retriever.open(settings, build_if_missing=False)
        base = retriever._loaded
        p = summary.passages
        print(f"project corpus: {p} passages, {summary.sentences} sentences ({summary.sentences / p:.2f} a passage), "
              f"{summary.words} single words, corpus and English ({summary.words / p:.2f} a passage)")
        print()
        print("| embedded | texts a passage | " + " | ".join(s.name for s in SETS) + " | everyday wording answered |")
        print("|---|---:|" + "---:|" * (len(SETS) + 1))
        for name, sentences, words in (("all (passages, sentences, corpus words)", True, True),
                                       ("no sentence vectors", False, True), ("no corpus-word vectors", True, False),
                                       ("passages only", False, False)):
            variant(retriever, base, sentences, words)
            cost = 1 + (summary.sentences / p if sentences else 0) + (summary.words / p if words else 0)
            print(f"| {name} | {cost:.2f} | " + " | ".join(score(retriever, s) for s in SETS) + f" | {everyday(retriever)} |", flush=True)
    print()
    print("cells: R@1 / R@3 / answered share of answerable questions (/ abstained share of unanswerable ones)")


if __name__ == "__main__":
    main()
