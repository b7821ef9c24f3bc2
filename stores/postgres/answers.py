"""Answers, the passages they quoted, and votes, in PostgreSQL: what `/source` and the buttons read.

The same methods and meaning as the bot's SQLite `AnswersStore`, so the bot's keeper (writer thread,
read deadlines) drives either. What differs is where numbers come from: the database's identity
sequence, so two processes never hand out the same number and `/source 7` finds answer 7 whichever
process gave it. An answer is stored whole (`answer_json`, the shared JSON of index/answer_json.py)
plus one `answer_quotes` row per quoted passage.
Blocking: call from threads. Connection trouble raises `index.errors.DatabaseUnavailable`.
"""
from __future__ import annotations

import json
import time

from index.answer_json import StoredAnswer, answer_from_json, answer_to_json
from index.model import Answer

from .connections import Connections
from .schema import SCHEMA

_SELECT = (f"SELECT id, extract(epoch FROM created_at)::float8, guild_id, channel_id, asker_id, asker_name,"
           f" answer_json FROM {SCHEMA}.answers")


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL (a raw API call can send one): a stored copy shows U+FFFD instead,
    rather than a write that fails forever and holds up the ones queued behind it."""
    return value.replace("\x00", "\ufffd")


class PgAnswersStore:
    def __init__(self, connections: Connections):
        self._db = connections

    def reserve_id(self) -> int:
        """A number no process has used or will use (the table's own sequence)."""
        return self._db.run(lambda c: int(c.execute(
            f"SELECT nextval(pg_get_serial_sequence('{SCHEMA}.answers', 'id'))").fetchone()[0]))

    def add(self, answer: Answer, *, guild_id: int | None, channel_id: int, asker_id: int, asker_name: str,
            answer_id: int | None = None, created_at: float | None = None) -> int:
        """Store an answer under `answer_id` (reserved earlier) or a new number; storing it twice is a no-op."""
        answer_id = self.reserve_id() if answer_id is None else answer_id
        blob = json.dumps(answer_to_json(answer)).replace("\\u0000", "\\ufffd")
        quotes = [(answer_id, h.rank, h.passage.id, h.passage.location.doc_id, h.passage.location.start,
                   h.passage.location.end, h.score, _text(h.passage.text)) for h in answer.quoted]

        def work(conn) -> None:
            with conn.transaction():
                added = conn.execute(
                    f"INSERT INTO {SCHEMA}.answers (id, created_at, guild_id, channel_id, asker_id, asker_name,"
                    " question, language, answered, build_id, took_ms, answer_json)"
                    " VALUES (%s, to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                    " ON CONFLICT (id) DO NOTHING RETURNING id",
                    (answer_id, created_at or time.time(), guild_id, channel_id, asker_id, _text(asker_name),
                     _text(answer.question), answer.language, answer.answered, answer.build_id, answer.took_ms,
                     blob)).fetchone()
                if added and quotes:
                    with conn.cursor() as cur:
                        cur.executemany(
                            f"INSERT INTO {SCHEMA}.answer_quotes (answer_id, rank, passage_id, doc_id, start_at,"
                            " end_at, score, text) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", quotes)

        self._db.run(work)
        return answer_id

    def _one(self, sql: str, params: tuple) -> StoredAnswer | None:
        row = self._db.run(lambda c: c.execute(sql, params).fetchone())
        return _row(row)

    def get(self, answer_id: int) -> StoredAnswer | None:
        return self._one(_SELECT + " WHERE id = %s", (answer_id,))

    def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        return self._one(_SELECT + " WHERE channel_id = %s ORDER BY id DESC LIMIT 1", (channel_id,))

    def recent(self, *, channel_id: int, guild_id: int | None, query: str = "", limit: int = 25) -> list[tuple[int, str]]:
        """(id, question) of recent answers in this channel first, then this guild, matching `query`
        (case-insensitive, in the question or the number, like SQLite's LIKE)."""
        like = f"%{_text(query.strip())}%"
        rows = self._db.run(lambda c: c.execute(
            f"SELECT id, question FROM {SCHEMA}.answers WHERE (channel_id = %s OR guild_id = %s)"
            " AND (question ILIKE %s OR id::text LIKE %s)"
            " ORDER BY (channel_id = %s) DESC, id DESC LIMIT %s",
            (channel_id, guild_id, like, like, channel_id, limit)).fetchall())
        return [(int(i), q) for i, q in rows]

    def set_feedback(self, answer_id: int, user_id: int, vote: int, at: float | None = None) -> None:
        self._db.run(lambda c: c.execute(
            f"INSERT INTO {SCHEMA}.feedback (answer_id, user_id, vote, at) VALUES (%s, %s, %s, to_timestamp(%s))"
            " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at",
            (answer_id, user_id, vote, at or time.time())))

    def feedback(self, answer_id: int) -> dict[int, int]:
        rows = self._db.run(lambda c: c.execute(
            f"SELECT user_id, vote FROM {SCHEMA}.feedback WHERE answer_id = %s", (answer_id,)).fetchall())
        return {int(u): int(v) for u, v in rows}

    def count(self) -> int:
        return int(self._db.run(lambda c: c.execute(f"SELECT count(*) FROM {SCHEMA}.answers").fetchone()[0]))

    def close(self) -> None:
        """Nothing of its own to close: the connections belong to the SharedState (closed with it)."""


def _row(row) -> StoredAnswer | None:
    if row is None:
        return None
    id_, created, guild, channel, asker, name, data = row  # psycopg gives jsonb as Python objects
    return StoredAnswer(int(id_), float(created), None if guild is None else int(guild), int(channel), int(asker),
                        name, answer_from_json(data))
