"""Scores answers against a question set: recall at 1 and 3, MRR, answered and abstain rates.

Pure functions over questions and answers, so `verbatim eval` and the tests share one definition of
"found". It matches `../shared/eval/score.py`: a question is found at rank r when one of its gold
substrings occurs in the r-th passage's text, both sides normalised (NFKC, curly quotes folded, case
and whitespace folded). A question with no gold is unanswerable: the right outcome is an abstention.
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

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


@dataclass(frozen=True)
class Outcome:
    """What one question got: the rank of the first passage holding a gold substring, and whether it answered."""

    question: Question
    rank: int | None  # 1-based; None when no gold in the passages seen (always None when unanswerable)
    answered: bool
    top_text: str = ""


@dataclass(frozen=True)
class Metrics:
    answerable: int
    unanswerable: int
    r1: float | None
    r3: float | None
    mrr: float | None
    answered: float | None  # share of answerable questions answered
    abstained: float | None  # share of unanswerable questions abstained

    def to_dict(self) -> dict:
        return {"answerable": self.answerable, "unanswerable": self.unanswerable, "r1": self.r1, "r3": self.r3,
                "mrr": self.mrr, "answered": self.answered, "abstain": self.abstained}


@dataclass(frozen=True)
class Report:
    overall: Metrics
    by_lang: dict[str, Metrics]
    by_kind: dict[str, Metrics]
    outcomes: tuple[Outcome, ...] = field(repr=False, default=())

    def misses(self) -> list[Outcome]:
        """Answerable questions not found at rank 1, and unanswerable ones that were answered anyway."""
        return [o for o in self.outcomes
                if (o.question.answerable and o.rank != 1) or (not o.question.answerable and o.answered)]

    def to_dict(self) -> dict:
        return {"overall": self.overall.to_dict(),
                "by_lang": {k: m.to_dict() for k, m in self.by_lang.items()},
                "by_kind": {k: m.to_dict() for k, m in self.by_kind.items()},
                "misses": [{"id": o.question.id, "question": o.question.question, "rank": o.rank,
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
            row = json.loads(line)
            gold = row.get("gold", [])
            if not isinstance(row["question"], str) or not isinstance(gold, list) \
                    or not all(isinstance(g, str) for g in gold):
                raise TypeError("question must be text and gold a list of text")
            out.append(Question(id=str(row.get("id", number)), question=row["question"],
                                gold=tuple(g for g in gold if g.strip()), lang=str(row.get("lang", "?")),
                                kind=str(row.get("kind", "?"))))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise QuestionFileError(f"{source} line {number} is not a question "
                                    f'{{"question": str, "gold": [str, ...]}}: {e}') from None
    if not out:
        raise QuestionFileError(f"{source} holds no question")
    return out


def load_questions(path: Path) -> list[Question]:
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionFileError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    return parse_questions(text.splitlines(), str(path))


def gold_rank(gold: Sequence[str], passage_texts: Sequence[str], seen: int = RANKS_SEEN) -> int | None:
    wanted = [norm(g) for g in gold]
    for rank, text in enumerate(passage_texts[:seen], start=1):
        text = norm(text)
        if any(g in text for g in wanted):
            return rank
    return None


def outcome(question: Question, passage_texts: Sequence[str], answered: bool) -> Outcome:
    rank = gold_rank(question.gold, passage_texts) if question.answerable else None
    return Outcome(question, rank, answered, passage_texts[0] if passage_texts else "")


def metrics(outcomes: Sequence[Outcome]) -> Metrics:
    found = [o for o in outcomes if o.question.answerable]
    absent = [o for o in outcomes if not o.question.answerable]
    n = len(found)

    def share(count: float, total: int) -> float | None:
        return round(count / total, 4) if total else None

    return Metrics(
        answerable=n, unanswerable=len(absent),
        r1=share(sum(o.rank == 1 for o in found), n),
        r3=share(sum(o.rank is not None and o.rank <= 3 for o in found), n),
        mrr=share(sum(1 / o.rank for o in found if o.rank), n),
        answered=share(sum(o.answered for o in found), n),
        abstained=share(sum(not o.answered for o in absent), len(absent)),
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
    head = f"{'':20} {'n':>3} {'R@1':>6} {'R@3':>6} {'MRR':>6} {'answered':>8} {'abstain':>8}"

    def row(name: str, m: Metrics) -> str:
        n = m.answerable + m.unanswerable
        return (f"{name:20} {n:>3} {_figure(m.r1):>6} {_figure(m.r3):>6} {_figure(m.mrr):>6} "
                f"{_figure(m.answered):>8} {_figure(m.abstained):>8}")

    lines = [head, row("all", rep.overall)]
    lines += [row(f"lang={k}", m) for k, m in rep.by_lang.items()]
    lines += [row(f"kind={k}", m) for k, m in rep.by_kind.items()]
    o = rep.overall
    lines.append(f"R@1={_figure(o.r1)} R@3={_figure(o.r3)} MRR={_figure(o.mrr)} "
                 f"answered={_figure(o.answered)} abstain={_figure(o.abstained)}")
    if verbose:
        misses = rep.misses()
        lines.append(f"misses ({len(misses)}):")
        for m in misses:
            q = m.question
            what = "answered-unanswerable" if not q.answerable else f"rank={m.rank}"
            answered = "" if not q.answerable else (" answered" if m.answered else " abstained")
            top = " ".join(m.top_text.split())[:90]
            lines.append(f"  {q.id} {what}{answered} q={q.question!r} top={top!r}")
    return "\n".join(lines)
