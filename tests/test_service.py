"""The Retriever facade: batches answer exactly like single questions, on both backends (files, PostgreSQL)."""
from __future__ import annotations

import pytest

from index.errors import BadQuestion


def test_ask_many_matches_ask(backend_retriever):
    retriever = backend_retriever
    questions = ["Qui est Emmett Shear ?", "Did Greg Brockman resign?", "What is the best pizza topping?"]
    batch = retriever.ask_many(questions)
    assert [a.question for a in batch] == questions
    for question, answer in zip(questions, batch):
        single = retriever.ask(question)
        assert [h.passage.id for h in answer.hits] == [h.passage.id for h in single.hits]
        assert answer.answered == single.answered and answer.language == single.language


def test_ask_many_refuses_a_bad_question_before_any_work(backend_retriever):
    retriever = backend_retriever
    with pytest.raises(BadQuestion):
        retriever.ask_many(["Qui est Emmett Shear ?", ""])


def test_ask_many_of_no_question_is_no_answer(backend_retriever):
    assert backend_retriever.ask_many([]) == []  # a batch filtered down to nothing (answerable questions only)
