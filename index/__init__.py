"""Turns a corpus of articles into a searchable index and answers questions with verbatim passages.

Knows nothing of Discord: the bot and the CLI sit on top of `index.service.Retriever`.
"""

import os as _os

# Before FAISS's or the encoder's OpenMP runtime loads (it reads this once): idle OpenMP threads must
# sleep, not spin. Spinning threads fight other processes and the bot's event loop for the CPU; on a
# busy 2-core machine one query then takes seconds instead of tens of milliseconds.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
