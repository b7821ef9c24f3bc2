"""A one-line progress bar on stderr, only when stderr is a terminal."""
from __future__ import annotations

import sys
from typing import Callable, TextIO


def progress_bar(label: str, stream: TextIO = sys.stderr, width: int = 30) -> Callable[[int, int], None] | None:
    if not stream.isatty():
        return None

    def update(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return update
