""""The article mentions X but does not give an age": the reply to an on-topic question whose fact the article
does not give (bot/render/absent_fact.py, index.evidence.mentioned_names), in the terminal, the JSON contract
and Discord, in the question's language."""
from __future__ import annotations

from bot.render.absent_fact import absent_fact, absent_fact_sentence
from bot.render.discord_payloads import answer_payload
from bot.render.text import answer_json, answer_text
from index.evidence import mentioned_names
from index.model import Answer, Hit, Location, Passage
from index.ranking.keyword import Vocabulary


def _answer(language: str, kind: str | None, mentions: list[str], answered: bool = False) -> Answer:
    text = "Satya Nadella a publié ce matin un message sur X."
    loc = Location(doc_id="d", kind="article", section=None, paragraph=1, comment=None, start=0, end=len(text))
    hit = Hit(rank=1, score=1.0, passage=Passage(id=0, text=text, location=loc), highlight=(0, len(text)))
    return Answer(question="?", language=language, answered=answered, hits=(hit,), quoted=(hit,) if answered else (),
                  build_id="b", extra={"missing_kind": kind, "mentions": mentions})


def test_the_reply_names_what_the_article_mentions_and_what_it_does_not_say():
    assert absent_fact_sentence(_answer("en", "age", ["Satya Nadella"])) == \
        "The article mentions Satya Nadella but does not give an age."
    assert absent_fact_sentence(_answer("fr", "amount", ["Microsoft", "Sam Altman"])) == \
        "L’article mentionne Microsoft et Sam Altman, mais ne donne pas de montant."
    assert absent_fact_sentence(_answer("fr", "place", [])) == "L’article ne donne pas de lieu."
    # not abstained for want of a fact: no such sentence, the usual wording stays
    assert absent_fact_sentence(_answer("en", None, [])) is None
    assert absent_fact_sentence(_answer("en", "age", ["X"], answered=True)) is None


def test_terminal_json_and_discord_say_it_and_still_offer_the_closest_passage():
    answer = _answer("en", "age", ["Satya Nadella"])
    text = answer_text(answer)
    assert text.startswith("The article mentions Satya Nadella but does not give an age.\nClosest passage")
    assert "That is not in the article" not in text
    data = answer_json(answer)
    assert data["absent_fact"] == {"kind": "age", "mentions": ["Satya Nadella"]} and data["answer"] == text
    assert answer_json(_answer("en", None, []))["absent_fact"] is None
    embed = answer_payload(_answer("fr", "age", ["Satya Nadella"]), 7).embeds[0]
    assert embed["description"] == ("L’article mentionne Satya Nadella, mais ne donne pas d’âge. "
                                    "Le passage le plus proche est dans **Sources**.")


def test_names_typed_by_the_user_cannot_ping_or_format_in_discord():
    embed = answer_payload(_answer("en", "age", ["@everyone", "*Bold*"]), 1).embeds[0]
    assert "@everyone" not in embed["description"] and "*Bold*" not in embed["description"]


def test_the_names_are_those_the_question_shares_with_the_corpus():
    vocabulary = Vocabulary.fit(["Satya Nadella a accueilli Sam Altman chez Microsoft, selon OpenAI."])
    assert mentioned_names("How old is Satya Nadella?", vocabulary) == ("Satya Nadella",)
    assert mentioned_names("Quel est le salaire d'Altman ?", vocabulary) == ("Altman",)  # elision taken off
    assert mentioned_names("What is OpenAI's valuation?", vocabulary) == ("OpenAI",)
    assert mentioned_names("Combien Microsoft va-t-il payer Sam Altman ?", vocabulary) == ("Microsoft", "Sam Altman")
    assert mentioned_names("How old is Elon Musk?", vocabulary) == ()  # names the corpus never mentions


def test_an_absent_age_is_answered_with_the_explicit_reply(retriever):
    answer = retriever.ask("How old is Satya Nadella?")
    assert not answer.answered and absent_fact(answer) == {"kind": "age", "mentions": ["Satya Nadella"]}
    assert answer_text(answer).startswith("The article mentions Satya Nadella but does not give an age.")
    french = retriever.ask("Quel salaire Microsoft offre-t-il à Sam Altman ?")
    assert absent_fact_sentence(french) == "L’article mentionne Microsoft et Sam Altman, mais ne donne pas de montant."
