"""FAISS plumbing shared by the backends: reading an index file and checking what it holds."""
from __future__ import annotations

from pathlib import Path

import faiss


def read_index(path: str | Path, expected: type, kind: str) -> "faiss.Index":
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no {kind} index file at {p}")
    try:
        index = faiss.read_index(str(p))
    except RuntimeError as exc:  # FAISS reports a corrupt or foreign file as RuntimeError
        raise ValueError(f"{p} is not a readable FAISS index ({exc.args[0].splitlines()[0]})") from exc
    if not isinstance(index, expected):
        raise ValueError(
            f"{p} holds a {type(index).__name__}, not the {expected.__name__} of a {kind!r} index; "
            f"load it with the kind it was built with"
        )
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise ValueError(f"{p} is not an inner-product index (metric {index.metric_type})")
    return index


def write_index(index: "faiss.Index", path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(p))
