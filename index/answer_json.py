"""An Answer as JSON and back, and an answer as a store gives it back: shared by every answers store.

The bot's SQLite store and the PostgreSQL one (stores/postgres) keep an answer whole, as this JSON
(question, every passage with its text, location, score and highlight, the index build), so showing
its sources later needs nothing from the live index, and both stores read each other's rows alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Answer, Hit, Location, Passage


@dataclass(frozen=True)
class StoredAnswer:
    """An answer with who asked it and where (plain ids: a server, a channel, a user)."""

    id: int
    created_at: float
    guild_id: int | None
    channel_id: int
    asker_id: int
    asker_name: str
    answer: Answer


def answer_to_json(answer: Answer) -> dict:
    def hit(h: Hit) -> dict:
        p = h.passage
        return {"rank": h.rank, "score": h.score, "highlight": list(h.highlight),
                "passage": {"id": p.id, "text": p.text, "location": p.location.to_dict()}}

    return {
        "question": answer.question, "language": answer.language, "answered": answer.answered,
        "hits": [hit(h) for h in answer.hits], "quoted": [hit(h) for h in answer.quoted],
        "build_id": answer.build_id, "took_ms": answer.took_ms, "scope": answer.scope,
        "article_id": answer.article_id,
    }


def answer_from_json(data: dict) -> Answer:
    def hit(d: dict) -> Hit:
        p = d["passage"]
        known = {f for f in Location.__dataclass_fields__}
        loc = Location(**{k: v for k, v in p["location"].items() if k in known})
        return Hit(d["rank"], d["score"], Passage(p["id"], p["text"], loc), tuple(d["highlight"]))

    return Answer(
        question=data["question"], language=data["language"], answered=data["answered"],
        hits=tuple(hit(h) for h in data["hits"]), quoted=tuple(hit(h) for h in data["quoted"]),
        build_id=data["build_id"], took_ms=data.get("took_ms", 0.0), scope=data.get("scope", "all"),
        article_id=data.get("article_id"),
    )
