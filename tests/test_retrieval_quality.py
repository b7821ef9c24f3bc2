"""The right passage first, in French and in English, and honest abstention off-topic.

These questions are written for the tests, away from the dev set, in the dev set's style.
"""
from __future__ import annotations

import pytest

RANK_ONE = [
    ("Qui remplace Mira Murati à la tête d'OpenAI ?", "co-fondateurs de Twitch"),
    ("Quelles puces Microsoft a-t-il dévoilées ?", "Azure Maia 100"),
    ("Quel lecteur compare la situation à un monde de requins ?", "monde de requin"),
    ("Quelle condition Sam Altman avait-il posée pour revenir ?", "ultimatum"),
    ("Who is the interim CEO of OpenAI now?", "Emmett Shear est en intérim"),
    ("What condition did Altman set for coming back?", "ultimatum"),
    ("Which comment says the story will become a Netflix film?", "biopic sur Netflix"),
    ("What did Satya Nadella announce in his tweet?", "création d’une nouvelle équipe de recherche"),
]
OFF_TOPIC = [
    "What is the recipe for ratatouille?",
    "Quelle est la capitale de l'Australie ?",
    "How do I reset my iPhone?",
    # these share everyday words with the article ("temps", "équipe", "compte", "jouer", "open"): not evidence
    "Quel temps fera-t-il à Paris demain ?",
    "Combien de joueurs compte une équipe de rugby ?",
    "Comment apprendre à jouer de la guitare ?",
    "What time does the museum open on Sundays?",
]


@pytest.mark.parametrize("question, expected", RANK_ONE)
def test_right_passage_first(retriever, question, expected):
    answer = retriever.ask(question)
    assert answer.answered, question
    assert expected in answer.hits[0].passage.text
    assert answer.quoted[0] == answer.hits[0]


# English in everyday words: no name, no word of the article; found through index.ranking.alignment
ENGLISH_EVERYDAY = [
    ("What did the French digital minister offer?", "Jean-Noël Barrot"),
    ("Did the talks to bring back the founder succeed?", "Elles n’ont finalement pas abouti"),
]


@pytest.mark.parametrize("question, expected", ENGLISH_EVERYDAY)
def test_english_question_in_everyday_words_is_answered(retriever, question, expected):
    answer = retriever.ask(question)
    assert answer.answered, answer.extra
    assert any(expected in h.passage.text for h in answer.hits[:3])  # its translated words join the keyword side


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_abstains_off_topic_but_still_offers_the_closest_passage(retriever, question):
    answer = retriever.ask(question)
    assert not answer.answered and answer.quoted == ()
    assert len(answer.hits) == 5


def test_highlight_is_the_sentence_that_answers(retriever):
    answer = retriever.ask("Qui a pris la place de Mira Murati ?")
    hit = answer.hits[0]
    start, end = hit.highlight
    assert "Emmett Shear" in hit.passage.text[start:end]


def test_answer_language_follows_the_question(retriever):
    assert retriever.ask("Who is Emmett Shear?").language == "en"
    assert retriever.ask("Qui est Emmett Shear ?").language == "fr"
