"""Scores answers against a question set: recall at 1 and 3, MRR, answered and abstain rates.

Pure functions over questions and answers, so `verbatim eval` and the tests share one definition of
"found". It matches `../shared/eval/score.py`: a question is found at rank r when one of its gold
substrings occurs in the r-th passage's text, both sides normalised (NFKC, curly quotes folded, case
and whitespace folded). A question may name its document instead or as well (`gold_doc`): it is then
found at document level at rank r when the r-th passage comes from that document, as
`../shared/eval/score_docs.py` counts. A question with neither is unanswerable: the right outcome is an
abstention.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .errors import VerbatimError

RANKS_SEEN = 5  # like score.py: only the first five passages count


class QuestionFileError(VerbatimError):
    """The question file cannot be read or a line is not a question."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]  # empty: unanswerable
    lang: str = "?"
    kind: str = "?"
    gold_doc: str = ""  # the id of the document that answers it, when the set says

    @property
    def answerable(self) -> bool:
        return bool(self.gold) or bool(self.gold_doc)


@dataclass(frozen=True)
class Outcome:
    """What one question got: the rank of the first passage holding a gold substring, and whether it answered."""

    question: Question
    rank: int | None  # 1-based; None when no gold in the passages seen (always None when unanswerable)
    answered: bool
    top_text: str = ""
    doc_rank: int | None = None  # 1-based rank of the first passage from gold_doc; None when absent or no gold_doc


@dataclass(frozen=True)
class Metrics:
    answerable: int
    unanswerable: int
    r1: float | None
    r3: float | None
    mrr: float | None
    answered: float | None  # share of answerable questions answered
    abstained: float | None  # share of unanswerable questions abstained
    doc_r1: float | None = None  # document level, over the questions with a gold_doc
    doc_r3: float | None = None
    doc_mrr: float | None = None

    def to_dict(self) -> dict:
        out = {"answerable": self.answerable, "unanswerable": self.unanswerable, "r1": self.r1, "r3": self.r3,
               "mrr": self.mrr, "answered": self.answered, "abstain": self.abstained}
        if self.doc_r1 is not None:
            out |= {"doc_r1": self.doc_r1, "doc_r3": self.doc_r3, "doc_mrr": self.doc_mrr}
        return out


@dataclass(frozen=True)
class Report:
    overall: Metrics
    by_lang: dict[str, Metrics]
    by_kind: dict[str, Metrics]
    outcomes: tuple[Outcome, ...] = field(repr=False, default=())

    def misses(self) -> list[Outcome]:
        """Answerable questions not found at rank 1 (passage or document), and unanswerable ones answered anyway."""
        return [o for o in self.outcomes
                if (o.question.gold and o.rank != 1) or (o.question.gold_doc and o.doc_rank != 1)
                or (not o.question.answerable and o.answered)]

    def to_dict(self) -> dict:
        return {"overall": self.overall.to_dict(),
                "by_lang": {k: m.to_dict() for k, m in self.by_lang.items()},
                "by_kind": {k: m.to_dict() for k, m in self.by_kind.items()},
                "misses": [{"id": o.question.id, "question": o.question.question, "rank": o.rank,
                            **({"doc_rank": o.doc_rank} if o.question.gold_doc else {}),
                            "answered": o.answered, "top": o.top_text} for o in self.misses()]}


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def parse_questions(lines: Iterable[str], source: str = "questions") -> list[Question]:
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            try:
                row = json.loads(line)
            except ValueError as e:
                raise ValueError(f"not JSON ({getattr(e, 'msg', e)})") from None
            if not isinstance(row, dict):
                raise TypeError("not a JSON object")
            if "question" not in row:
                raise KeyError("it has no \"question\"")
            if isinstance(row["question"], str) and not row["question"].strip():
                raise ValueError("its question is empty")
            gold = row.get("gold", [])
            gold_doc = row.get("gold_doc") or ""
            if not isinstance(row["question"], str) or not isinstance(gold, list) \
                    or not all(isinstance(g, str) for g in gold):
                raise TypeError("question must be text and gold a list of text")
            if not isinstance(gold_doc, str):
                raise TypeError("gold_doc must be a document id")
            out.append(Question(id=str(row.get("id", number)), question=row["question"],
                                gold=tuple(g for g in gold if g.strip()), lang=str(row.get("lang", "?")),
                                kind=str(row.get("kind", "?")), gold_doc=gold_doc.strip()))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            reason = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise QuestionFileError(f"{source} line {number} is not a question "
                                    f'{{"question": str, "gold": [str, ...], "gold_doc": str}}: {reason}') from None
    if not out:
        raise QuestionFileError(f"{source} holds no question")
    return out


def load_questions(path: Path) -> list[Question]:
    try:
        text = Path(path).read_text("utf-8")
    except UnicodeDecodeError as e:
        raise QuestionFileError(f"cannot read {path}: it is not UTF-8 text (byte {e.start}); a question file "
                                "holds one JSON object per line") from None
    except OSError as e:
        raise QuestionFileError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_questions(text.splitlines(), str(path))


def gold_rank(gold: Sequence[str], passage_texts: Sequence[str], seen: int = RANKS_SEEN) -> int | None:
    wanted = [norm(g) for g in gold]
    for rank, text in enumerate(passage_texts[:seen], start=1):
        text = norm(text)
        if any(g in text for g in wanted):
            return rank
    return None


def doc_rank(gold_doc: str, doc_ids: Sequence[str], seen: int = RANKS_SEEN) -> int | None:
    return next((rank for rank, doc in enumerate(doc_ids[:seen], start=1) if doc == gold_doc), None)


def outcome(question: Question, passage_texts: Sequence[str], answered: bool,
            doc_ids: Sequence[str] = ()) -> Outcome:
    """`doc_ids`: the document of each passage, in the same order (needed for document-level figures)."""
    rank = gold_rank(question.gold, passage_texts) if question.gold else None
    in_doc = doc_rank(question.gold_doc, doc_ids) if question.gold_doc else None
    return Outcome(question, rank, answered, passage_texts[0] if passage_texts else "", in_doc)


def metrics(outcomes: Sequence[Outcome]) -> Metrics:
    answerable = [o for o in outcomes if o.question.answerable]
    absent = [o for o in outcomes if not o.question.answerable]
    found = [o.rank for o in outcomes if o.question.gold]
    in_doc = [o.doc_rank for o in outcomes if o.question.gold_doc]

    def share(count: float, total: int) -> float | None:
        return round(count / total, 4) if total else None

    def at(ranks: list[int | None], k: int) -> float | None:
        return share(sum(r is not None and r <= k for r in ranks), len(ranks))

    def mrr(ranks: list[int | None]) -> float | None:
        return share(sum(1 / r for r in ranks if r), len(ranks))

    return Metrics(
        answerable=len(answerable), unanswerable=len(absent),
        r1=at(found, 1), r3=at(found, 3), mrr=mrr(found),
        answered=share(sum(o.answered for o in answerable), len(answerable)),
        abstained=share(sum(not o.answered for o in absent), len(absent)),
        doc_r1=at(in_doc, 1), doc_r3=at(in_doc, 3), doc_mrr=mrr(in_doc),
    )


def report(outcomes: Sequence[Outcome]) -> Report:
    def grouped(key) -> dict[str, Metrics]:
        groups: dict[str, list[Outcome]] = {}
        for o in outcomes:
            groups.setdefault(key(o.question), []).append(o)
        return {name: metrics(group) for name, group in sorted(groups.items())}

    return Report(metrics(outcomes), grouped(lambda q: q.lang), grouped(lambda q: q.kind), tuple(outcomes))


def _figure(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def format_report(rep: Report, verbose: bool = False) -> str:
    by_doc = rep.overall.doc_r1 is not None  # the set names documents: document-level columns too
    head = f"{'':20} {'n':>3} {'R@1':>6} {'R@3':>6} {'MRR':>6} {'answered':>8} {'abstain':>8}"
    if by_doc:
        head += f" {'docR@1':>7} {'docR@3':>7} {'docMRR':>7}"

    def row(name: str, m: Metrics) -> str:
        n = m.answerable + m.unanswerable
        line = (f"{name:20} {n:>3} {_figure(m.r1):>6} {_figure(m.r3):>6} {_figure(m.mrr):>6} "
                f"{_figure(m.answered):>8} {_figure(m.abstained):>8}")
        if by_doc:
            line += f" {_figure(m.doc_r1):>7} {_figure(m.doc_r3):>7} {_figure(m.doc_mrr):>7}"
        return line

    lines = [head, row("all", rep.overall)]
    lines += [row(f"lang={k}", m) for k, m in rep.by_lang.items()]
    lines += [row(f"kind={k}", m) for k, m in rep.by_kind.items()]
    o = rep.overall
    lines.append(f"R@1={_figure(o.r1)} R@3={_figure(o.r3)} MRR={_figure(o.mrr)} "
                 f"answered={_figure(o.answered)} abstain={_figure(o.abstained)}"
                 + (f" docR@1={_figure(o.doc_r1)} docR@3={_figure(o.doc_r3)} docMRR={_figure(o.doc_mrr)}"
                    if by_doc else ""))
    if verbose:
        misses = rep.misses()
        lines.append(f"misses ({len(misses)}):")
        for m in misses:
            q = m.question
            what = "answered-unanswerable" if not q.answerable else \
                " ".join(([f"rank={m.rank}"] if q.gold else []) + ([f"doc_rank={m.doc_rank}"] if q.gold_doc else []))
            answered = "" if not q.answerable else (" answered" if m.answered else " abstained")
            top = " ".join(m.top_text.split())[:90]
            lines.append(f"  {q.id} {what}{answered} q={q.question!r} top={top!r}")
    return "\n".join(lines)
