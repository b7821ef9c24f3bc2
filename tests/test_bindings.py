"""Channel and thread article bindings in the real SQLite file shared with the answers store."""
from __future__ import annotations

import asyncio

from bot.discord_app.answers_store import AnswersStore
from bot.discord_app.bindings import ArticleBindings, Binding


def test_bindings_resolve_by_strength_and_share_the_answers_file(tmp_path):
    path = tmp_path / "discord" / "answers.sqlite3"
    answers = AnswersStore(path)  # the answers' tables and ours live side by side
    bindings = ArticleBindings(path)

    async def go():
        assert await bindings.resolve(1) is None
        await bindings.bind(1, 9, "a", user_id=5)  # channel 1 bound to a
        await bindings.remember_thread(2, 9, "b")  # thread 2 (of channel 1) remembered b
        await bindings.remember_thread(2, 9, "c")  # never changes a remembered article
        thread_of_bound = await bindings.resolve(2, parent_id=1)
        await bindings.remember_thread(3, 9, "b")  # thread 3 of an unbound channel 4
        remembered = await bindings.resolve(3, parent_id=4)
        await bindings.bind(2, 9, "d", user_id=5)  # an explicit binding of the thread wins
        own = await bindings.resolve(2, parent_id=1)
        cleared = await bindings.clear(1)
        after = await bindings.resolve(5, parent_id=1)
        return thread_of_bound, remembered, own, cleared, after

    thread_of_bound, remembered, own, cleared, after = asyncio.run(go())
    assert thread_of_bound == Binding(1, "a", "set")
    assert remembered == Binding(3, "b", "thread")
    assert own == Binding(2, "d", "set")
    assert cleared == Binding(1, "a", "set") and after is None
    bindings.forget(3, "b")
    assert bindings.resolve_now(3) is None
    bindings.close()
    again = ArticleBindings(path)  # survives a restart
    assert again.resolve_now(2) == Binding(2, "d", "set")
    assert answers.count() == 0
    again.close()
    answers.close()
