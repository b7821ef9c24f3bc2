"""The bot's only way to the answers store: never on the event loop, and never at the cost of an answer.

Writes (answers, votes) go to one writer thread, in order; a write that fails (another process
holds the file locked, a full disk) is logged and retried with backoff until it succeeds, while
the answer has long been delivered. Reads run in a worker thread with a deadline short enough
for Discord's 3-second window; a read that cannot finish in time is reported as `StoreBusy`.
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

from index.model import Answer

from .answers_store import AnswersStore, StoredAnswer

log = logging.getLogger(__name__)

READ_DEADLINE = 2.0  # seconds; leaves time to reply within Discord's 3 s
FIRST_RETRY = 0.25
MAX_RETRY = 5.0
WRITE_BUSY_TIMEOUT = 1.0  # SQLite's own wait for a lock, per attempt (in the writer thread)


class StoreBusy(Exception):
    """The store could not answer in time (locked by another process, or failing)."""


@dataclass
class _Write:
    what: str  # for the logs: "answer #12", "vote on #12"
    run: Callable[[AnswersStore], Any]
    answer_id: int | None = None
    failures: int = 0
    first_failure: float = 0.0


@dataclass
class PendingAnswer:
    """An answer delivered but not stored yet."""

    id: int
    guild_id: int | None
    channel_id: int


class AnswersKeeper:
    def __init__(self, path: Path, read_deadline: float = READ_DEADLINE):
        self.store = AnswersStore(path, busy_timeout=WRITE_BUSY_TIMEOUT)
        self.read_deadline = read_deadline
        self._queue: "queue.Queue[_Write | None]" = queue.Queue()
        self._pending: dict[int, PendingAnswer] = {}
        self._pending_lock = threading.Lock()
        self._outstanding = 0  # queued or being written
        self._idle = threading.Condition()
        self._stop_retrying = threading.Event()
        self._thread = threading.Thread(target=self._write_forever, name="verbatim-store-writer", daemon=True)
        self._thread.start()

    # ----- writes -----------------------------------------------------------------------------

    def reserve_id(self) -> int:
        return self.store.reserve_id()

    def save_answer(self, answer_id: int, answer: Answer, *, guild_id: int | None, channel_id: int,
                    asker_id: int, asker_name: str) -> None:
        """Queue the answer for storing; returns at once (the caller delivers it meanwhile)."""
        created = time.time()
        with self._pending_lock:
            self._pending[answer_id] = PendingAnswer(answer_id, guild_id, channel_id)
        self._put(_Write(f"answer #{answer_id}", lambda s: s.add(
            answer, guild_id=guild_id, channel_id=channel_id, asker_id=asker_id, asker_name=asker_name,
            answer_id=answer_id, created_at=created), answer_id))

    def save_vote(self, answer_id: int, user_id: int, vote: int) -> None:
        at = time.time()
        self._put(_Write(f"vote on answer #{answer_id}", lambda s: s.set_feedback(answer_id, user_id, vote, at)))

    def _put(self, write: _Write) -> None:
        with self._idle:
            self._outstanding += 1
        self._queue.put(write)

    def is_pending(self, answer_id: int) -> bool:
        with self._pending_lock:
            return answer_id in self._pending

    def latest_pending_in(self, channel_id: int) -> int | None:
        with self._pending_lock:
            ids = [p.id for p in self._pending.values() if p.channel_id == channel_id]
        return max(ids, default=None)

    def _write_forever(self) -> None:
        while True:
            write = self._queue.get()
            if write is None:
                return
            self._write_until_done(write)
            with self._idle:
                self._outstanding -= 1
                self._idle.notify_all()

    def _write_until_done(self, write: _Write) -> None:
        delay = FIRST_RETRY
        while True:
            try:
                write.run(self.store)
            except (sqlite3.Error, OSError) as e:
                write.failures += 1
                if write.failures == 1:
                    write.first_failure = time.monotonic()
                    log.warning("%s delivered but not stored yet (%s); retrying in the background", write.what, e)
                if self._stop_retrying.wait(delay):
                    log.error("%s was never stored (%s): the bot stopped first", write.what, e)
                    return
                delay = min(MAX_RETRY, delay * 2)
                continue
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
        if not self.flush(timeout):
            with self._pending_lock:
                lost = len(self._pending)
            log.error("stopping with %d write(s) not stored, %d of them answers: the answers store stayed "
                      "unavailable", self._outstanding, lost)
        self._stop_retrying.set()
        self._queue.put(None)
        self._thread.join(timeout=2 * WRITE_BUSY_TIMEOUT + 1)
        self.store.close()

    # ----- reads -------------------------------------------------------------------------------

    async def _read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), self.read_deadline)
        except (asyncio.TimeoutError, sqlite3.Error, OSError) as e:
            log.warning("answers store read failed (%s)", e.__class__.__name__ if isinstance(e, asyncio.TimeoutError)
                        else e)
            raise StoreBusy(str(e)) from None

    async def get(self, answer_id: int) -> StoredAnswer | None:
        return await self._read(self.store.get, answer_id)

    async def latest_in_channel(self, channel_id: int) -> StoredAnswer | None:
        return await self._read(self.store.latest_in_channel, channel_id)

    async def recent(self, **kwargs: Any) -> list[tuple[int, str]]:
        return await self._read(self.store.recent, **kwargs)
