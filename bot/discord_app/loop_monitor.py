"""Measures how long the event loop is blocked, and writes a small status file for health checks.

A task sleeps for a short tick and records how late it wakes up: that lateness is a stall the
gateway heartbeats and the 3-second interaction deadline would suffer too. The loop thread's CPU
time over the same tick tells the two causes apart: a stall with CPU time is work done on the
loop (something to fix), one without is the thread waiting (for the CPU on a busy machine, or the GIL).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Callable

from index.private_files import write_private

from .processes import identity, started_at

log = logging.getLogger(__name__)

TICK = 0.05
NOTABLE_MS = 20.0  # stalls at least this long are kept (with their time) in the status file


class LoopMonitor:
    def __init__(self, status_path: Path, status: Callable[[], dict], write_every: float = 2.0):
        self.status_path = status_path
        self._status = status
        self._write_every = write_every
        self.max_stall_ms = 0.0
        self.window_max_ms = 0.0  # since the last status write
        self.notable: deque[tuple[float, float, float]] = deque(maxlen=500)  # (unix time, stall ms, loop CPU ms)
        self._task: asyncio.Task | None = None
        self._process = identity(os.getpid())  # with the pid, tells the health check a reused pid apart
        self._started = started_at(os.getpid())  # for people reading the file

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="verbatim-loop-monitor")

    async def _run(self) -> None:
        last_write = 0.0
        while True:
            before, cpu_before = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK)
            stall = max(0.0, (time.perf_counter() - before - TICK) * 1000)
            cpu = (time.thread_time() - cpu_before) * 1000
            self.max_stall_ms = max(self.max_stall_ms, stall)
            self.window_max_ms = max(self.window_max_ms, stall)
            if stall >= NOTABLE_MS:
                self.notable.append((round(time.time(), 3), round(stall, 1), round(cpu, 1)))
            if time.monotonic() - last_write >= self._write_every:
                last_write = time.monotonic()
                self.write()
                self.window_max_ms = 0.0

    def write(self) -> None:
        """Atomically replace the status file (read by the Docker HEALTHCHECK and the tests); owner-only."""
        data = {"at": time.time(), "pid": os.getpid(), "process": self._process, "started": self._started, "max_loop_stall_ms": round(self.max_stall_ms, 1),
                "recent_loop_stall_ms": round(self.window_max_ms, 1),
                "stalls": list(self.notable), **self._status()}
        try:
            write_private(self.status_path, json.dumps(data))
        except OSError as e:  # a full disk must not take the bot down
            log.warning("cannot write %s: %s", self.status_path, e)

    def stop(self) -> None:
        if self._task:
            self._task.cancel()
