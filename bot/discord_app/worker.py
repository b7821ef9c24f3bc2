"""One thread owns the Retriever: every encode, search and index refresh runs there, in order.

The event loop only awaits futures, so heartbeats keep flowing while questions are answered (the
encoder is C code called through ctypes, which releases the GIL), and the encoder (not known to
be thread-safe) is never used from two threads at once.
Questions that queue up while the worker is busy are answered together in one `ask_many` batch
(encoding a batch costs far less per question than one at a time).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)

WARM_UP_QUESTION = "De quoi parle l'article ?"
MAX_BATCH = 32


class RetrieverWorker:
    def __init__(self, open_retriever: Callable[[], Any], max_batch: int = MAX_BATCH):
        """`open_retriever` is called once, in the worker thread (loading the model takes seconds)."""
        self._open = open_retriever
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-retriever")
        self._retriever: Any = None
        self._queue: list[tuple[str, str, asyncio.Future, str | None]] = []
        self._draining = False
        self._max_batch = max_batch
        self.answered = 0
        self.batches = 0

    @property
    def pending(self) -> int:
        """Questions waiting for the worker (a load figure for logs and the health file)."""
        return len(self._queue)

    async def _run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _retriever_now(self):
        if self._retriever is None:
            self._retriever = self._open()
        return self._retriever

    async def start(self) -> str:
        """Open the retriever and warm the encoder up (the first encode is slow); returns the build id."""
        def go() -> str:
            r = self._retriever_now()
            r.ask(WARM_UP_QUESTION)
            return r.build_id

        return await self._run(go)

    async def ask(self, question: str, scope: str = "all", article: str | None = None):
        future = asyncio.get_running_loop().create_future()
        self._queue.append((question, scope, future, article))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Hand queued questions to the worker thread, a batch at a time, until none are left."""
        try:
            while self._queue:
                batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
                try:
                    results = await self._run(lambda b=batch: self._answer_batch([(q, (s, a)) for q, s, _, a in b]))
                except Exception as e:  # the executor itself failed (shutting down)
                    results = [e] * len(batch)
                self.batches += 1
                for (_, _, future, _), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        self.answered += 1
                        future.set_result(result)
        finally:
            self._draining = False

    def _answer_batch(self, items: list[tuple[str, tuple[str, str | None]]]) -> list:
        """In the worker thread: one Answer (or the exception it raised) per question, in order.

        Each item is (question, (scope, article)): one batch per scope and article."""
        r = self._retriever_now()
        results: list = [None] * len(items)
        if len(items) > 1:
            by_scope: dict[tuple[str, str | None], list[int]] = {}
            for i, (_, scope) in enumerate(items):
                by_scope.setdefault(scope, []).append(i)
            for scope, idx in by_scope.items():
                try:
                    for i, answer in zip(idx, r.ask_many([items[i][0] for i in idx], scope=scope[0], article=scope[1])):
                        results[i] = answer
                except Exception:  # one bad question must not fail the others: redo them one by one
                    pass
        for i, (question, scope) in enumerate(items):
            if results[i] is None:
                try:
                    results[i] = r.ask(question, scope=scope[0], article=scope[1])
                except Exception as e:
                    results[i] = e
        return results

    async def refresh(self) -> bool:
        """Pick up a newer index build if there is one; the old one keeps serving if it fails."""
        def go() -> bool:
            r = self._retriever_now()
            before = r.build_id
            changed = bool(r.refresh())
            if changed:
                log.info("index build %s replaced %s", r.build_id, before)
            return changed

        return await self._run(go)

    @property
    def retriever(self):
        """The open Retriever, None before `start`; its `articles()` and `built_at` only read the loaded
        build, so the event loop may call them directly."""
        return self._retriever

    @property
    def build_id(self) -> str | None:
        return None if self._retriever is None else self._retriever.build_id

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
