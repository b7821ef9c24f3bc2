"""Answers kept in SQLite, so /source and the buttons work after a restart and after a rebuild.

An answer is stored whole (question, asker, where, every passage with its text, location, score
and highlight, the index build): rendering it later needs nothing from the live index.
The file is owner-only (0600, and so are its -wal and -shm): it holds user ids, names and questions.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from index.answer_json import StoredAnswer, answer_from_json, answer_to_json  # noqa: F401 (re-exported)
from index.model import Answer
from index.private_files import narrow_if_exists, private_file

log = logging.getLogger(__name__)

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


class AnswersStore:
    """Blocking and thread-safe: the bot calls it from threads only (see `answers_keeper`), tests directly.

    Two connections, so a write waiting on another process's lock never holds up a read (WAL lets
    readers go on meanwhile). Answer ids are handed out here, not by SQLite, so an answer can be
    shown with its number before it is stored. A database file deleted while the bot runs is
    noticed (its inode changes or its link count drops to 0) and recreated, with a warning.
    """

    def __init__(self, path: Path, busy_timeout: float = 5.0):
        self.path = path
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()  # opening, reopening and the id counter
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._open()
        self._next_id = self._highest_id() + 1

    # ----- the file -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=self._busy_timeout)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _open(self) -> None:
        private_file(self.path)  # owner-only before SQLite creates it; -wal and -shm inherit its mode
        for suffix in ("-wal", "-shm"):
            narrow_if_exists(self.path.with_name(self.path.name + suffix))
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        self._reader = self._connect()
        st = os.stat(self.path)
        self._identity = (st.st_dev, st.st_ino)

    def _highest_id(self) -> int:
        row = self._reader.execute(
            "SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM answers"
            " UNION ALL SELECT seq FROM sqlite_sequence WHERE name = 'answers')").fetchone()
        return int(row[0] or 0)

    def file_is_gone(self) -> bool:
        """True when the open file is no longer the one at `path` (deleted or replaced)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (st.st_dev, st.st_ino) != self._identity or st.st_nlink == 0

    def _reopen_if_gone(self) -> None:
        with self._lock:
            if not self.file_is_gone():
                return
            log.warning("%s was deleted while the bot ran; recreating it (answers stored before are gone, "
                        "new ones are kept)", self.path)
            with self._read_lock, self._write_lock:
                for db in (self._reader, self._writer):
                    try:
                        db.close()
                    except sqlite3.Error:
                        pass
                self._open()
                # Numbers keep counting from where they were, so no new answer takes an old one's number.
                self._writer.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('answers', ?)",
                                     (self._next_id - 1,))

    def reserve_id(self) -> int:
        with self._lock:
            answer_id, self._next_id = self._next_id, self._next_id + 1
            return answer_id

    def close(self) -> None:
        with self._lock, self._read_lock, self._write_lock:
            self._reader.close()
            self._writer.close()

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        self._reopen_if_gone()
        with self._write_lock:
            return self._writer.execute(sql, params)

    def _read(self, sql: str, params: tuple) -> list:
        self._reopen_if_gone()
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    # ----- answers and feedback ---------------------------------------------------------------------

    def add(self, answer: Answer, *, guild_id: int | None, channel_id: int, asker_id: int, asker_name: str,
            answer_id: int | None = None, created_at: float | None = None) -> int:
        """Store an answer under `answer_id` (reserved earlier) or a new number; storing it twice is a no-op."""
        answer_id = self.reserve_id() if answer_id is None else answer_id
        self._write(
            "INSERT OR IGNORE INTO answers (id, created_at, guild_id, channel_id, asker_id, asker_name, question,"
            " language, answered, build_id, took_ms, answer_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                answer_id, created_at or time.time(), guild_id, channel_id, asker_id, asker_name, answer.question,
                answer.language, int(answer.answered), answer.build_id, answer.took_ms,
                json.dumps(answer_to_json(answer)),
            ),
        )
        return answer_id

    def get(self, answer_id: int) -> StoredAnswer | None:
        rows = self._read(_SELECT + " WHERE id = ?", (answer_id,))
        return _row(rows[0] if rows else None)

    def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        rows = self._read(_SELECT + " WHERE channel_id = ? ORDER BY id DESC LIMIT 1", (channel_id,))
        return _row(rows[0] if rows else None)

    def recent(self, *, channel_id: int, guild_id: int | None, query: str = "", limit: int = 25) -> list[tuple[int, str]]:
        """(id, question) of recent answers in this channel first, then this guild, matching `query`."""
        like = f"%{query.strip()}%"
        rows = self._read(
            "SELECT id, question FROM answers WHERE (channel_id = ? OR (guild_id IS ? AND guild_id IS NOT NULL))"
            " AND (question LIKE ? OR CAST(id AS TEXT) LIKE ?)"
            " ORDER BY (channel_id = ?) DESC, id DESC LIMIT ?",
            (channel_id, guild_id, like, like, channel_id, limit),
        )
        return [(int(i), q) for i, q in rows]

    def set_feedback(self, answer_id: int, user_id: int, vote: int, at: float | None = None) -> None:
        self._write(
            "INSERT INTO feedback (answer_id, user_id, vote, at) VALUES (?,?,?,?)"
            " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at",
            (answer_id, user_id, vote, at or time.time()),
        )

    def feedback(self, answer_id: int) -> dict[int, int]:
        rows = self._read("SELECT user_id, vote FROM feedback WHERE answer_id = ?", (answer_id,))
        return {int(u): int(v) for u, v in rows}

    def count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM answers", ())[0][0])


_SELECT = "SELECT id, created_at, guild_id, channel_id, asker_id, asker_name, answer_json FROM answers"


def _row(row) -> StoredAnswer | None:
    if row is None:
        return None
    id_, created, guild, channel, asker, name, blob = row
    return StoredAnswer(int(id_), float(created), guild, int(channel), int(asker), name, answer_from_json(json.loads(blob)))

