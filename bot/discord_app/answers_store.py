"""Answers kept in SQLite, so /source and the buttons work after a restart and after a rebuild.

An answer is stored whole (question, asker, where, every passage with its text, location, score
and highlight, the index build): rendering it later needs nothing from the live index.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from index.model import Answer, Hit, Location, Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    asker_id INTEGER NOT NULL,
    asker_name TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    answered INTEGER NOT NULL,
    build_id TEXT NOT NULL,
    took_ms REAL NOT NULL,
    answer_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_channel ON answers (channel_id, id);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    created_at: float
    guild_id: int | None
    channel_id: int
    asker_id: int
    asker_name: str
    answer: Answer


class AnswersStore:
    """A small synchronous store; calls are short, so the bot runs them inline under a lock."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, answer: Answer, *, guild_id: int | None, channel_id: int, asker_id: int, asker_name: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO answers (created_at, guild_id, channel_id, asker_id, asker_name, question, language,"
                " answered, build_id, took_ms, answer_json) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    time.time(), guild_id, channel_id, asker_id, asker_name, answer.question, answer.language,
                    int(answer.answered), answer.build_id, answer.took_ms, json.dumps(answer_to_json(answer)),
                ),
            )
            return int(cur.lastrowid)

    def get(self, answer_id: int) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE id = ?", (answer_id,)).fetchone()
        return _row(row)

    def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE channel_id = ? ORDER BY id DESC LIMIT 1", (channel_id,)).fetchone()
        return _row(row)

    def recent(self, *, channel_id: int, guild_id: int | None, query: str = "", limit: int = 25) -> list[tuple[int, str]]:
        """(id, question) of recent answers in this channel first, then this guild, matching `query`."""
        like = f"%{query.strip()}%"
        with self._lock:
            rows = self._db.execute(
                "SELECT id, question FROM answers WHERE (channel_id = ? OR (guild_id IS ? AND guild_id IS NOT NULL))"
                " AND (question LIKE ? OR CAST(id AS TEXT) LIKE ?)"
                " ORDER BY (channel_id = ?) DESC, id DESC LIMIT ?",
                (channel_id, guild_id, like, like, channel_id, limit),
            ).fetchall()
        return [(int(i), q) for i, q in rows]

    def set_feedback(self, answer_id: int, user_id: int, vote: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, at) VALUES (?,?,?,?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at",
                (answer_id, user_id, vote, time.time()),
            )

    def feedback(self, answer_id: int) -> dict[int, int]:
        with self._lock:
            rows = self._db.execute("SELECT user_id, vote FROM feedback WHERE answer_id = ?", (answer_id,)).fetchall()
        return {int(u): int(v) for u, v in rows}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])


_SELECT = "SELECT id, created_at, guild_id, channel_id, asker_id, asker_name, answer_json FROM answers"


def _row(row) -> StoredAnswer | None:
    if row is None:
        return None
    id_, created, guild, channel, asker, name, blob = row
    return StoredAnswer(int(id_), float(created), guild, int(channel), int(asker), name, answer_from_json(json.loads(blob)))


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
