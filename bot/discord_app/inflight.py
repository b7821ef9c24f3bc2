"""The questions being answered right now, so a shutdown can finish them or tell their askers.

On SIGTERM the bot stops taking questions (`closing`), lets the ones in flight finish for most of
the grace period, then cancels those still waiting for the retriever and edits their "thinking…"
reply to "restarting, please ask again". An answer already being delivered is let through.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)

TELL_SHARE = 0.25  # of the grace period kept for telling the askers that could not be answered
TELL_MAX = 1.5
TELL_MIN = 0.5  # even with no grace at all, the askers are told


@dataclass
class Job:
    """One question in flight. `tell` edits its reply to the "restarting" notice."""

    tell: Callable[[], Awaitable[object]]
    task: asyncio.Task
    delivering: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class DrainReport:
    finished: int = 0
    told: int = 0
    untold: int = 0


class InFlight:
    def __init__(self) -> None:
        self.closing = False
        self._jobs: dict[asyncio.Task, Job] = {}
        self._hurry = asyncio.Event()

    def hurry(self) -> None:
        """Stop waiting for answers now (a second Ctrl-C): tell the askers and go."""
        self._hurry.set()

    def __len__(self) -> int:
        return len(self._jobs)

    @contextlib.asynccontextmanager
    async def track(self, tell: Callable[[], Awaitable[object]]) -> AsyncIterator[Job]:
        """Around one question's answering and delivery (in the task that does them)."""
        task = asyncio.current_task()
        assert task is not None
        job = Job(tell, task)
        self._jobs[task] = job
        try:
            yield job
        finally:
            self._jobs.pop(task, None)

    async def drain(self, grace: float) -> DrainReport:
        """Finish or tell every job within about `grace` seconds."""
        self.closing = True
        report = DrainReport()
        started = len(self._jobs)
        if not self._jobs:
            log.info("shutdown drain: nothing in flight")
            return report
        tell_budget = max(TELL_MIN, min(TELL_MAX, grace * TELL_SHARE))
        log.info("finishing %d answer(s) in flight (up to %.1f s)", started, grace)
        finishing = asyncio.ensure_future(asyncio.wait(list(self._jobs), timeout=max(0.0, grace - tell_budget)))
        hurry = asyncio.ensure_future(self._hurry.wait())
        await asyncio.wait([finishing, hurry], return_when=asyncio.FIRST_COMPLETED)
        finishing.cancel()
        hurry.cancel()
        late = [job for job in self._jobs.values() if not job.task.done() and not job.delivering]
        for job in late:
            job.task.cancel()
        if late:
            await asyncio.wait([j.task for j in late], timeout=0.5)
            results = await asyncio.gather(*(asyncio.wait_for(j.tell(), tell_budget) for j in late),
                                           return_exceptions=True)
            report.told = sum(not isinstance(r, BaseException) for r in results)
            report.untold = len(late) - report.told
            for r in results:
                if isinstance(r, BaseException):
                    log.warning("could not tell an asker the bot is restarting (%s)", r.__class__.__name__)
        delivering = [job.task for job in self._jobs.values() if not job.task.done()]
        if delivering:  # answers already on their way: a little more time
            await asyncio.wait(delivering, timeout=tell_budget)
        report.finished = started - len(late) - sum(not t.done() for t in delivering)
        log.info("shutdown drain: %d answered, %d told to ask again, %d not reached", report.finished,
                 report.told, report.untold + sum(not t.done() for t in delivering))
        return report
