"""Answer types: a question asking for an age, an amount, a date, a number or a place is not answered by
passages that hold none (index/ranking/answer_types.py, docs/retrieval.md "Answer types")."""
from __future__ import annotations

import pytest

from index.ranking.answer_types import AGE, AMOUNT, DATE, NUMBER, PLACE, SCHOOL, YEAR, asked_kind, holds


@pytest.mark.parametrize("question, kind", [
    ("How old is the new chief executive?", AGE),
    ("Quel âge a le fondateur de Twitch ?", AGE),
    ("How much does the Maia chip cost?", AMOUNT),
    ("What was the founder's salary?", AMOUNT),
    ("Combien coûte la puce Cobalt ?", AMOUNT),
    ("Quel est le montant du rachat ?", AMOUNT),
    ("Combien OpenAI va-t-elle débourser pour les puces ?", AMOUNT),  # the payer between "combien" and the verb
    ("Combien vont coûter les nouvelles puces ?", AMOUNT),
    ("Combien de chercheurs Microsoft va-t-il recruter ?", NUMBER),  # "combien de …": a count, whatever the verb
    ("In what year was the lab created?", YEAR),
    ("En quelle année Twitch a-t-il été créé ?", YEAR),
    ("When did the talks fail?", DATE),
    ("Quand le tweet a-t-il été publié ?", DATE),
    ("How many people left with him?", NUMBER),
    ("Combien de chercheurs suivent Brockman ?", NUMBER),
    ("Where is the new lab based?", PLACE),
    ("Dans quelle ville se trouve le laboratoire ?", PLACE),
    ("Selon l'article, où travaille Mira Murati ?", PLACE),
    ("Which university did the chief executive attend?", SCHOOL),
])
def test_the_kind_asked_for_is_read_from_the_opening_words(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize("question", [
    "Who replaced Mira Murati?",
    "Pourquoi le conseil a-t-il licencié son patron ?",
    "Do we know how many employees are leaving?",  # a yes/no question: "how many" inside it asks for nothing
    "Le géant a-t-il précisé combien de personnes il embauche ?",
    "Un lecteur décrit-il ce milieu comme un monde où il faut manger les autres ?",  # "où" in a relative clause
    "Où dois-je déclarer mon fichier ?",  # advice: the answer is a procedure ("auprès de la CNIL"), not a place
    "How much time should I keep the records?",
])
def test_questions_that_ask_for_no_kind(question):
    assert asked_kind(question) is None


def test_passages_hold_a_kind_on_lenient_evidence():
    assert holds("OpenAI en est donc à trois CEO depuis vendredi.", NUMBER)
    assert holds("une vague de 400 licenciements", NUMBER)
    assert not holds("Tweet supprimé.", NUMBER)
    assert holds("la société a investi des milliards de dollars", AMOUNT)
    assert not holds("les différences de salaires et de traitement des impôts", AMOUNT)
    assert holds("Âgé de 38 ans, il dirige", AGE) and holds("a 38-year-old engineer", AGE)
    assert not holds("en mars 2023, juste avant", AGE)
    assert holds("en mars 2023", YEAR) and not holds("vendredi soir", YEAR)
    assert holds("vendredi soir", DATE) and holds("Ce matin, Satya Nadella a publié", DATE)
    assert not holds("la mission continue", DATE)
    assert holds("il a étudié à Stanford", SCHOOL) and not holds("la mission continue", SCHOOL)


def test_a_place_is_new_to_the_question_and_no_camel_case_brand():
    assert holds("La société, basée à Redmond, recrute.", PLACE)
    assert holds("le statut non lucratif aux USA", PLACE)
    assert not holds("son soutien à OpenAI", PLACE)  # a brand after "à", not a city
    assert not holds("Il travaille à Redmond.", PLACE, question="Où se trouve Redmond ?")  # nothing new
    assert not holds("pas dans l’Association tout en haut", PLACE)  # "l'" + a capital: an organisation


@pytest.mark.parametrize("question, kind", [
    ("How old is Satya Nadella?", AGE),
    ("Quel salaire Microsoft offre-t-il à Sam Altman ?", AMOUNT),
    ("Where was Greg Brockman born?", PLACE),
])
def test_an_absent_fact_of_an_asked_kind_is_not_answered(retriever, question, kind):
    answer = retriever.ask(question)
    assert not answer.answered and answer.extra["missing_kind"] == kind
    assert answer.hits  # the closest passages are still offered, as for any abstention


@pytest.mark.parametrize("question", [
    "Combien de licenciements a connu Twitch ?",  # "400 licenciements"
    "How much has Microsoft invested in OpenAI?",  # "des milliards de dollars"
    "Quand Satya Nadella a-t-il annoncé la nouvelle équipe ?",  # "Ce matin"
])
def test_a_fact_of_an_asked_kind_the_article_gives_is_answered(retriever, question):
    answer = retriever.ask(question)
    assert answer.answered and answer.extra["missing_kind"] is None


def test_answer_types_can_be_turned_off(built_settings):
    from index.service import Retriever

    retriever = Retriever.open(built_settings.with_(answer_kind_passages=0), build_if_missing=False)
    answer = retriever.ask("How old is Satya Nadella?")
    assert answer.answered and answer.extra["missing_kind"] is None


def test_among_the_best_few_the_passage_holding_the_kind_asked_for_comes_first(built_settings):
    from index.service import Retriever

    question = "Combien de membres compte le conseil d'administration ?"  # the board "composé de quatre personnes"
    ordered = Retriever.open(built_settings, build_if_missing=False).ask(question)
    plain = Retriever.open(built_settings.with_(answer_kind_order=0.0), build_if_missing=False).ask(question)
    assert "quatre personnes" in ordered.hits[0].passage.text
    assert "quatre personnes" not in plain.hits[0].passage.text  # second without the answer type
    assert [h.score for h in ordered.hits] == sorted((h.score for h in ordered.hits), reverse=True)


@pytest.mark.parametrize("question", ["How many people sit on the board now?", "En quelle année OpenAI a-t-elle été fondée ?",
                                      "Combien de salariés menacent de partir ?", "What did Altman reply to Nadella?"])
def test_the_answer_type_reorders_the_best_few_and_never_changes_which_they_are(built_settings, question):
    from index.service import Retriever

    settings = built_settings
    ordered = Retriever.open(settings, build_if_missing=False).ask(question)
    plain = Retriever.open(settings.with_(answer_kind_order=0.0), build_if_missing=False).ask(question)
    few = settings.answer_kind_passages
    assert {h.passage.id for h in ordered.hits[:few]} == {h.passage.id for h in plain.hits[:few]}
    assert [h.passage.id for h in ordered.hits[few:]] == [h.passage.id for h in plain.hits[few:]]
    assert ordered.answered == plain.answered  # the abstention reads the same passages


@pytest.mark.parametrize("question, kind", [
    ("Who has Microsoft taken on from OpenAI?", "person"),
    ("Qui a remplacé Mira Murati ?", "person"),
    ("Quel journaliste doute de l'histoire ?", "person"),
    ("Which researchers left with him?", "person"),
    ("Qui est Emmett Shear ?", None),  # who someone is: a description, not a name
    ("Combien de chercheurs partent ?", NUMBER),  # the abstaining kinds come first
])
def test_a_person_is_a_kind_the_best_passages_are_ordered_by(question, kind):
    from index.ranking.answer_types import asked_order_kind

    assert asked_order_kind(question) == kind
    assert asked_kind(question) == (None if kind == "person" else kind)  # never a reason to abstain


def test_a_new_name_is_a_first_and_last_name_the_question_does_not_use():
    from index.ranking.answer_types import holds_new_name

    text = "Greg Brockman cite Jakub Pachocki et Szymon Sidor."
    assert holds_new_name(text, "Qui part avec Brockman ?")
    assert not holds_new_name("Greg Brockman démissionne. Microsoft recrute.", "Qui part avec Brockman ?")
    assert not holds_new_name("Le conseil a licencié son patron.", "Qui ?")  # no full name at all


def test_a_who_question_puts_the_passage_naming_someone_new_first(built_settings):
    from index.service import Retriever

    question = "Who has Microsoft taken on from OpenAI?"  # the title: "Microsoft récupère Sam Altman, Greg Brockman…"
    ordered = Retriever.open(built_settings, build_if_missing=False).ask(question)
    plain = Retriever.open(built_settings.with_(answer_kind_order=0.0), build_if_missing=False).ask(question)
    assert "récupère Sam Altman, Greg Brockman" in ordered.hits[0].passage.text
    assert "récupère Sam Altman, Greg Brockman" not in plain.hits[0].passage.text


@pytest.mark.parametrize("question, kind", [
    ("Qu'a répondu Altman après l'annonce ?", "quote"),
    ("Comment le cofondateur a-t-il réagi à son renvoi ?", "quote"),
    ("What did Microsoft say at first?", "quote"),
    ("How did the board respond?", "quote"),
    ("Quelle a été la réaction du ministre ?", "quote"),
    ("Comment Microsoft a-t-il recruté Altman ?", None),  # how, not a reaction
])
def test_a_quotation_is_a_kind_the_best_passages_are_ordered_by(question, kind):
    from index.ranking.answer_types import asked_order_kind, holds_quotation

    assert asked_order_kind(question) == kind
    assert asked_kind(question) is None  # never a reason to abstain
    assert holds_quotation("Il a dit « la mission continue » lundi.") and holds_quotation("He wrote “we are back”.")
    assert not holds_quotation("Il a dit que la mission continuait.")


def _ranker_view(texts, docs, answer_kind=0.5, among=3):
    """What Ranker._kind_first reads of a ranker: its weights, the passages' texts and documents."""
    from types import SimpleNamespace

    import numpy as np

    from index.ranking import Weights

    passages = [SimpleNamespace(text=t) for t in texts]
    return SimpleNamespace(weights=Weights(answer_kind=answer_kind, answer_kind_among=among),
                           stored=SimpleNamespace(passages=passages),
                           documents=SimpleNamespace(doc_of=np.array(docs)))


def test_the_answer_type_order_moves_only_the_best_few_and_in_the_archive_keeps_the_places_scores():
    import numpy as np

    from index.ranking.answer_types import QUOTE, asked_order_kind
    from index.ranking.fusion import Ranker

    texts = ["Le conseil a licencié son patron.", "Il a répondu « la mission continue ».",
             "Microsoft recrute.", "Un autre a dit « bravo »."]
    question = "Qu'a répondu le patron ?"
    kind = asked_order_kind(question)
    assert kind == QUOTE
    cand, order = np.arange(4), np.array([0, 1, 2, 3])
    shown = np.array([2.0, 1.8, 1.0, 0.9])
    view = _ranker_view(texts, [0, 0, 0, 0])
    new_order, new_shown = Ranker._kind_first(view, question, cand, order, shown, None, kind)  # one ranking
    assert list(new_order) == [1, 0, 2, 3]  # 1.8 + 0.5 > 2.0; the quote at rank 4 stays out of the best three
    assert list(new_shown) == [2.3, 2.0, 1.0, 0.9]
    far = Ranker._kind_first(view, question, cand, order, np.array([3.0, 1.8, 1.0, 0.9]), None, kind)
    assert list(far[0]) == [0, 1, 2, 3]  # too far behind: no change

    inner = np.array([1.0, 0.8, 0.5, 0.1])  # the order within each document (article-alone units)
    view = _ranker_view(texts, [0, 1, 0, 0])  # passage 1 in another document: it cannot trade with 0
    places = np.array([38.0, 33.0, 28.0, 20.0])  # over many documents: the places' scores
    new_order, new_shown = Ranker._kind_first(view, question, cand, order, places, inner, kind)
    assert list(new_order) == [0, 1, 2, 3] and list(new_shown) == list(places)
    view = _ranker_view(texts, [0, 0, 1, 1])
    new_order, new_shown = Ranker._kind_first(view, question, cand, order, places, inner, kind)
    assert list(new_order) == [1, 0, 2, 3] and list(new_shown) == list(places)


def test_whether_to_answer_is_judged_on_the_passage_that_led_before_the_answer_type_order(built_settings):
    import numpy as np

    from index.answer import should_abstain
    from index.ranking.fusion import Ranked

    settings = built_settings  # answer_min_score_alone 0.85: above it a question is answered on meaning alone
    ids, scores, sentence = np.array([7, 3]), np.array([2.3, 2.0]), np.array([0, 0])
    moved = Ranked(ids, scores, np.array([0.80, 0.86]), sentence, lead_dense=0.86)  # 3 led; 7 moved ahead of it
    assert not should_abstain(moved, settings, evidence=0.0)
    assert should_abstain(Ranked(ids, scores, np.array([0.80, 0.86]), sentence), settings, evidence=0.0)
