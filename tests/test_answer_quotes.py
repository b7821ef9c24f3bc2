"""What an answer quotes: never a passage that answers nothing (index.answer.answers_nothing)."""
from __future__ import annotations

from index.answer import answers_nothing, asks_back, points_elsewhere
from index.model import Hit, Location, Passage


def hit(text: str, role: str = "paragraph") -> Hit:
    return Hit(1, 1.0, Passage(1, text, Location("d", "article", None, 1, None, 0, len(text), role=role)), (0, len(text)))


def test_a_question_title_and_a_see_also_line_answer_nothing():
    assert asks_back(hit("Un cookie : qu'est-ce que c'est ?", role="title"))
    assert points_elsewhere(hit("En savoir plus : Publication gênante sur les réseaux sociaux : signalez pour supprimer !"))
    assert points_elsewhere(hit("À lire aussi : Lyon prête des vélos-cargos"))
    assert points_elsewhere(hit("Read more: the board's statement"))
    assert points_elsewhere(hit("En savoir plus sur le piratage des comptes des réseaux sociaux ici."))


def test_text_that_answers_is_quoted_even_when_it_looks_alike():
    assert not answers_nothing(hit("Un cookie : qu'est-ce que c'est ?"))  # a paragraph asking is the article's own
    assert not answers_nothing(hit("Intelligence artificielle : Microsoft récupère Sam Altman", role="title"))
    assert not answers_nothing(hit("En savoir plus, c'est ce que demandent les lecteurs depuis vendredi : " + "x" * 200))
    assert not answers_nothing(hit("Lire les conditions générales avant de signer."))
    assert not answers_nothing(hit("Pour aller plus loin, vous pouvez paramétrer votre navigateur."))
    assert not answers_nothing(hit("Read more than 20 books a year, the survey says."))
