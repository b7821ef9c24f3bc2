"""The bot's only way to the answers store: never on the event loop, and never at the cost of an answer.

Writes (answers, votes) go to one writer thread, in order; a write that fails (another process
holds the file locked, a full disk, the shared database down) is logged and retried with backoff until
it succeeds, while the answer has long been delivered. Writes still not done when the bot stops are kept in
`unsaved-answers-<pid>.jsonl` next to the database (owner-only; `unsaved_answers`: one file per process,
claimed by one process only) and stored at the next start. Reads run in a worker thread with a deadline short enough
for Discord's 3-second window; a read that cannot finish in time is reported as `StoreBusy`.
The store is the SQLite file by default, or the shared one on PostgreSQL (`stores.open_shared_state`),
whose answer numbers come from the database: `new_id` then asks it in a thread, with the same deadline.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from index.answer_json import StoredAnswer, answer_from_json, answer_to_json
from index.errors import DatabaseUnavailable
from index.model import Answer

from . import unsaved_answers
from .answers_store import AnswersStore

log = logging.getLogger(__name__)

READ_DEADLINE = 2.0  # seconds; leaves time to reply within Discord's 3 s
FIRST_RETRY = 0.25
MAX_RETRY = 5.0
WRITE_BUSY_TIMEOUT = 1.0  # SQLite's own wait for a lock, per attempt (in the writer thread)
# Failures that pass (a lock, a full disk, a database that is down): the write is retried until it succeeds.
PASSING_FAILURES = (sqlite3.Error, OSError, DatabaseUnavailable)


class StoreBusy(Exception):
    """The store could not answer in time (locked by another process, or failing)."""


@dataclass
class _Write:
    """One answer or vote to store, as a JSON-able record (so it can outlive the process if it must)."""

    record: dict
    failures: int = 0
    first_failure: float = 0.0

    @property
    def answer_id(self) -> int | None:
        return self.record["id"] if self.record["kind"] == "answer" else None

    @property
    def what(self) -> str:  # for the logs
        if self.record["kind"] == "answer":
            return f"answer #{self.record['id']}"
        return f"vote on answer #{self.record['answer_id']}"

    def run(self, store: "AnswersStore") -> None:
        r = self.record
        if r["kind"] == "answer":
            store.add(answer_from_json(r["answer"]), guild_id=r["guild_id"], channel_id=r["channel_id"],
                      asker_id=r["asker_id"], asker_name=r["asker_name"], answer_id=r["id"], created_at=r["at"])
        else:
            store.set_feedback(r["answer_id"], r["user_id"], r["vote"], r["at"])


@dataclass
class PendingAnswer:
    """An answer delivered but not stored yet: kept in memory until it is, so its Sources button and
    `/source` work at once, even while another process holds the database locked."""

    id: int
    guild_id: int | None
    channel_id: int
    stored: StoredAnswer


class AnswersKeeper:
    def __init__(self, path: Path, read_deadline: float = READ_DEADLINE, store=None):
        """`path`: the SQLite file (`unsaved-answers-<pid>.jsonl` goes beside it); `store`: a shared store with
        the same methods to use instead of that file."""
        self.remote = store is not None
        self.store = store if store is not None else AnswersStore(path, busy_timeout=WRITE_BUSY_TIMEOUT)
        self.read_deadline = read_deadline
        self._queue: "queue.Queue[_Write | None]" = queue.Queue()
        self._pending: dict[int, PendingAnswer] = {}
        self._pending_lock = threading.Lock()
        self._outstanding = 0  # queued or being written
        self._idle = threading.Condition()
        self._stop_retrying = threading.Event()
        self._given_up: list[_Write] = []
        self.replayed = 0
        self.unsaved_path = unsaved_answers.own_path(path.parent)
        self._thread = threading.Thread(target=self._write_forever, name="verbatim-store-writer", daemon=True)
        self._thread.start()
        self._load_unsaved()

    # ----- writes -----------------------------------------------------------------------------

    def reserve_id(self) -> int:
        return self.store.reserve_id()

    async def new_id(self) -> int:
        """A number for an answer about to be delivered: at once from the SQLite store's counter, from the
        shared database in a thread otherwise (StoreBusy if it does not answer in time)."""
        if not self.remote:
            return self.store.reserve_id()
        return await self._read(self.store.reserve_id)

    def save_answer(self, answer_id: int, answer: Answer, *, guild_id: int | None, channel_id: int,
                    asker_id: int, asker_name: str) -> None:
        """Queue the answer for storing; returns at once (the caller delivers it meanwhile)."""
        self._put(_Write({"kind": "answer", "id": answer_id, "at": time.time(), "guild_id": guild_id,
                          "channel_id": channel_id, "asker_id": asker_id, "asker_name": asker_name,
                          "answer": answer_to_json(answer)}))

    def save_vote(self, answer_id: int, user_id: int, vote: int) -> None:
        self._put(_Write({"kind": "vote", "answer_id": answer_id, "user_id": user_id, "vote": vote,
                          "at": time.time()}))

    def _put(self, write: _Write) -> None:
        r = write.record
        if r["kind"] == "answer":
            with self._pending_lock:
                stored = StoredAnswer(r["id"], r["at"], r["guild_id"], r["channel_id"], r["asker_id"],
                                      r["asker_name"], answer_from_json(r["answer"]))
                self._pending[r["id"]] = PendingAnswer(r["id"], r["guild_id"], r["channel_id"], stored)
        with self._idle:
            self._outstanding += 1
        self._queue.put(write)

    def is_pending(self, answer_id: int) -> bool:
        return self.pending(answer_id) is not None

    def pending(self, answer_id: int) -> PendingAnswer | None:
        with self._pending_lock:
            return self._pending.get(answer_id)

    def latest_pending_in(self, channel_id: int) -> int | None:
        with self._pending_lock:
            ids = [p.id for p in self._pending.values() if p.channel_id == channel_id]
        return max(ids, default=None)

    def _write_forever(self) -> None:
        while True:
            write = self._queue.get()
            if write is None:
                return
            if self._stop_retrying.is_set():  # stopping: keep the rest for the next start
                self._given_up.append(write)
            else:
                self._write_until_done(write)
            with self._idle:
                self._outstanding -= 1
                self._idle.notify_all()

    def _write_until_done(self, write: _Write) -> None:
        delay = FIRST_RETRY
        while True:
            try:
                write.run(self.store)
            except PASSING_FAILURES as e:
                write.failures += 1
                if write.failures == 1:
                    write.first_failure = time.monotonic()
                    log.warning("%s delivered but not stored yet (%s); retrying in the background", write.what, e)
                if self._stop_retrying.wait(delay):
                    self._given_up.append(write)
                    return
                delay = min(MAX_RETRY, delay * 2)
                continue
            except Exception:  # it would fail again every time: retrying would hold up every write behind it
                log.exception("%s could not be stored and is dropped", write.what)
                if write.answer_id is not None:
                    with self._pending_lock:
                        self._pending.pop(write.answer_id, None)
                return
            if write.failures:
                log.info("%s stored after %d failed attempt(s), %.1f s late", write.what, write.failures,
                         time.monotonic() - write.first_failure)
            if write.answer_id is not None:
                with self._pending_lock:
                    self._pending.pop(write.answer_id, None)
            return

    def flush(self, timeout: float) -> bool:
        """Wait (blocking; call it in a thread) until every queued write is stored; False if time ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def close(self, timeout: float = 1.0) -> None:
        """Store what can be stored within `timeout`, then stop the writer and close the file."""
        flushed = self.flush(timeout)
        self._stop_retrying.set()
        self._queue.put(None)
        self._thread.join(timeout=2 * WRITE_BUSY_TIMEOUT + 1)
        if not flushed:
            self._keep_unsaved()
        self.store.close()

    def _keep_unsaved(self) -> None:
        """The store stayed unavailable: keep what was not written for the next start."""
        left = list(self._given_up)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(item)
        if not left:
            return
        try:
            unsaved_answers.keep(self.unsaved_path, [w.record for w in left])  # appended: earlier leftovers stay
            log.error("the answers store stayed unavailable: %d write(s) kept in %s, stored at the next start",
                      len(left), self.unsaved_path)
        except OSError as e:
            log.error("the answers store stayed unavailable and %d write(s) could not be kept either (%s)",
                      len(left), e)

    def _load_unsaved(self) -> None:
        """Queue what earlier runs (of any process sharing the directory, now gone) could not store;
        storing twice is a no-op, but each file is claimed by one process only."""
        records, claimed = unsaved_answers.claim(self.unsaved_path.parent)
        self.replayed = len(records)  # for the log and the tests
        for record in records:
            self._put(_Write(record))
        unsaved_answers.forget(claimed)
        if claimed:
            log.info("storing %d write(s) kept from earlier runs (%d file(s))", len(records), len(claimed))

    # ----- reads -------------------------------------------------------------------------------

    async def _read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), self.read_deadline)
        except (asyncio.TimeoutError,) + PASSING_FAILURES as e:
            log.warning("answers store read failed (%s)", e.__class__.__name__ if isinstance(e, asyncio.TimeoutError)
                        else e)
            raise StoreBusy(str(e)) from None

    async def get(self, answer_id: int) -> StoredAnswer | None:
        return await self._read(self.store.get, answer_id)

    async def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        return await self._read(self.store.latest_in_channel, channel_id)

    async def recent(self, **kwargs: Any) -> list[tuple[int, str]]:
        return await self._read(self.store.recent, **kwargs)
