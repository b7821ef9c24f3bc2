"""One thread owns the Retriever: every encode, search and index refresh runs there, in order.

The event loop only awaits futures, so heartbeats keep flowing while questions are answered,
and the encoder (not known to be thread-safe) is never used from two threads at once.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)

WARM_UP_QUESTION = "De quoi parle l'article ?"


class RetrieverWorker:
    def __init__(self, open_retriever: Callable[[], Any]):
        """`open_retriever` is called once, in the worker thread (loading the model takes seconds)."""
        self._open = open_retriever
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-retriever")
        self._retriever: Any = None
        self._pending = 0
        self.answered = 0

    @property
    def pending(self) -> int:
        """Questions queued or running (a load figure for logs and the health file)."""
        return self._pending

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

    async def ask(self, question: str, scope: str = "all"):
        self._pending += 1
        try:
            answer = await self._run(lambda: self._retriever_now().ask(question, scope=scope))
            self.answered += 1
            return answer
        finally:
            self._pending -= 1

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
    def build_id(self) -> str | None:
        return None if self._retriever is None else self._retriever.build_id

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
