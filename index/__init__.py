"""Turns a corpus of articles into a searchable index and answers questions with verbatim passages.

Knows nothing of Discord: the bot and the CLI sit on top of `index.service.Retriever`.
"""

import os as _os

# Before FAISS's or the encoder's OpenMP runtime loads (it reads this once): idle OpenMP threads spin
# only briefly before they sleep. With libgomp's default (a long spin) they fight other processes
# and the bot's event loop for the CPU, and on a busy 2-core machine a query's p95 went from 47 ms
# to 232 ms; sleeping at once (OMP_WAIT_POLICY=PASSIVE) doubles the idle latency (11 -> 20-26 ms).
# Measured with two CPU-bound processes beside it; see docs/benchmarks.md.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "10000")
