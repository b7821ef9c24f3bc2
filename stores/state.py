"""The shared state as the bot sees it: three parts and one close."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class SharedState:
    """`answers`: the methods of the bot's `AnswersStore` (blocking; the bot calls them from threads).
    `limits`: `check(user_id, guild_id) -> Refusal | None` (blocking). `bindings`: the methods of the
    bot's `ArticleBindings` (async ones with a deadline, blocking `resolve_now` and `forget`).
    Every failure to reach the database raises `index.errors.DatabaseUnavailable`."""

    answers: Any
    limits: Any
    bindings: Any
    _close: Callable[[], None]
    where: str = ""  # the database URL without its password, for logs

    def close(self) -> None:
        self._close()
